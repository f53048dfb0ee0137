"""Organisations (sponsors, CROs, sites, networks), their persons, and the relationships rated.

A site may belong to one network; a CRO may act for a sponsor. A relationship is a
sponsor (optionally through a CRO) working with a site: the unit rated from both sides.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from piccolo.columns import (
    Boolean,
    ForeignKey,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from surveys.errors import FileError


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

    slug = Varchar(length=80, unique=True)
    name = Varchar(length=200)
    kind = Varchar(length=16, choices=OrgKind, index=True)
    country = Varchar(length=2, null=True, default=None, index=True)
    """ISO 3166-1 alpha-2; empty for a network spanning countries."""
    network = ForeignKey("self", null=True, on_delete=OnDelete.set_null)
    """The network a site belongs to (deleting the network leaves the site independent)."""
    acts_for = ForeignKey("self", null=True, on_delete=OnDelete.set_null)
    """The sponsor a CRO acts for."""
    active = Boolean(default=True)
    created_at = Timestamptz()

    organisation_kind_is_known = Check("kind IN ('sponsor', 'cro', 'site', 'network')")
    organisation_country_is_two_letters = Check("country IS NULL OR length(country) = 2")


class TherapeuticArea(Table):
    """One therapeutic area an organisation works in (dashboards filter by it)."""

    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, null=False)
    area = Varchar(length=60, index=True)

    therapeutic_area_one_row_per_area = Unique(["organisation", "area"])


class Person(Table):
    """Someone at an organisation, with a role; answers surveys, and may later sign in."""

    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    email = Varchar(length=254, unique=True)
    role = Varchar(length=24, choices=Role)
    language = Varchar(length=8, default="en")
    """Preferred language (BCP 47 tag) for surveys, e-mails and scorecards."""
    active = Boolean(default=True)
    created_at = Timestamptz()

    person_role_is_known = Check(
        "role IN ('pi', 'coordinator', 'site_director', 'cra', 'study_manager', "
        "'relationship_manager', 'executive')"
    )


class Relationship(Table):
    """A sponsor, optionally through a CRO, working with a site: rated from both sides."""

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
            Organisation.network.name,
            Organisation.acts_for.name,
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


IMPORT_COLUMNS = ("slug", "name", "kind", "country", "network", "acts_for", "therapeutic_areas")
"""Header of an organisations CSV; network and acts_for name other organisations by slug."""


@dataclass(frozen=True)
class OrganisationRow:
    """One checked line of an organisations CSV."""

    line: int
    slug: str
    name: str
    kind: str
    country: str | None
    network: str | None
    acts_for: str | None
    areas: tuple[str, ...]


def read_organisations_csv(path: Path) -> list[OrganisationRow]:
    """Return the checked rows of an organisations CSV, or raise FileError at the first problem."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise FileError(path, "file", error.strerror or str(error)) from None
    with handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        missing = [c for c in IMPORT_COLUMNS[:3] if c not in header]
        if missing:
            raise FileError(
                path,
                "header",
                f"missing column(s) {', '.join(missing)}; expected {','.join(IMPORT_COLUMNS)}",
                1,
            )
        unknown = [c for c in header if c not in IMPORT_COLUMNS]
        if unknown:
            raise FileError(path, "header", f"unknown column(s) {', '.join(unknown)}", 1)
        rows: list[OrganisationRow] = []
        seen: dict[str, int] = {}
        kinds = ", ".join(k.value for k in OrgKind)
        for record in reader:
            line = reader.line_num
            fields = {key: (value or "").strip() for key, value in record.items() if key}
            slug, name, kind = (fields.get(k, "") for k in ("slug", "name", "kind"))
            if not SLUG.match(slug):
                raise FileError(
                    path, "slug", f"{slug!r} must be lower-case letters, digits and hyphens", line
                )
            if slug in seen:
                raise FileError(path, "slug", f"{slug!r} is also on line {seen[slug]}", line)
            seen[slug] = line
            if not name:
                raise FileError(path, "name", "is empty", line)
            if kind not in {k.value for k in OrgKind}:
                raise FileError(path, "kind", f"{kind!r} is not one of {kinds}", line)
            country = fields.get("country", "").upper() or None
            if country and not re.fullmatch(r"[A-Z]{2}", country):
                raise FileError(path, "country", f"{country!r} is not a two-letter ISO code", line)
            network, acts_for = fields.get("network") or None, fields.get("acts_for") or None
            if network and kind != OrgKind.site:
                raise FileError(path, "network", "only a site belongs to a network", line)
            if acts_for and kind != OrgKind.cro:
                raise FileError(path, "acts_for", "only a CRO acts for a sponsor", line)
            areas = tuple(
                a.strip().lower().replace(" ", "_")
                for a in fields.get("therapeutic_areas", "").split(";")
                if a.strip()
            )
            rows.append(OrganisationRow(line, slug, name, kind, country, network, acts_for, areas))
    return rows


async def import_organisations(path: Path, actor: str = "system") -> tuple[int, int]:
    """Create or update the organisations in a CSV: all lines, or (on any error) none.

    Returns (created, updated). References to networks and sponsors may point at lines
    of the same file or at organisations already stored.
    """
    from surveys import audit
    from surveys.database import writing_transaction

    rows = read_organisations_csv(path)
    stored = {
        r["slug"]: r
        for r in await Organisation.select(Organisation.id, Organisation.slug, Organisation.kind)
    }
    kinds = {**{slug: r["kind"] for slug, r in stored.items()}, **{r.slug: r.kind for r in rows}}
    for row in rows:
        for field, wanted in (("network", OrgKind.network), ("acts_for", OrgKind.sponsor)):
            ref = getattr(row, field)
            if ref and kinds.get(ref) != wanted:
                problem = f"{ref!r} is not a {wanted.value} in this file or the database"
                raise FileError(path, field, problem, row.line)
    created = updated = 0
    now = dt.datetime.now(dt.UTC)
    async with writing_transaction(Organisation._meta.db):
        ids = {slug: r["id"] for slug, r in stored.items()}
        # networks and sponsors first, so the rows that point at them find their ids
        for row in sorted(rows, key=lambda r: r.kind not in (OrgKind.network, OrgKind.sponsor)):
            values = {
                Organisation.name: row.name,
                Organisation.kind: row.kind,
                Organisation.country: row.country,
                Organisation.network: ids.get(row.network) if row.network else None,
                Organisation.acts_for: ids.get(row.acts_for) if row.acts_for else None,
            }
            if row.slug in ids:
                await Organisation.update(values).where(Organisation.id == ids[row.slug])
                updated += 1
            else:
                org = Organisation(slug=row.slug, created_at=now, active=True)
                for column, value in values.items():
                    setattr(org, column._meta.name, value)
                await org.save()
                ids[row.slug] = org.id
                created += 1
            await TherapeuticArea.delete().where(TherapeuticArea.organisation == ids[row.slug])
            if row.areas:
                await TherapeuticArea.insert(
                    *(
                        TherapeuticArea(organisation=ids[row.slug], area=a)
                        for a in sorted(set(row.areas))
                    )
                )
        await audit.record(
            actor,
            "organisations.import",
            "organisation",
            path.name,
            {"created": created, "updated": updated},
        )
    return created, updated


async def organisation_with_slug(slug: str, kind: OrgKind) -> int | None:
    """The id of the organisation of this kind with this slug, if there is one."""
    row = await Organisation.select(Organisation.id).where(
        (Organisation.slug == slug) & (Organisation.kind == kind.value)
    ).first()  # fmt: skip
    return int(row["id"]) if row else None
