"""How far a cycle's people got, live: counts per group and who has not answered yet.

Both reads are one grouped statement each, counted by the database (a cycle has tens of
thousands of invitations; the console asks again and again while a cycle runs). Each
stage counts those who got at least that far: a submitted invitation was opened too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from surveys.cycles.cycle import Cycle, CycleRecord, UnknownCycleError, cycle_by_key
from surveys.cycles.invitations import Invitation
from surveys.directory.organisations import Organisation, Person
from surveys.infra.pagination import Page, page_bounds
from surveys.infra.sql_scripts import Statement, fetch
from surveys.instruments import Instrument

Grouping = Literal["organisation", "direction", "country", "role"]
GROUPINGS: tuple[Grouping, ...] = ("organisation", "direction", "country", "role")

_INVITATION = Invitation._meta.get_formatted_tablename()
_PERSON = Person._meta.get_formatted_tablename()
_ORGANISATION = Organisation._meta.get_formatted_tablename()
_INSTRUMENT = Instrument._meta.get_formatted_tablename()

_PEOPLE = (
    f"JOIN {_PERSON} AS p ON p.id = i.respondent JOIN {_ORGANISATION} AS o ON o.id = p.organisation"
)
_DIRECTIONS = f"JOIN {_INSTRUMENT} AS n ON n.id = i.instrument"
_GROUP_BY: dict[str, tuple[str, str, str, str]] = {
    # grouping: (key, label, direction, joins), the first three SQL over i, p, o and n
    "organisation": ("o.slug", "o.name", "n.direction", f"{_PEOPLE} {_DIRECTIONS}"),
    "direction": ("n.direction", "n.direction", "n.direction", _DIRECTIONS),
    "country": ("COALESCE(o.country, '')", "COALESCE(o.country, '')", "NULL", _PEOPLE),
    "role": ("p.role", "p.role", "NULL", f"JOIN {_PERSON} AS p ON p.id = i.respondent"),
}
"""Only the joins a grouping needs: the whole cycle is read on every call."""


@dataclass(frozen=True)
class StatusRow:
    """How far one group's invitations got."""

    key: str
    """What the group is (an organisation's slug, a direction, a country code, a role)."""
    label: str
    """The group as people read it (the organisation's name; the key otherwise)."""
    direction: str | None
    """The direction its people answer in (for organisations and directions)."""
    invited: int
    """Invitations."""
    people: int
    """People those invitations went to."""
    opened: int
    in_progress: int
    submitted: int
    undeliverable: int
    """Invitations whose address the mail server refused for good."""

    @property
    def response_rate(self) -> float:
        """Share of the invitations submitted."""
        return self.submitted / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class CycleStatusReport:
    """A cycle's progress per group, furthest behind first, and in all."""

    cycle: CycleRecord
    by: Grouping
    rows: tuple[StatusRow, ...]
    total: StatusRow


_COUNTS = """
    COUNT(*) AS invited,
    COUNT(DISTINCT i.respondent) AS people,
    SUM(CASE WHEN i.status IN ('opened', 'in_progress', 'submitted') THEN 1 ELSE 0 END)
        AS opened,
    SUM(CASE WHEN i.status IN ('in_progress', 'submitted') THEN 1 ELSE 0 END) AS in_progress,
    SUM(CASE WHEN i.status = 'submitted' THEN 1 ELSE 0 END) AS submitted,
    SUM(CASE WHEN i.undeliverable_at IS NOT NULL THEN 1 ELSE 0 END) AS undeliverable
"""
_FROM = f"FROM {_INVITATION} AS i {_PEOPLE} WHERE i.cycle = {{}}"


async def cycle_status(key: str, by: Grouping = "organisation") -> CycleStatusReport:
    """Return invited, opened, in progress, submitted and undeliverable per group of
    raters, lowest response rate first (the groups to chase), and the cycle's totals.

    `by` groups by the raters' organisation (with its direction), the direction, the
    organisation's country, or the person's role.
    """
    if by not in _GROUP_BY:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}, not {by!r}")
    cycle = await cycle_by_key(key, UnknownCycleError)
    group_key, label, direction, joins = _GROUP_BY[by]
    db = Cycle._meta.db
    grouped = await fetch(
        db,
        Statement(
            f"SELECT {group_key} AS key, MIN({label}) AS label, {direction} AS direction, "  # noqa: S608
            f"{_COUNTS} FROM {_INVITATION} AS i {joins} WHERE i.cycle = {{}} "
            f"GROUP BY {group_key}{'' if direction == 'NULL' else f', {direction}'}",
            (cycle.id,),
        ),
    )
    [everyone] = await fetch(
        db,
        Statement(
            f"SELECT '' AS key, '' AS label, NULL AS direction, {_COUNTS} "  # noqa: S608
            f"FROM {_INVITATION} AS i WHERE i.cycle = {{}}",
            (cycle.id,),
        ),
    )
    rows = sorted(
        (_status_row(row) for row in grouped),
        key=lambda row: (row.response_rate, -row.invited, row.label),
    )
    return CycleStatusReport(cycle, by, tuple(rows), _status_row({**everyone, "label": "all"}))


def _status_row(row: dict[str, Any]) -> StatusRow:
    return StatusRow(
        key=str(row["key"]),
        label=str(row["label"]),
        direction=row["direction"],
        invited=int(row["invited"] or 0),
        people=int(row["people"] or 0),
        opened=int(row["opened"] or 0),
        in_progress=int(row["in_progress"] or 0),
        submitted=int(row["submitted"] or 0),
        undeliverable=int(row["undeliverable"] or 0),
    )


@dataclass(frozen=True)
class Unanswered:
    """Someone who has not submitted every survey they were asked, for a follow-up."""

    person_id: int
    name: str
    email: str
    organisation: str
    partners: tuple[str, ...]
    """The partners they have not answered about, by name."""
    last_email: dt.datetime | None
    """The last invitation or reminder e-mailed to them (None: none was sent)."""
    reminders: int
    """Reminders they got (the most of any of their invitations)."""
    undeliverable: str | None
    """The mail server's refusal, if their address was refused."""


async def not_answered(
    key: str, search: str = "", page: int = 1, per_page: int = 50
) -> Page[Unanswered]:
    """Return one page of the people of cycle `key` who have not submitted, by organisation
    and name; `search` finds a part of a name, an e-mail address or an organisation.

    Raises PastLastPageError beyond the last page.
    """
    cycle = await cycle_by_key(key, UnknownCycleError)
    where = "AND i.status <> 'submitted'"
    args: list[Any] = [cycle.id]
    if search.strip():
        pattern = "%" + _like_escaped(search.strip().lower()) + "%"
        where += (
            " AND (lower(p.name) LIKE {} ESCAPE '\\' OR lower(p.email) LIKE {} ESCAPE '\\'"
            " OR lower(o.name) LIKE {} ESCAPE '\\')"
        )
        args += [pattern] * 3
    db = Cycle._meta.db
    [counted] = await fetch(
        db,
        Statement(
            f"SELECT COUNT(DISTINCT i.respondent) AS total {_FROM} {where}",
            tuple(args),
        ),
    )
    total = int(counted["total"])
    offset, limit = page_bounds(total, page, per_page)
    people = await fetch(
        db,
        Statement(
            "SELECT p.id, p.name, p.email, o.name AS organisation, "
            "MAX(i.reminder_count) AS reminders, "
            "MAX(COALESCE(i.last_reminded_at, i.sent_at)) AS last_email, "
            "MAX(i.delivery_problem) AS problem "
            f"{_FROM} {where} GROUP BY p.id, p.name, p.email, o.name "
            "ORDER BY o.name, p.name, p.id LIMIT {} OFFSET {}",
            (*args, limit, offset),
        ),
    )
    partners = await _partners(cycle.id, [int(row["id"]) for row in people])
    items = tuple(
        Unanswered(
            person_id=int(row["id"]),
            name=str(row["name"]),
            email=str(row["email"]),
            organisation=str(row["organisation"]),
            partners=tuple(partners.get(int(row["id"]), ())),
            last_email=_moment(row["last_email"]),
            reminders=int(row["reminders"] or 0),
            undeliverable=row["problem"],
        )
        for row in people
    )
    return Page(items, page, per_page, total)


async def _partners(cycle_id: int, people: list[int]) -> dict[int, list[str]]:
    """The partners each of these people has not answered about, by name."""
    if not people:
        return {}
    slots = ", ".join("{}" for _ in people)
    rows = await fetch(
        Cycle._meta.db,
        Statement(
            f"SELECT i.respondent, t.name FROM {_INVITATION} AS i "  # noqa: S608
            f"JOIN {_ORGANISATION} AS t ON t.id = i.target "
            f"WHERE i.cycle = {{}} AND i.status <> 'submitted' AND i.respondent IN ({slots}) "
            "ORDER BY t.name",
            (cycle_id, *people),
        ),
    )
    found: dict[int, list[str]] = {}
    for row in rows:
        found.setdefault(int(row["respondent"]), []).append(str(row["name"]))
    return found


def _like_escaped(text: str) -> str:
    """`text` with LIKE's wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _moment(value: object) -> dt.datetime | None:
    """A timestamp an aggregate returned: SQLite gives the stored text, PostgreSQL a time."""
    if value is None or isinstance(value, dt.datetime):
        return value
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
