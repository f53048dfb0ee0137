"""Reading the audit log: filtered by who, what, which record and when, newest first, in
pages for the console and whole for its CSV download (`rapport audit` prints the same).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from piccolo.custom_types import Combinable

from surveys.directory.audit import AuditEntry
from surveys.infra.database import contains
from surveys.infra.pagination import Page, page_bounds
from surveys.infra.spreadsheets import spreadsheet_safe


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read; an empty field does not filter."""

    who: str = ""
    """Part of the actor (an e-mail, `cli:<user>`, `system`)."""
    action: str = ""
    """An action, or its prefix before the dot (`cycle` matches `cycle.open`)."""
    record_table: str = ""
    record_id: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    """The last day included."""

    def where(self) -> Combinable:
        """The filter as a query's condition."""
        where: Combinable = AuditEntry.id.is_not_null()
        if self.who.strip():
            where &= contains(AuditEntry.actor, self.who)
        if self.action.strip():
            action = self.action.strip()
            where &= (
                (AuditEntry.action == action) | AuditEntry.action.like(f"{action}.%")
                if "." not in action
                else AuditEntry.action == action
            )
        if self.record_table.strip():
            where &= AuditEntry.record_table == self.record_table.strip()
        if self.record_id.strip():
            where &= AuditEntry.record_id == self.record_id.strip()
        if self.since is not None:
            where &= AuditEntry.at >= _midnight(self.since)
        if self.until is not None:
            where &= AuditEntry.at < _midnight(self.until + dt.timedelta(days=1))
        return where


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@dataclass(frozen=True)
class AuditRow:
    """One entry as the console and the CSV show it."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    record_table: str
    record_id: str
    detail: dict[str, Any]


COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.record_table,
    AuditEntry.record_id,
    AuditEntry.detail,
)


def _row(row: dict[str, Any]) -> AuditRow:
    detail = row["detail"] if isinstance(row["detail"], dict) else {}
    return AuditRow(
        id=int(row["id"]),
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        record_table=row["record_table"],
        record_id=row["record_id"],
        detail=detail,
    )


async def audit_page(filter_: AuditFilter, number: int = 1, per_page: int = 50) -> Page[AuditRow]:
    """One page of the entries the filter keeps, newest first."""
    where = filter_.where()
    total = await AuditEntry.count().where(where)
    offset, limit = page_bounds(total, number, per_page)
    rows = (
        await AuditEntry.select(*COLUMNS)
        .where(where)
        .order_by(AuditEntry.id, ascending=False)
        .offset(offset)
        .limit(limit)
        .output(load_json=True)
    )
    return Page(tuple(_row(r) for r in rows), number, per_page, total)


async def audit_entries(filter_: AuditFilter, batch: int = 5000) -> AsyncIterator[AuditRow]:
    """Every entry the filter keeps, newest first, read in batches (for a download)."""
    where = filter_.where()
    last: int | None = None
    while True:
        query = AuditEntry.select(*COLUMNS).where(where)
        if last is not None:
            query = query.where(AuditEntry.id < last)
        rows = (
            await query.order_by(AuditEntry.id, ascending=False).limit(batch).output(load_json=True)
        )
        for row in rows:
            yield _row(row)
        if len(rows) < batch:
            return
        last = int(rows[-1]["id"])


async def audit_actions() -> tuple[str, ...]:
    """Every action the log holds, for the console's filter."""
    rows = await AuditEntry.select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    return tuple(r["action"] for r in rows)


CSV_HEADER = ("id", "at", "actor", "action", "record_table", "record_id", "detail")


async def audit_csv(filter_: AuditFilter) -> AsyncIterator[str]:
    """The entries the filter keeps as CSV text, a header then one line per entry (the
    console streams it, `rapport audit --csv` writes it); cells a spreadsheet would run
    as formulas are defused, the detail is its JSON."""

    def line(cells: tuple[object, ...]) -> str:
        out = io.StringIO()
        csv.writer(out).writerow([spreadsheet_safe(c) for c in cells])
        return out.getvalue()

    yield line(CSV_HEADER)
    async for row in audit_entries(filter_):
        yield line(
            (
                row.id,
                row.at.isoformat(),
                row.actor,
                row.action,
                row.record_table,
                row.record_id,
                json.dumps(row.detail, ensure_ascii=False, sort_keys=True),
            )
        )
