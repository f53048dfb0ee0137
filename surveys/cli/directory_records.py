"""`rapport directory organisation|person|relationship`: one directory record at a time,
through the same functions as the console's forms (surveys.directory.editing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import click
from piccolo.custom_types import Combinable

from surveys.cli._run import actor, console, run
from surveys.directory.audit import Act
from surveys.directory.editing import (
    DirectoryEditError,
    OrganisationFields,
    PersonFields,
    create_organisation,
    create_person,
    create_relationship,
    set_contacts,
    set_organisation_active,
    set_person_active,
    set_relationship_active,
    update_organisation,
    update_person,
)
from surveys.directory.listing import organisation_record, person_record
from surveys.directory.organisations import Organisation, OrgKind, Person, Relationship
from surveys.directory.rules import (
    DirectoryValueError,
    checked_slug,
    country_code,
    kind_of,
    language_of,
    normal_email,
    role_of,
)
from surveys.infra.errors import RapportError

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., None])


def _act() -> Act:
    return Act(actor(), dt.datetime.now(dt.UTC))


def _checked(option: str, check: Callable[[str], T], text: str) -> T:
    """A value through its rule, or a one-line error naming the option."""
    try:
        return check(text)
    except DirectoryValueError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


async def _id_of(slug: str, kind: OrgKind | None = None) -> int:
    """The id of the organisation with this slug (of this kind, if given)."""
    where: Combinable = Organisation.slug == checked_slug(slug)
    if kind is not None:
        where &= Organisation.kind == kind.value
    row = await Organisation.select(Organisation.id).where(where).first()
    if row is None:
        what = f"{kind.value} " if kind else "organisation "
        raise RapportError(f"no {what}has the short name {slug!r}")
    return int(row["id"])


async def _person_id(email: str) -> int:
    row = await Person.select(Person.id).where(Person.email == normal_email(email)).first()
    if row is None:
        raise RapportError(f"no person has the e-mail {email}")
    return int(row["id"])


async def _relationship_id(sponsor: str, site: str) -> int:
    sponsor_id = await _id_of(sponsor, OrgKind.sponsor)
    site_id = await _id_of(site, OrgKind.site)
    row = (
        await Relationship.select(Relationship.id)
        .where((Relationship.sponsor == sponsor_id) & (Relationship.site == site_id))
        .first()
    )
    if row is None:
        raise RapportError(f"{sponsor} does not work with {site}")
    return int(row["id"])


def _refused(error: DirectoryEditError) -> click.ClickException:
    return click.ClickException(f"{error.field}: {error}")


@click.group("organisation")
def organisation() -> None:
    """One organisation: add, edit, deactivate, reactivate."""


def _organisation_options(command: F) -> F:
    for option in reversed(
        (
            click.option("--country", help="ISO 3166 two-letter code, such as DE."),
            click.option("--network", help="The short name of the site's network."),
            click.option("--acts-for", help="The short name of the sponsor a CRO acts for."),
            click.option("--external-id", help="The organisation's id in your CTMS."),
            click.option("--area", "areas", multiple=True, help="A therapeutic area (repeat)."),
        )
    ):
        command = option(command)
    return command


@organisation.command("add")
@click.argument("name")
@click.option("--kind", required=True, help="sponsor, cro, site or network.")
@_organisation_options
def organisation_add(
    name: str,
    kind: str,
    country: str | None,
    network: str | None,
    acts_for: str | None,
    external_id: str | None,
    areas: tuple[str, ...],
) -> None:
    """Add the organisation NAME (its short name is made from the name)."""
    org_kind = _checked("--kind", kind_of, kind)

    async def add() -> int:
        fields = OrganisationFields(
            name=name,
            kind=org_kind,
            country=_checked("--country", country_code, country or ""),
            network=await _id_of(network, OrgKind.network) if network else None,
            acts_for=await _id_of(acts_for, OrgKind.sponsor) if acts_for else None,
            external_id=external_id,
            areas=tuple(a.strip().lower().replace(" ", "_") for a in areas),
        )
        return await create_organisation(fields, _act())

    try:
        made = run(add)
    except DirectoryEditError as error:
        raise _refused(error) from None
    console.print(f"Added {name} (organisation {made}).")


@organisation.command("edit")
@click.argument("slug")
@click.option("--name", help="A new name (the short name stays).")
@_organisation_options
def organisation_edit(
    slug: str,
    name: str | None,
    country: str | None,
    network: str | None,
    acts_for: str | None,
    external_id: str | None,
    areas: tuple[str, ...],
) -> None:
    """Change what is given of the organisation SLUG; the rest stays."""

    async def edit() -> None:
        organisation_id = await _id_of(slug)
        stored = await organisation_record(organisation_id)
        assert stored is not None  # found by its slug just now
        fields = OrganisationFields(
            name=name or stored["name"],
            kind=OrgKind(stored["kind"]),
            country=(
                _checked("--country", country_code, country)
                if country is not None
                else stored["country"]
            ),
            network=await _id_of(network, OrgKind.network) if network else stored["network"],
            acts_for=await _id_of(acts_for, OrgKind.sponsor) if acts_for else stored["acts_for"],
            external_id=external_id if external_id is not None else stored["external_id"],
            areas=tuple(areas) if areas else tuple(stored["areas"]),
        )
        await update_organisation(organisation_id, fields, _act())

    try:
        run(edit)
    except DirectoryEditError as error:
        raise _refused(error) from None
    console.print(f"Saved {slug}.")


@organisation.command("deactivate")
@click.argument("slug")
def organisation_deactivate(slug: str) -> None:
    """Take SLUG, its people and its relationships out of future cycles (nothing is deleted)."""

    async def off() -> None:
        await set_organisation_active(await _id_of(slug), False, _act())

    run(off)
    console.print(f"Deactivated {slug}, its people and its relationships.")


@organisation.command("reactivate")
@click.argument("slug")
def organisation_reactivate(slug: str) -> None:
    """Bring SLUG back (its people and relationships are reactivated one by one)."""

    async def on() -> None:
        await set_organisation_active(await _id_of(slug), True, _act())

    run(on)
    console.print(f"Reactivated {slug}.")


@click.group("person")
def person() -> None:
    """One person: add, edit, deactivate, reactivate."""


RECEIVES = {"yes": True, "no": False, "role": None}


@person.command("add")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--organisation", "organisation_slug", required=True, help="Short name.")
@click.option("--role", required=True, help="pi, coordinator, site_director, cra, …")
@click.option("--language", default="en", show_default=True)
@click.option(
    "--receives-results",
    type=click.Choice(list(RECEIVES)),
    default="role",
    show_default=True,
    help="Whether scorecards are e-mailed to them (role: as the role decides).",
)
def person_add(
    email: str,
    name: str,
    organisation_slug: str,
    role: str,
    language: str,
    receives_results: str,
) -> None:
    """Add the person with EMAIL to an organisation."""

    async def add() -> int:
        fields = PersonFields(
            name=name,
            email=_checked("email", normal_email, email),
            role=_checked("--role", role_of, role),
            organisation=await _id_of(organisation_slug),
            language=_checked("--language", language_of, language),
            receives_results=RECEIVES[receives_results],
        )
        return await create_person(fields, _act())

    try:
        made = run(add)
    except DirectoryEditError as error:
        raise _refused(error) from None
    console.print(f"Added {name} (person {made}).")


@person.command("edit")
@click.argument("email")
@click.option("--name")
@click.option("--new-email")
@click.option("--organisation", "organisation_slug", help="Short name.")
@click.option("--role")
@click.option("--language")
@click.option("--receives-results", type=click.Choice(list(RECEIVES)))
def person_edit(
    email: str,
    name: str | None,
    new_email: str | None,
    organisation_slug: str | None,
    role: str | None,
    language: str | None,
    receives_results: str | None,
) -> None:
    """Change what is given of the person with EMAIL; the rest stays."""

    async def edit() -> None:
        # lazy: surveys.cycles pulls in pandas (start-up time)
        from surveys.cycles.letters import address_corrected

        person_id = await _person_id(email)
        stored = await person_record(person_id)
        assert stored is not None  # found by e-mail just now
        fields = PersonFields(
            name=name or stored["name"],
            email=_checked("--new-email", normal_email, new_email)
            if new_email
            else stored["email"],
            role=_checked("--role", role_of, role or stored["role"]),
            organisation=(
                await _id_of(organisation_slug) if organisation_slug else stored["organisation"]
            ),
            language=language_of(language or stored["language"]),
            receives_results=(
                RECEIVES[receives_results] if receives_results else stored["receives_results"]
            ),
        )
        if await update_person(person_id, fields, _act()):
            await address_corrected(person_id)  # refused letters may go to the new address

    try:
        run(edit)
    except DirectoryEditError as error:
        raise _refused(error) from None
    console.print(f"Saved {new_email or email}.")


@person.command("deactivate")
@click.argument("email")
def person_deactivate(email: str) -> None:
    """Stop inviting EMAIL, sending them results and letting them sign in (nothing is deleted)."""

    async def off() -> None:
        await set_person_active(await _person_id(email), False, _act())

    run(off)
    console.print(f"Deactivated {email}.")


@person.command("reactivate")
@click.argument("email")
def person_reactivate(email: str) -> None:
    """Bring EMAIL back."""

    async def on() -> None:
        await set_person_active(await _person_id(email), True, _act())

    run(on)
    console.print(f"Reactivated {email}.")


@click.group("relationship")
def relationship() -> None:
    """One relationship between a sponsor and a site: add, name its contacts, end, resume."""


@relationship.command("add")
@click.argument("sponsor")
@click.argument("site")
@click.option("--cro", help="The short name of the CRO running it for the sponsor.")
def relationship_add(sponsor: str, site: str, cro: str | None) -> None:
    """Record that SPONSOR works with SITE (short names)."""

    async def add() -> int:
        return await create_relationship(
            await _id_of(sponsor, OrgKind.sponsor),
            await _id_of(site, OrgKind.site),
            await _id_of(cro, OrgKind.cro) if cro else None,
            _act(),
        )

    try:
        made = run(add)
    except DirectoryEditError as error:
        raise _refused(error) from None
    console.print(f"{sponsor} works with {site} (relationship {made}).")


@relationship.command("contacts")
@click.argument("sponsor")
@click.argument("site")
@click.argument("emails", nargs=-1)
def relationship_contacts(sponsor: str, site: str, emails: tuple[str, ...]) -> None:
    """Name who works on SPONSOR's relationship with SITE (all of them: EMAILS replace the list)."""

    async def name() -> None:
        people = [await _person_id(e) for e in emails]
        await set_contacts(await _relationship_id(sponsor, site), people, _act())

    try:
        run(name)
    except DirectoryEditError as error:
        raise _refused(error) from None
    console.print(f"{len(emails)} contact(s) on {sponsor} · {site}.")


@relationship.command("end")
@click.argument("sponsor")
@click.argument("site")
def relationship_end(sponsor: str, site: str) -> None:
    """Stop surveying SPONSOR's relationship with SITE (its results stay)."""

    async def off() -> None:
        await set_relationship_active(await _relationship_id(sponsor, site), False, _act())

    run(off)
    console.print(f"Ended {sponsor} · {site}.")


@relationship.command("resume")
@click.argument("sponsor")
@click.argument("site")
def relationship_resume(sponsor: str, site: str) -> None:
    """Survey SPONSOR's relationship with SITE again."""

    async def on() -> None:
        await set_relationship_active(await _relationship_id(sponsor, site), True, _act())

    run(on)
    console.print(f"Resumed {sponsor} · {site}.")


RECORD_GROUPS = (organisation, person, relationship)
"""Added to `rapport directory` beside its import."""
