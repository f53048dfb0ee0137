"""Changing the directory one record at a time: what the console's forms and the
`rapport directory organisation|person|relationship` commands both call.

Each function checks its values through `surveys.directory.rules`, refuses what the
domain does not allow (a network for a sponsor, a site role at a CRO, an e-mail another
person has) with a sentence naming the field, and writes its change and its audit entry
in one transaction. Nothing is ever deleted: a record is deactivated, so past answers
and results keep what they point at.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from piccolo.columns import Column

from surveys.directory import audit
from surveys.directory.audit import Act
from surveys.directory.organisations import (
    SITE_ROLES,
    Organisation,
    OrgKind,
    Person,
    Relationship,
    RelationshipContact,
    Role,
    TherapeuticArea,
)
from surveys.directory.rules import DirectoryValueError, slug_for
from surveys.infra.database import writing_transaction
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_


class DirectoryEditError(RapportError, ValueError):
    """A directory change that cannot be made as asked; `field` names the form field."""

    def __init__(self, field: str, message: str, **values: Any) -> None:
        super().__init__(message, **values)
        self.field = field

    @classmethod
    def of(cls, field: str, error: RapportError) -> DirectoryEditError:
        """Another refusal (a DirectoryValueError) as one about `field`, saying the same
        (its marked message too, for a page to translate)."""
        said = error.said
        if said is None:
            return cls(field, str(error))
        return cls(field, said.message, **said.values)


_WORKS_AT_A_SITE = {
    Role.pi: N_("a pi works at a site"),
    Role.coordinator: N_("a coordinator works at a site"),
    Role.site_director: N_("a site_director works at a site"),
}
"""Why a site role is refused at another kind of organisation (one per role: SITE_ROLES)."""
_NOT_OF_ITS_KIND = {
    OrgKind.sponsor: N_("the sponsor chosen is not a sponsor"),
    OrgKind.site: N_("the site chosen is not a site"),
    OrgKind.cro: N_("the cro chosen is not a cro"),
}
"""Why a relationship's side is refused: the organisation chosen is of another kind."""


@dataclass(frozen=True)
class OrganisationFields:
    """What a form or a command gives for an organisation (values already parsed)."""

    name: str
    kind: OrgKind
    country: str | None = None
    network: int | None = None
    """The network a site belongs to."""
    acts_for: int | None = None
    """The sponsor a CRO acts for."""
    external_id: str | None = None
    areas: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonFields:
    """What a form or a command gives for a person (the e-mail already normalised)."""

    name: str
    email: str
    role: Role
    organisation: int
    language: str = "en"
    receives_results: bool | None = None
    """None follows the rule by role (surveys.directory.recipients)."""


async def _kind_of(organisation_id: int, field: str) -> OrgKind:
    row = (
        await Organisation.select(Organisation.kind)
        .where(Organisation.id == organisation_id)
        .first()
    )
    if row is None:
        raise DirectoryEditError(
            field, N_("there is no organisation %(id)s"), id=str(organisation_id)
        )
    return OrgKind(row["kind"])


async def _check_organisation(fields: OrganisationFields, own_id: int | None) -> None:
    """Refuse an organisation whose ties or identifiers the domain does not allow."""
    if not fields.name.strip():
        raise DirectoryEditError("name", N_("an organisation needs a name"))
    if fields.network is not None:
        if fields.kind != OrgKind.site:
            raise DirectoryEditError("network", N_("only a site belongs to a network"))
        if await _kind_of(fields.network, "network") != OrgKind.network:
            raise DirectoryEditError("network", N_("the network chosen is not a site network"))
    if fields.acts_for is not None:
        if fields.kind != OrgKind.cro:
            raise DirectoryEditError("acts_for", N_("only a CRO acts for a sponsor"))
        if await _kind_of(fields.acts_for, "acts_for") != OrgKind.sponsor:
            raise DirectoryEditError("acts_for", N_("a CRO acts for a sponsor"))
    if fields.external_id:
        other = (
            await Organisation.select(Organisation.id, Organisation.name)
            .where(Organisation.external_id == fields.external_id)
            .first()
        )
        if other is not None and other["id"] != own_id:
            raise DirectoryEditError(
                "external_id",
                N_("%(name)s already has the CTMS id %(id)r"),
                name=other["name"],
                id=fields.external_id,
            )


def _organisation_values(fields: OrganisationFields) -> dict[Column | str, Any]:
    return {
        "name": fields.name.strip(),
        "kind": fields.kind.value,
        "country": fields.country,
        "network": fields.network,
        "acts_for": fields.acts_for,
        "external_id": fields.external_id or None,
    }


async def _set_areas(organisation_id: int, areas: tuple[str, ...]) -> None:
    await TherapeuticArea.delete().where(TherapeuticArea.organisation == organisation_id)
    if areas:
        await TherapeuticArea.insert(
            *(TherapeuticArea(organisation=organisation_id, area=a) for a in sorted(set(areas)))
        )


async def create_organisation(fields: OrganisationFields, act: Act) -> int:
    """Add an organisation (its slug made from its name); return its id."""
    await _check_organisation(fields, None)
    try:
        slug = slug_for(fields.name)
    except DirectoryValueError as error:
        raise DirectoryEditError.of("name", error) from None
    async with writing_transaction(Organisation._meta.db):
        if await Organisation.exists().where(Organisation.slug == slug):
            raise DirectoryEditError(
                "name", N_("an organisation with the short name %(slug)s exists"), slug=slug
            )
        made = await Organisation.insert(
            Organisation(
                slug=slug, created_at=act.at, active=True, **_values(_organisation_values(fields))
            )
        )
        organisation_id = int(made[0]["id"])
        await _set_areas(organisation_id, fields.areas)
        await _audit(act, "organisation.create", "organisation", organisation_id, fields)
    return organisation_id


async def update_organisation(organisation_id: int, fields: OrganisationFields, act: Act) -> None:
    """Change an organisation's name, ties and identifiers (its slug, in links, stays)."""
    stored = await _kind_of(organisation_id, "organisation")
    if stored != fields.kind:
        raise DirectoryEditError("kind", f"a {stored.value} cannot become a {fields.kind.value}")
    await _check_organisation(fields, organisation_id)
    async with writing_transaction(Organisation._meta.db):
        await Organisation.update(_organisation_values(fields)).where(
            Organisation.id == organisation_id
        )
        await _set_areas(organisation_id, fields.areas)
        await _audit(act, "organisation.update", "organisation", organisation_id, fields)


async def set_organisation_active(organisation_id: int, active: bool, act: Act) -> None:
    """Deactivate (or reactivate) an organisation: its people and relationships go with it
    from the next cycle's invitations; nothing already answered or scored changes."""
    await _kind_of(organisation_id, "organisation")
    async with writing_transaction(Organisation._meta.db):
        await Organisation.update({Organisation.active: active}).where(
            Organisation.id == organisation_id
        )
        if not active:
            await Person.update({Person.active: False}).where(
                Person.organisation == organisation_id
            )
            await Relationship.update({Relationship.active: False}).where(
                (Relationship.sponsor == organisation_id)
                | (Relationship.site == organisation_id)
                | (Relationship.cro == organisation_id)
            )
        action = "organisation.reactivate" if active else "organisation.deactivate"
        await audit.record(act.actor, action, "organisation", organisation_id, {}, act.person_id)


async def _check_person(fields: PersonFields, own_id: int | None) -> None:
    if not fields.name.strip():
        raise DirectoryEditError("name", N_("a person needs a name"))
    kind = await _kind_of(fields.organisation, "organisation")
    if kind == OrgKind.network:
        raise DirectoryEditError(
            "organisation", N_("people work at a site, sponsor or CRO, not at a network")
        )
    if fields.role in SITE_ROLES and kind != OrgKind.site:
        raise DirectoryEditError("role", _WORKS_AT_A_SITE[fields.role])
    other = (
        await Person.select(Person.id, Person.name, Person.organisation._.name.as_alias("org"))
        .where(Person.email == fields.email)
        .first()
    )
    if other is not None and other["id"] != own_id:
        raise DirectoryEditError(
            "email",
            N_("%(email)s is already %(name)s's, at %(organisation)s"),
            email=fields.email,
            name=other["name"],
            organisation=other["org"],
        )


def _person_values(fields: PersonFields) -> dict[Column | str, Any]:
    return {
        "name": fields.name.strip(),
        "email": fields.email,
        "role": fields.role.value,
        "organisation": fields.organisation,
        "language": fields.language,
        "receives_results": fields.receives_results,
    }


async def create_person(fields: PersonFields, act: Act) -> int:
    """Add a person to an organisation; return their id."""
    await _check_person(fields, None)
    async with writing_transaction(Person._meta.db):
        made = await Person.insert(
            Person(created_at=act.at, active=True, **_values(_person_values(fields)))
        )
        person_id = int(made[0]["id"])
        await _audit(act, "person.create", "person", person_id, fields)
    return person_id


async def update_person(person_id: int, fields: PersonFields, act: Act) -> bool:
    """Change a person's record; return whether their e-mail address changed (so that
    invitations the old address refused may be sent again)."""
    stored = (
        await Person.select(Person.email, Person.erased_at).where(Person.id == person_id).first()
    )
    if stored is None:
        raise DirectoryEditError("person", N_("there is no person %(id)s"), id=str(person_id))
    if stored["erased_at"] is not None:
        raise DirectoryEditError("person", N_("this person was erased; their record cannot change"))
    await _check_person(fields, person_id)
    async with writing_transaction(Person._meta.db):
        await Person.update(_person_values(fields)).where(Person.id == person_id)
        await _audit(act, "person.update", "person", person_id, fields)
    return bool(stored["email"] != fields.email)


async def set_person_active(person_id: int, active: bool, act: Act) -> None:
    """Deactivate (or reactivate) a person: a deactivated person is never invited or sent
    results, and cannot sign in; what they answered stays."""
    stored = await Person.select(Person.erased_at).where(Person.id == person_id).first()
    if stored is None:
        raise DirectoryEditError("person", N_("there is no person %(id)s"), id=str(person_id))
    if active and stored["erased_at"] is not None:
        raise DirectoryEditError("person", N_("an erased person cannot be reactivated"))
    async with writing_transaction(Person._meta.db):
        await Person.update({Person.active: active}).where(Person.id == person_id)
        action = "person.reactivate" if active else "person.deactivate"
        await audit.record(act.actor, action, "person", person_id, {}, act.person_id)


async def create_relationship(sponsor: int, site: int, cro: int | None, act: Act) -> int:
    """Record that a sponsor (through a CRO, if given) works with a site; return its id.

    A relationship listed again after it was deactivated is reactivated instead.
    """
    for field, organisation, kind in (
        ("sponsor", sponsor, OrgKind.sponsor),
        ("site", site, OrgKind.site),
        ("cro", cro, OrgKind.cro),
    ):
        if organisation is not None and await _kind_of(organisation, field) != kind:
            raise DirectoryEditError(field, _NOT_OF_ITS_KIND[kind])
    async with writing_transaction(Relationship._meta.db):
        existing = (
            await Relationship.select(Relationship.id, Relationship.active)
            .where((Relationship.sponsor == sponsor) & (Relationship.site == site))
            .first()
        )
        if existing is not None and existing["active"]:
            raise DirectoryEditError("site", N_("this sponsor already works with this site"))
        if existing is not None:
            relationship_id = int(existing["id"])
            await Relationship.update({Relationship.active: True, Relationship.cro: cro}).where(
                Relationship.id == relationship_id
            )
        else:
            made = await Relationship.insert(
                Relationship(sponsor=sponsor, site=site, cro=cro, active=True, started_on=act.at)
            )
            relationship_id = int(made[0]["id"])
        await audit.record(
            act.actor,
            "relationship.create",
            "relationship",
            relationship_id,
            {"sponsor": sponsor, "site": site, "cro": cro},
            act.person_id,
        )
    return relationship_id


async def set_relationship_active(relationship_id: int, active: bool, act: Act) -> None:
    """End (or resume) a relationship: it is no longer surveyed; its results stay."""
    if not await Relationship.exists().where(Relationship.id == relationship_id):
        raise DirectoryEditError(
            "relationship", N_("there is no relationship %(id)s"), id=str(relationship_id)
        )
    async with writing_transaction(Relationship._meta.db):
        await Relationship.update({Relationship.active: active}).where(
            Relationship.id == relationship_id
        )
        action = "relationship.reactivate" if active else "relationship.deactivate"
        await audit.record(act.actor, action, "relationship", relationship_id, {}, act.person_id)


async def set_contacts(relationship_id: int, people: list[int], act: Act) -> None:
    """Name who works on a relationship: its sponsor's and CRO's contacts (who rate the
    site) and, optionally, the site's staff who rate this sponsor (none named: all of the
    site's staff with the survey's roles do)."""
    rel = (
        await Relationship.select(Relationship.sponsor, Relationship.site, Relationship.cro)
        .where(Relationship.id == relationship_id)
        .first()
    )
    if rel is None:
        raise DirectoryEditError(
            "relationship", N_("there is no relationship %(id)s"), id=str(relationship_id)
        )
    allowed = {rel["sponsor"], rel["site"], rel["cro"]} - {None}
    rows = await Person.select(Person.id, Person.name, Person.organisation).where(
        Person.id.is_in(people or [0])
    )
    outside = [r["name"] for r in rows if r["organisation"] not in allowed]
    if outside or len(rows) != len(set(people)):
        if not outside:
            raise DirectoryEditError(
                "contacts", N_("someone unknown works at none of this relationship's organisations")
            )
        raise DirectoryEditError(
            "contacts",
            N_("%(who)s works at none of this relationship's organisations"),
            who=", ".join(outside),
        )
    async with writing_transaction(RelationshipContact._meta.db):
        await RelationshipContact.delete().where(
            RelationshipContact.relationship == relationship_id
        )
        if people:
            await RelationshipContact.insert(
                *(RelationshipContact(relationship=relationship_id, person=p) for p in set(people))
            )
        await audit.record(
            act.actor,
            "relationship.contacts",
            "relationship",
            relationship_id,
            {"people": sorted(set(people))},
            act.person_id,
        )


def _values(changes: dict[Column | str, Any]) -> dict[str, Any]:
    """Column values as a new row's keyword arguments."""
    return {str(k): v for k, v in changes.items()}


async def _audit(
    act: Act,
    action: str,
    table: str,
    record_id: int,
    fields: OrganisationFields | PersonFields,
) -> None:
    """One audit entry with the values written (enums as their codes).

    A person's name and e-mail are left out: the log outlives an erasure, and it says
    who changed a record, not what the record holds.
    """
    private = {"name", "email"} if isinstance(fields, PersonFields) else set()
    detail = {
        k: (v.value if hasattr(v, "value") else v)
        for k, v in asdict(fields).items()
        if k not in private
    }
    detail = {k: list(v) if isinstance(v, tuple) else v for k, v in detail.items()}
    await audit.record(act.actor, action, table, record_id, detail, act.person_id)
