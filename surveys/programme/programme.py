"""The programme and its planned cycles, as stored.

There is one programme per installation (a sponsor, a site network or a consortium runs
one rhythm of surveys); its rules say how the calendar is made (`schedule.Rules`). Each
cycle it plans is a `PlannedCycle` row: its dates (as the rules give them, or as an
administrator moved them), whether it is skipped, the cycle it became once opened, and
what the programme has done to it beyond the cycle's own status (reminder rounds,
reviewers told and reminded, scorecards sent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check
from piccolo.table import Table

from surveys.cycles.cycle import Cycle
from surveys.infra.i18n import N_
from surveys.instruments import Instrument
from surveys.programme.schedule import Cadence, Dates, Progress, Rules, ScheduleError


class Programme(Table):
    """The recurring schedule of cycles (one row)."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    cadence = Varchar(length=12, choices=Cadence)
    first_opens_on = Date()
    listed_dates = JSON(default="[]")
    """Opening days (ISO dates), for the `dates` cadence."""
    open_days = Integer(default=28)
    reminder_days = JSON(default="[14, 7, 2]")
    """Days before closing on which a reminder round goes out."""
    most_reminders = Integer(default=3)
    review_days = Integer(default=14)
    review_reminder_days = Integer(default=3)
    publish_when_window_ends = Boolean(default=False)
    site_instrument = ForeignKey(Instrument, on_delete=OnDelete.set_null, null=True)
    """The site_rates_sponsor version every cycle uses; None: the newest at opening."""
    sponsor_instrument = ForeignKey(Instrument, on_delete=OnDelete.set_null, null=True)
    """The sponsor_rates_site version every cycle uses; None: the newest at opening."""
    paused = Boolean(default=False)
    changed_at = Timestamptz()
    changed_by = Varchar(length=254)

    programme_cadence_is_known = Check("cadence IN ('quarterly', 'half-yearly', 'yearly', 'dates')")


class PlannedCycle(Table):
    """One cycle the programme plans, and how far it got."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    key = Varchar(length=40, unique=True)
    opens_at = Timestamptz()
    closes_at = Timestamptz()
    review_ends_at = Timestamptz()
    moved = Boolean(default=False)
    """An administrator set these dates by hand (a change of rules leaves them)."""
    skipped = Boolean(default=False)
    cycle = ForeignKey(Cycle, on_delete=OnDelete.set_null, null=True, unique=True)
    """The cycle it became once created."""
    invited_at = Timestamptz(null=True, default=None)
    """When the opening's invitations had all gone out."""
    reminder_rounds = Integer(default=0)
    reviewers_told_at = Timestamptz(null=True, default=None)
    reviewers_reminded_at = Timestamptz(null=True, default=None)
    scorecards_done_at = Timestamptz(null=True, default=None)
    retry_after = Timestamptz(null=True, default=None)
    """A step that failed for a passing reason (the mail server down) waits until then."""

    planned_cycle_closes_after_opening = Check("closes_at > opens_at")
    planned_cycle_review_after_closing = Check("review_ends_at > closes_at")


@dataclass(frozen=True)
class ProgrammeRecord:
    """The programme as the calendar and the console read it."""

    rules: Rules
    site_instrument: int | None
    sponsor_instrument: int | None
    paused: bool
    changed_at: dt.datetime
    changed_by: str

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> ProgrammeRecord:
        """The record of a row selected with every column of Programme (JSON loaded)."""
        return cls(
            Rules(
                cadence=Cadence(row["cadence"]),
                first_opens_on=row["first_opens_on"],
                open_days=int(row["open_days"]),
                review_days=int(row["review_days"]),
                listed=tuple(dt.date.fromisoformat(d) for d in row["listed_dates"] or []),
                reminder_days=tuple(int(d) for d in row["reminder_days"] or []),
                most_reminders=int(row["most_reminders"]),
                review_reminder_days=int(row["review_reminder_days"]),
                publish_when_window_ends=bool(row["publish_when_window_ends"]),
            ),
            row["site_instrument"],
            row["sponsor_instrument"],
            bool(row["paused"]),
            row["changed_at"],
            str(row["changed_by"]),
        )


@dataclass(frozen=True)
class PlannedRecord:
    """A planned cycle, its dates and how far the programme got with it."""

    id: int
    dates: Dates
    moved: bool
    done: Progress
    cycle_id: int | None
    invited_at: dt.datetime | None
    reviewers_told_at: dt.datetime | None
    reviewers_reminded_at: dt.datetime | None
    scorecards_done_at: dt.datetime | None
    retry_after: dt.datetime | None

    @property
    def key(self) -> str:
        """The cycle's key."""
        return self.dates.key


PLANNED_COLUMNS = (
    PlannedCycle.id,
    PlannedCycle.key,
    PlannedCycle.opens_at,
    PlannedCycle.closes_at,
    PlannedCycle.review_ends_at,
    PlannedCycle.moved,
    PlannedCycle.skipped,
    PlannedCycle.cycle,
    PlannedCycle.cycle._.status.as_alias("status"),
    PlannedCycle.cycle._.closes_at.as_alias("cycle_closes_at"),
    PlannedCycle.invited_at,
    PlannedCycle.reminder_rounds,
    PlannedCycle.reviewers_told_at,
    PlannedCycle.reviewers_reminded_at,
    PlannedCycle.scorecards_done_at,
    PlannedCycle.retry_after,
)


def planned_record(row: Mapping[str, Any]) -> PlannedRecord:
    """The record of a row selected with PLANNED_COLUMNS.

    Once the cycle exists its own closing date rules (an administrator may have closed it
    early or reopened it until later from the console), so the planned date gives way.
    """
    closes_at = row["cycle_closes_at"] or row["closes_at"]
    return PlannedRecord(
        id=int(row["id"]),
        dates=Dates(row["key"], row["opens_at"], closes_at, row["review_ends_at"]),
        moved=bool(row["moved"]),
        done=Progress(
            status=row["status"],
            invited=row["invited_at"] is not None,
            reminder_rounds=int(row["reminder_rounds"]),
            reviewers_told=row["reviewers_told_at"] is not None,
            reviewers_reminded=row["reviewers_reminded_at"] is not None,
            scorecards_done=row["scorecards_done_at"] is not None,
            skipped=bool(row["skipped"]),
        ),
        cycle_id=row["cycle"],
        invited_at=row["invited_at"],
        reviewers_told_at=row["reviewers_told_at"],
        reviewers_reminded_at=row["reviewers_reminded_at"],
        scorecards_done_at=row["scorecards_done_at"],
        retry_after=row["retry_after"],
    )


async def the_programme() -> ProgrammeRecord | None:
    """The programme, or None where none is set up (cycles are then run by hand)."""
    row = await Programme.select().output(load_json=True).first()
    return ProgrammeRecord.of(row) if row is not None else None


async def planned_cycles() -> list[PlannedRecord]:
    """Every planned cycle, in the order they open."""
    rows = await PlannedCycle.select(*PLANNED_COLUMNS).order_by(PlannedCycle.opens_at)
    return [planned_record(row) for row in rows]


async def planned_cycle(key: str) -> PlannedRecord:
    """The planned cycle with this key, or ScheduleError."""
    row = await PlannedCycle.select(*PLANNED_COLUMNS).where(PlannedCycle.key == key).first()
    if row is None:
        raise ScheduleError(N_("the programme plans no cycle %(cycle)s"), cycle=repr(key))
    return planned_record(row)
