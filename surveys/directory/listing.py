"""The directory as the console lists it: organisations, people and relationships,
searched, filtered and cut into pages by the database (a sponsor's directory may hold
tens of thousands of people), and one record with what an edit form needs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.custom_types import Combinable
from piccolo.query import Select

from surveys.directory.organisations import (
    Organisation,
    OrgKind,
    Person,
    Relationship,
    RelationshipContact,
    TherapeuticArea,
)
from surveys.infra.database import contains
from surveys.infra.pagination import Page, page_bounds


async def _rows(query: Select[Any], total: int, number: int, per_page: int) -> list[Any]:
    """The rows of page `number` of a query that matches `total` rows."""
    offset, limit = page_bounds(total, number, per_page)
    return list(await query.offset(offset).limit(limit))


@dataclass(frozen=True)
class OrganisationRow:
    """One organisation in the console's list."""

    id: int
    slug: str
    name: str
    kind: str
    country: str | None
    network: str | None
    acts_for: str | None
    external_id: str | None
    active: bool
    people: int


async def organisations_page(
    search: str = "",
    kind: OrgKind | None = None,
    active: bool | None = True,
    number: int = 1,
    per_page: int = 50,
) -> Page[OrganisationRow]:
    """Organisations whose name, slug or CTMS id holds `search`, by name."""
    where: Combinable = Organisation.id.is_not_null()
    if search.strip():
        where &= (
            contains(Organisation.name, search)
            | contains(Organisation.slug, search)
            | contains(Organisation.external_id, search)
        )
    if kind is not None:
        where &= Organisation.kind == kind.value
    if active is not None:
        where &= Organisation.active.eq(active)
    total = await Organisation.count().where(where)
    query = (
        Organisation.select(
            Organisation.id,
            Organisation.slug,
            Organisation.name,
            Organisation.kind,
            Organisation.country,
            Organisation.network._.name.as_alias("network_name"),
            Organisation.acts_for._.name.as_alias("acts_for_name"),
            Organisation.external_id,
            Organisation.active,
        )
        .where(where)
        .order_by(Organisation.name)
        .order_by(Organisation.id)
    )
    rows = await _rows(query, total, number, per_page)
    counts = await _people_at([int(r["id"]) for r in rows])
    return Page(
        tuple(
            OrganisationRow(
                id=int(r["id"]),
                slug=r["slug"],
                name=r["name"],
                kind=r["kind"],
                country=r["country"],
                network=r["network_name"],
                acts_for=r["acts_for_name"],
                external_id=r["external_id"],
                active=bool(r["active"]),
                people=counts.get(int(r["id"]), 0),
            )
            for r in rows
        ),
        number,
        per_page,
        total,
    )


async def _people_at(organisations: list[int]) -> dict[int, int]:
    """Active people per organisation, for the organisations of one page."""
    if not organisations:
        return {}
    rows = await Person.select(Person.organisation).where(
        Person.organisation.is_in(organisations) & Person.active.eq(True)
    )
    counts: dict[int, int] = {}
    for row in rows:
        counts[row["organisation"]] = counts.get(row["organisation"], 0) + 1
    return counts


@dataclass(frozen=True)
class PersonRow:
    """One person in the console's list."""

    id: int
    name: str
    email: str
    role: str
    language: str
    organisation: str
    organisation_id: int
    receives_results: bool | None
    active: bool
    erased: bool


async def people_page(
    search: str = "",
    organisation: int | None = None,
    role: str | None = None,
    active: bool | None = True,
    number: int = 1,
    per_page: int = 50,
) -> Page[PersonRow]:
    """People whose name, e-mail or organisation holds `search`, by name."""
    where: Combinable = Person.id.is_not_null()
    if search.strip():
        where &= (
            contains(Person.name, search)
            | contains(Person.email, search)
            | contains(Person.organisation._.name, search)
        )
    if organisation is not None:
        where &= Person.organisation == organisation
    if role:
        where &= Person.role == role
    if active is not None:
        where &= Person.active.eq(active)
    total = await Person.count().where(where)
    query = (
        Person.select(
            Person.id,
            Person.name,
            Person.email,
            Person.role,
            Person.language,
            Person.organisation,
            Person.organisation._.name.as_alias("organisation_name"),
            Person.receives_results,
            Person.active,
            Person.erased_at,
        )
        .where(where)
        .order_by(Person.name)
        .order_by(Person.id)
    )
    rows = await _rows(query, total, number, per_page)
    return Page(
        tuple(
            PersonRow(
                id=int(r["id"]),
                name=r["name"],
                email=r["email"],
                role=r["role"],
                language=r["language"],
                organisation=r["organisation_name"],
                organisation_id=int(r["organisation"]),
                receives_results=r["receives_results"],
                active=bool(r["active"]),
                erased=r["erased_at"] is not None,
            )
            for r in rows
        ),
        number,
        per_page,
        total,
    )


@dataclass(frozen=True)
class RelationshipRow:
    """One relationship in the console's list, with who works on it."""

    id: int
    sponsor: str
    site: str
    site_slug: str
    cro: str | None
    active: bool
    contacts: tuple[str, ...]
    started_on: dt.datetime


async def relationships_page(
    search: str = "",
    sponsor: int | None = None,
    active: bool | None = True,
    number: int = 1,
    per_page: int = 50,
) -> Page[RelationshipRow]:
    """Relationships whose sponsor, site or CRO name holds `search`, by sponsor and site."""
    where: Combinable = Relationship.id.is_not_null()
    if search.strip():
        where &= (
            contains(Relationship.sponsor._.name, search)
            | contains(Relationship.site._.name, search)
            | contains(Relationship.cro._.name, search)
        )
    if sponsor is not None:
        where &= Relationship.sponsor == sponsor
    if active is not None:
        where &= Relationship.active.eq(active)
    total = await Relationship.count().where(where)
    query = (
        Relationship.select(
            Relationship.id,
            Relationship.sponsor._.name.as_alias("sponsor_name"),
            Relationship.site._.name.as_alias("site_name"),
            Relationship.site._.slug.as_alias("site_slug"),
            Relationship.cro._.name.as_alias("cro_name"),
            Relationship.active,
            Relationship.started_on,
        )
        .where(where)
        .order_by(Relationship.sponsor._.name)
        .order_by(Relationship.site._.name)
    )
    rows = await _rows(query, total, number, per_page)
    contacts = await _contacts_of([int(r["id"]) for r in rows])
    return Page(
        tuple(
            RelationshipRow(
                id=int(r["id"]),
                sponsor=r["sponsor_name"],
                site=r["site_name"],
                site_slug=r["site_slug"],
                cro=r["cro_name"],
                active=bool(r["active"]),
                contacts=tuple(contacts.get(int(r["id"]), ())),
                started_on=r["started_on"],
            )
            for r in rows
        ),
        number,
        per_page,
        total,
    )


async def _contacts_of(relationships: list[int]) -> dict[int, list[str]]:
    if not relationships:
        return {}
    rows = (
        await RelationshipContact.select(
            RelationshipContact.relationship,
            RelationshipContact.person._.name.as_alias("name"),
        )
        .where(RelationshipContact.relationship.is_in(relationships))
        .order_by(RelationshipContact.person._.name)
    )
    found: dict[int, list[str]] = {}
    for row in rows:
        found.setdefault(int(row["relationship"]), []).append(row["name"])
    return found


@dataclass(frozen=True)
class Choice:
    """An organisation offered in a form's list."""

    id: int
    name: str
    slug: str


async def choices(kind: OrgKind) -> tuple[Choice, ...]:
    """Active organisations of one kind, by name, for a form's list (networks, sponsors
    and CROs are few; sites are typed by short name instead)."""
    rows = (
        await Organisation.select(Organisation.id, Organisation.name, Organisation.slug)
        .where((Organisation.kind == kind.value) & Organisation.active.eq(True))
        .order_by(Organisation.name)
    )
    return tuple(Choice(int(r["id"]), r["name"], r["slug"]) for r in rows)


async def organisation_record(organisation_id: int) -> dict[str, Any] | None:
    """One organisation as its edit form shows it, with its therapeutic areas."""
    row = await Organisation.select().where(Organisation.id == organisation_id).first()
    if row is None:
        return None
    areas = await TherapeuticArea.select(TherapeuticArea.area).where(
        TherapeuticArea.organisation == organisation_id
    )
    return {**row, "areas": sorted(a["area"] for a in areas)}


async def person_record(person_id: int) -> dict[str, Any] | None:
    """One person as their edit form shows them."""
    row = (
        await Person.select(*Person.all_columns(), Person.organisation._.name.as_alias("org_name"))
        .where(Person.id == person_id)
        .first()
    )
    return dict(row) if row else None


async def relationship_record(relationship_id: int) -> dict[str, Any] | None:
    """One relationship with its organisations' names, its contacts' ids, and the people
    at its organisations who may be named as contacts."""
    row = (
        await Relationship.select(
            *Relationship.all_columns(),
            Relationship.sponsor._.name.as_alias("sponsor_name"),
            Relationship.site._.name.as_alias("site_name"),
            Relationship.cro._.name.as_alias("cro_name"),
        )
        .where(Relationship.id == relationship_id)
        .first()
    )
    if row is None:
        return None
    chosen = await RelationshipContact.select(RelationshipContact.person).where(
        RelationshipContact.relationship == relationship_id
    )
    organisations = [o for o in (row["sponsor"], row["site"], row["cro"]) if o is not None]
    people = (
        await Person.select(
            Person.id,
            Person.name,
            Person.role,
            Person.organisation._.name.as_alias("org_name"),
        )
        .where(Person.organisation.is_in(organisations) & Person.active.eq(True))
        .order_by(Person.organisation._.name)
        .order_by(Person.name)
    )
    return {**row, "contacts": {int(c["person"]) for c in chosen}, "people": list(people)}
