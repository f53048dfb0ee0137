"""Cycles: one survey wave, and the one order its status may move in."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from piccolo.columns import ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.constraints import Check
from piccolo.table import Table

from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_
from surveys.instruments import Instrument


class CycleStatus(StrEnum):
    """Where a cycle is in its life."""

    draft = "draft"
    open = "open"
    closed = "closed"
    scored = "scored"
    published = "published"


TRANSITIONS: dict[CycleStatus, frozenset[CycleStatus]] = {
    CycleStatus.draft: frozenset({CycleStatus.open}),
    CycleStatus.open: frozenset({CycleStatus.closed}),
    # a cycle closed too early (one side had not answered) may reopen until it is scored;
    # scoring again replaces the run (a corrected config), so scored → scored is allowed
    CycleStatus.closed: frozenset({CycleStatus.open, CycleStatus.scored}),
    CycleStatus.scored: frozenset({CycleStatus.scored, CycleStatus.published}),
    CycleStatus.published: frozenset(),
}
"""Every legal move; anything else is refused."""


class CycleTransitionError(RapportError, ValueError):
    """An illegal status change; the message says what is allowed instead."""


class CycleError(RapportError):
    """A cycle cannot be created or changed as asked; the message says why."""


class UnknownCycleError(CycleError):
    """No cycle has the key asked for."""


def check_transition(current: CycleStatus | str, new: CycleStatus | str) -> CycleStatus:
    """Return `new` as a status if a cycle in `current` may move to it, else raise."""
    current, new = CycleStatus(current), CycleStatus(new)
    if new in TRANSITIONS[current]:
        return new
    allowed = sorted(s.value for s in TRANSITIONS[current])
    hint = (
        f"from {current.value} it can only become {' or '.join(allowed)}"
        if allowed
        else (f"a {current.value} cycle is final")
    )
    raise CycleTransitionError(f"cannot move a cycle from {current.value} to {new.value}: {hint}")


CYCLE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
"""What a cycle's key may be: letters, digits, `-`, `_` and `.`, at most 40, starting with
a letter or digit. The key names the cycle in addresses and the folder of its scorecards,
so it is never a path (`..`, `/`) nor anything a page or a shell would read otherwise."""
CYCLE_KEY_RULE = (
    "letters, digits, '-', '_' and '.' only, at most 40, starting with a letter or digit "
    "(such as 2027-Q1)"
)


def checked_cycle_key(key: str) -> str:
    """`key` if it follows CYCLE_KEY, else CycleError saying what a key may be."""
    if not CYCLE_KEY.fullmatch(key):
        shown = key if len(key) <= 60 else key[:57] + "…"
        raise CycleError(
            N_(
                "a cycle's key is letters, digits, '-', '_' and '.' only, at most 40, starting "
                "with a letter or digit (such as 2027-Q1), not %(key)s"
            ),
            key=repr(shown),
        )
    return key


class Cycle(Table):
    """One survey wave (e.g. 2026-Q1), with the instrument version used each way."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    key = Varchar(length=40, unique=True)
    title = Varchar(length=200)
    status = Varchar(length=12, choices=CycleStatus, default=CycleStatus.draft.value, index=True)
    site_instrument = ForeignKey(Instrument, on_delete=OnDelete.restrict, null=False)
    """What sites answer about sponsors and CROs."""
    sponsor_instrument = ForeignKey(Instrument, on_delete=OnDelete.restrict, null=False)
    """What sponsors and CROs answer about sites."""
    opens_at = Timestamptz(null=True, default=None)
    closes_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    status_changed_at = Timestamptz()

    cycle_status_is_known = Check("status IN ('draft', 'open', 'closed', 'scored', 'published')")
    cycle_closes_after_opening = Check(
        "opens_at IS NULL OR closes_at IS NULL OR closes_at > opens_at"
    )


@dataclass(frozen=True)
class CycleRecord:
    """A stored cycle, as the operations on it read it."""

    id: int
    key: str
    title: str
    status: str
    """A CycleStatus value, as stored (compare it with CycleStatus members)."""
    site_instrument: int
    sponsor_instrument: int
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> CycleRecord:
        """The record of a row selected with every column of Cycle."""
        return cls(
            id=int(row["id"]),
            key=str(row["key"]),
            title=str(row["title"]),
            status=str(row["status"]),
            site_instrument=int(row["site_instrument"]),
            sponsor_instrument=int(row["sponsor_instrument"]),
            opens_at=row["opens_at"],
            closes_at=row["closes_at"],
        )


async def cycle_by_key(key: str, error: type[RapportError] = RapportError) -> CycleRecord:
    """Return the cycle with `key`, or raise `error` naming the cycles there are.

    Each caller names its own error (scoring, cycle administration, imports), so its
    command or API reports the refusal in its own terms.
    """
    cycle = await Cycle.select().where(Cycle.key == key).first()
    if cycle is None:
        known = [row["key"] for row in await Cycle.select(Cycle.key).order_by(Cycle.key)]
        if known:
            raise error(
                N_("no cycle %(key)s; cycles: %(known)s"), key=repr(key), known=", ".join(known)
            )
        raise error(N_("no cycle %(key)s; cycles: none"), key=repr(key))
    return CycleRecord.of(cycle)


async def cycles_newest_first() -> list[CycleRecord]:
    """Every cycle, newest first (keys sort as text: 2027-Q1 after 2026-Q4)."""
    rows = await Cycle.select().order_by(Cycle.key, ascending=False)
    return [CycleRecord.of(row) for row in rows]
