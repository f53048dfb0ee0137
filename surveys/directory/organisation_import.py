"""The organisations CSV: checked whole, then stored in one transaction (or not at all).

Networks and sponsors a line points at may be lines of the same file or organisations
already stored. Importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from piccolo.columns import Column

from surveys.directory import audit
from surveys.directory.organisations import SLUG, Organisation, OrgKind, TherapeuticArea
from surveys.infra.database import writing_transaction
from surveys.infra.errors import FileError

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
            values: dict[str, Any] = {
                "name": row.name,
                "kind": row.kind,
                "country": row.country,
                "network": ids.get(row.network) if row.network else None,
                "acts_for": ids.get(row.acts_for) if row.acts_for else None,
            }
            if row.slug in ids:
                changes: dict[Column | str, Any] = dict(values.items())
                await Organisation.update(changes).where(Organisation.id == ids[row.slug])
                updated += 1
            else:
                org = Organisation(slug=row.slug, created_at=now, active=True, **values)
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
