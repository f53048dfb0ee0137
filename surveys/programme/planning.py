"""What an administrator changes in the programme, each change checked and audited.

Setting the rules (re)plans the cycles not yet under way; moving a cycle's dates, skipping
a cycle and pausing the whole programme act on the plan. A cycle already opened keeps its
opening and closing dates here: it is closed or reopened from its own page, as any cycle.
Every change is one transaction that checks the whole calendar again, so a change that
would make two cycles collect answers at once, or a cycle close before it opens, is
refused with the reason and leaves everything as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, replace
from typing import Any, cast

from piccolo.columns import Column

from surveys.cycles.cycle import Cycle, CycleStatus
from surveys.directory import audit
from surveys.directory.audit import Act
from surveys.infra.database import writing_transaction
from surveys.infra.i18n import N_
from surveys.instruments import Direction, Instrument
from surveys.programme.programme import (
    PlannedCycle,
    PlannedRecord,
    Programme,
    planned_cycle,
    planned_cycles,
    the_programme,
)
from surveys.programme.schedule import (
    Dates,
    Rules,
    ScheduleError,
    check_calendar,
    check_day,
    check_rules,
    day_end,
    day_start,
    planned_dates,
)

HORIZON = dt.timedelta(days=400)
"""How far ahead cycles are planned (and shown): the coming year and a little more."""


async def set_programme(
    rules: Rules,
    act: Act,
    site_instrument: int | None = None,
    sponsor_instrument: int | None = None,
) -> list[PlannedRecord]:
    """Set the programme's rules (creating it the first time) and plan its cycles again;
    return the plan. Cycles under way, and dates moved by hand, are kept."""
    check_rules(rules)
    for chosen, direction in (
        (site_instrument, Direction.site_rates_sponsor),
        (sponsor_instrument, Direction.sponsor_rates_site),
    ):
        if chosen is not None and not await Instrument.exists().where(
            (Instrument.id == chosen) & (Instrument.direction == direction)
        ):
            raise ScheduleError(
                N_("instrument %(instrument)s is not a loaded %(direction)s instrument"),
                instrument=chosen,
                direction=direction.value,
            )
    values: dict[Column, Any] = {
        Programme.cadence: rules.cadence.value,
        Programme.first_opens_on: rules.first_opens_on,
        Programme.listed_dates: [d.isoformat() for d in sorted(rules.listed)],
        Programme.open_days: rules.open_days,
        Programme.reminder_days: sorted(rules.reminder_days, reverse=True),
        Programme.most_reminders: rules.most_reminders,
        Programme.review_days: rules.review_days,
        Programme.review_reminder_days: rules.review_reminder_days,
        Programme.publish_when_window_ends: rules.publish_when_window_ends,
        Programme.site_instrument: site_instrument,
        Programme.sponsor_instrument: sponsor_instrument,
        Programme.changed_at: act.at,
        Programme.changed_by: act.actor,
    }
    async with writing_transaction(Programme._meta.db):
        existing = await Programme.select(Programme.id).first()
        if existing is None:
            await Programme.insert(Programme(_data=values))
        else:
            await Programme.update(cast("dict[Column | str, Any]", values)).where(
                Programme.id == existing["id"]
            )
        # cycles not under way and not moved by hand follow the new rules
        await PlannedCycle.delete().where(
            PlannedCycle.cycle.is_null()
            & (PlannedCycle.moved == False)  # noqa: E712 (a column, not a bool)
            & (PlannedCycle.skipped == False)  # noqa: E712
        )
        await _plan(rules, act.at)
        detail = {
            **{k: str(v) for k, v in asdict(rules).items()},
            "site_instrument": site_instrument,
            "sponsor_instrument": sponsor_instrument,
        }
        await audit.record(act.actor, "programme.set", "programme", 1, detail, act.person_id)
    return await planned_cycles()


async def plan_ahead(now: dt.datetime) -> None:
    """Plan the cycles that came within the horizon since the last time (each tick)."""
    programme = await the_programme()
    if programme is None:
        return
    async with writing_transaction(Programme._meta.db):
        await _plan(programme.rules, now)


async def _plan(rules: Rules, now: dt.datetime) -> None:
    """Add the cycles the rules plan within the horizon that are not planned yet.

    A cycle that would already have closed is not planned (the programme does not run the
    past). A draft or open cycle created by hand with the same key is taken over, with its
    own dates; one further along is left to be finished by hand.
    """
    planned = {r["key"] for r in await PlannedCycle.select(PlannedCycle.key)}
    existing = {
        r["key"]: r
        for r in await Cycle.select(
            Cycle.id, Cycle.key, Cycle.status, Cycle.opens_at, Cycle.closes_at
        )
    }
    for dates in planned_dates(rules, (now + HORIZON).date()):
        if dates.key in planned or dates.closes_at < now:
            continue
        cycle = existing.get(dates.key)
        if cycle is not None and cycle["status"] not in (CycleStatus.draft, CycleStatus.open):
            continue
        moved = False
        if cycle is not None:
            opens_at = cycle["opens_at"] or dates.opens_at
            closes_at = cycle["closes_at"] or dates.closes_at
            moved = (opens_at, closes_at) != (dates.opens_at, dates.closes_at)
            dates = replace(dates, opens_at=opens_at, closes_at=closes_at)
        await PlannedCycle.insert(
            PlannedCycle(
                key=dates.key,
                opens_at=dates.opens_at,
                closes_at=dates.closes_at,
                review_ends_at=max(dates.review_ends_at, dates.closes_at + dt.timedelta(days=1)),
                moved=moved,
                cycle=cycle["id"] if cycle is not None else None,
                # a cycle opened by hand was invited by hand
                invited_at=now
                if cycle is not None and cycle["status"] == CycleStatus.open
                else None,
            )
        )
    # only cycles not under way: an open or scored cycle's dates are its own (closed early,
    # reopened) and no plan can change them now
    check_calendar(
        [
            record.dates
            for record in await planned_cycles()
            if not record.done.skipped and record.done.status in (None, CycleStatus.draft)
        ]
    )


async def move_cycle(
    key: str,
    act: Act,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    review_ends_on: dt.date | None = None,
) -> PlannedRecord:
    """Move a planned cycle's dates (each one given); return it as moved. Moving only the
    closing day moves the end of the review window with it.

    Opening and closing can move only before the cycle opens: an open cycle is closed, or a
    closed one reopened, from its own page. The review window can move until publication.
    """
    for day in (opens_on, closes_on, review_ends_on):
        if day is not None:
            check_day(day)
    async with writing_transaction(PlannedCycle._meta.db):
        planned = await planned_cycle(key)
        status = planned.done.status
        if (opens_on or closes_on) and status not in (None, CycleStatus.draft):
            raise ScheduleError(
                N_(
                    "cycle %(cycle)s is already %(status)s: its opening and closing dates no "
                    "longer move here (close or reopen it from the cycle's page)"
                ),
                cycle=key,
                status=status,
            )
        if review_ends_on and status == CycleStatus.published:
            raise ScheduleError(
                N_("cycle %(cycle)s is published: its review window is over"), cycle=key
            )
        before = planned.dates
        closes_at = day_end(closes_on) if closes_on else before.closes_at
        after = Dates(
            key,
            day_start(opens_on) if opens_on else before.opens_at,
            closes_at,
            # the review window keeps its length when only the closing day moves
            day_end(review_ends_on)
            if review_ends_on
            else before.review_ends_at + (closes_at - before.closes_at),
        )
        if opens_on and after.opens_at < act.at.replace(hour=0, minute=0, second=0, microsecond=0):
            raise ScheduleError(
                N_("cycle %(cycle)s cannot open on %(day)s: that day is past"),
                cycle=key,
                day=opens_on.isoformat(),
            )
        check_calendar([*await _others(key), after])
        await PlannedCycle.update(
            {
                PlannedCycle.opens_at: after.opens_at,
                PlannedCycle.closes_at: after.closes_at,
                PlannedCycle.review_ends_at: after.review_ends_at,
                PlannedCycle.moved: True,
            }
        ).where(PlannedCycle.id == planned.id)
        if closes_on and planned.cycle_id is not None:  # a draft taken over: same day there
            await Cycle.update({Cycle.closes_at: after.closes_at}).where(
                Cycle.id == planned.cycle_id
            )
        await audit.record(
            act.actor,
            "programme.move",
            "planned_cycle",
            planned.id,
            {
                "cycle": key,
                "from": _days(before),
                "to": _days(after),
            },
            act.person_id,
        )
    return await planned_cycle(key)


async def _others(key: str) -> list[Dates]:
    """The dates of every planned cycle but `key` that is not skipped."""
    return [p.dates for p in await planned_cycles() if p.key != key and not p.done.skipped]


def _days(dates: Dates) -> dict[str, str]:
    return {
        "opens": f"{dates.opens_at:%Y-%m-%d}",
        "closes": f"{dates.closes_at:%Y-%m-%d}",
        "review_ends": f"{dates.review_ends_at:%Y-%m-%d}",
    }


async def skip_cycle(key: str, skipped: bool, act: Act) -> PlannedRecord:
    """Skip a planned cycle that has not opened (or take it back into the plan)."""
    async with writing_transaction(PlannedCycle._meta.db):
        planned = await planned_cycle(key)
        if planned.done.status not in (None, CycleStatus.draft):
            raise ScheduleError(
                N_("cycle %(cycle)s is already %(status)s: only a cycle not yet opened is skipped"),
                cycle=key,
                status=planned.done.status,
            )
        if not skipped:
            others = [
                p.dates for p in await planned_cycles() if p.key != key and not p.done.skipped
            ]
            check_calendar([*others, planned.dates])
        await PlannedCycle.update({PlannedCycle.skipped: skipped}).where(
            PlannedCycle.id == planned.id
        )
        await audit.record(
            act.actor,
            "programme.skip" if skipped else "programme.unskip",
            "planned_cycle",
            planned.id,
            {"cycle": key},
            act.person_id,
        )
    return await planned_cycle(key)


async def pause_programme(paused: bool, act: Act) -> None:
    """Pause the programme (nothing is done until it resumes) or resume it.

    Resuming does not run the past: steps whose day came while paused are done at the next
    tick if still possible (a cycle still before its closing day opens late), else shown as
    missed.
    """
    async with writing_transaction(Programme._meta.db):
        if await the_programme() is None:
            raise ScheduleError(N_("no programme is set up yet"))
        await Programme.update(
            {
                Programme.paused: paused,
                Programme.changed_at: act.at,
                Programme.changed_by: act.actor,
            }
        ).where(Programme.id.is_not_null())
        await audit.record(
            act.actor,
            "programme.pause" if paused else "programme.resume",
            "programme",
            1,
            {},
            act.person_id,
        )
