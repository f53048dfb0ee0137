"""Organisations (sponsors, CROs, sites, networks), their persons, and the relationships rated.

A site may belong to one network; a CRO may act for a sponsor. A relationship is a
sponsor (optionally through a CRO) working with a site: the unit rated from both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    OnDelete,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check, Unique
from piccolo.table import Table


class OrgKind(StrEnum):
    """What an organisation is."""

    sponsor = "sponsor"
    cro = "cro"
    site = "site"
    network = "network"


class Role(StrEnum):
    """A person's role at their organisation (DESIGN.md §1)."""

    pi = "pi"
    coordinator = "coordinator"
    site_director = "site_director"
    cra = "cra"
    study_manager = "study_manager"
    relationship_manager = "relationship_manager"
    executive = "executive"


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")

SITE_ROLES = frozenset({Role.pi, Role.coordinator, Role.site_director})
"""Roles that only make sense at a site."""


class Organisation(Table):
    """A sponsor, CRO, site or site network."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    slug = Varchar(length=80, unique=True)
    name = Varchar(length=200)
    kind = Varchar(length=16, choices=OrgKind, index=True)
    country = Varchar(length=2, null=True, default=None, index=True)
    """ISO 3166-1 alpha-2; empty for a network spanning countries."""
    network: ForeignKey[Organisation] = ForeignKey("self", null=True, on_delete=OnDelete.set_null)
    """The network a site belongs to (deleting the network leaves the site independent)."""
    acts_for: ForeignKey[Organisation] = ForeignKey("self", null=True, on_delete=OnDelete.set_null)
    """The sponsor a CRO acts for."""
    external_id = Varchar(length=80, null=True, default=None, index=True)
    """The organisation's id in the CTMS or CRM it was imported from (unique where given,
    checked by the directory import and the console: SQLite cannot add a unique column)."""
    active = Boolean(default=True)
    created_at = Timestamptz()

    organisation_kind_is_known = Check("kind IN ('sponsor', 'cro', 'site', 'network')")
    organisation_country_is_two_letters = Check("country IS NULL OR length(country) = 2")


class TherapeuticArea(Table):
    """One therapeutic area an organisation works in (dashboards filter by it)."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, null=False)
    area = Varchar(length=60, index=True)

    therapeutic_area_one_row_per_area = Unique(["organisation", "area"])


class Person(Table):
    """Someone at an organisation, with a role; answers surveys, and may later sign in."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    email = Varchar(length=254, unique=True)
    role = Varchar(length=24, choices=Role)
    language = Varchar(length=8, default="en")
    """Preferred language (BCP 47 tag) for surveys, e-mails and scorecards."""
    receives_results = Boolean(null=True, default=None)
    """Whether scorecards are e-mailed to this person; None follows the rule by role
    (`surveys.directory.recipients`)."""
    active = Boolean(default=True)
    created_at = Timestamptz()
    erased_at = Timestamptz(null=True, default=None)
    """When the person's own data was erased (name and e-mail replaced by a pseudonym)."""

    person_role_is_known = Check(
        "role IN ('pi', 'coordinator', 'site_director', 'cra', 'study_manager', "
        "'relationship_manager', 'executive')"
    )


class Relationship(Table):
    """A sponsor, optionally through a CRO, working with a site: rated from both sides."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    sponsor = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    site = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    cro = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True, index=True)
    """The CRO running the relationship for the sponsor, if any."""
    active = Boolean(default=True)
    started_on = Timestamptz()

    relationship_one_per_sponsor_and_site = Unique(["sponsor", "site"])
    relationship_sponsor_is_not_site = Check("sponsor != site")


class RelationshipContact(Table):
    """A sponsor- or CRO-side person who works on a relationship and so rates that site."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    relationship = ForeignKey(Relationship, on_delete=OnDelete.cascade, null=False)
    person = ForeignKey(Person, on_delete=OnDelete.cascade, null=False, index=True)

    relationship_contact_one_row_per_contact = Unique(["relationship", "person"])


@dataclass(frozen=True)
class OrganisationListing:
    """One organisation as the directory shows it."""

    slug: str
    name: str
    kind: str
    country: str | None
    network: str | None
    acts_for: str | None
    areas: tuple[str, ...]
    sites: int
    """Sites in this network (networks only)."""


async def directory() -> list[OrganisationListing]:
    """Return every active organisation with its network, principal and therapeutic areas."""
    rows = (
        await Organisation.select(
            Organisation.id,
            Organisation.slug,
            Organisation.name,
            Organisation.kind,
            Organisation.country,
            Organisation.network,
            Organisation.network._.name,
            Organisation.acts_for._.name,
        )
        .where(Organisation.active.eq(True))
        .order_by(Organisation.name)
    )
    areas: dict[int, list[str]] = {}
    for row in await TherapeuticArea.select(
        TherapeuticArea.organisation, TherapeuticArea.area
    ).order_by(TherapeuticArea.area):
        areas.setdefault(row["organisation"], []).append(row["area"])
    members: dict[int, int] = {}
    for row in rows:
        if row["network"]:
            members[row["network"]] = members.get(row["network"], 0) + 1
    return [
        OrganisationListing(
            slug=row["slug"],
            name=row["name"],
            kind=row["kind"],
            country=row["country"],
            network=row["network.name"],
            acts_for=row["acts_for.name"],
            areas=tuple(areas.get(row["id"], ())),
            sites=members.get(row["id"], 0),
        )
        for row in rows
    ]


async def organisation_with_slug(slug: str, kind: OrgKind) -> int | None:
    """The id of the organisation of this kind with this slug, if there is one."""
    row = (
        await Organisation.select(Organisation.id)
        .where((Organisation.slug == slug) & (Organisation.kind == kind.value))
        .first()
    )
    return int(row["id"]) if row else None
