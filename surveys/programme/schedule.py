"""The programme's calendar, worked out from its rules: pure dates, no database.

A programme says how often a cycle runs (its cadence) and how long each stage lasts; this
module turns that into the dated cycles of a horizon, checks a set of dates makes sense
(each cycle closes after it opens, its review window ends after it closes, and no two
cycles collect answers at the same time), and, given what has been done so far, says which
step of a cycle is due at a moment. The worker asks that question at every tick, so the
schedule is always worked out afresh from what the database holds: a restart loses
nothing, and two workers asking at once get the same answer (the steps themselves are
guarded against running twice).

Times are UTC: a cycle opens at 00:00 on its opening day and closes at 23:59:59 on its
closing day, as the console's dates mean.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_


class Cadence(StrEnum):
    """How often a programme's cycles run."""

    quarterly = "quarterly"
    half_yearly = "half-yearly"
    yearly = "yearly"
    dates = "dates"
    """Listed opening dates, for a programme with an irregular calendar."""


MONTHS = {Cadence.quarterly: 3, Cadence.half_yearly: 6, Cadence.yearly: 12}
"""Months between two openings, for each regular cadence."""


class ScheduleError(RapportError):
    """A programme's dates do not make sense; the message says which and why."""


class Step(StrEnum):
    """What the programme does to a cycle, in the order it does it."""

    open = "open"
    invite = "invite"
    """Send the invitations an opening left unsent (its worker stopped, the mail was down)."""
    remind = "remind"
    close = "close"
    score = "score"
    tell_reviewers = "tell_reviewers"
    remind_reviewers = "remind_reviewers"
    publish = "publish"
    scorecards = "scorecards"


@dataclass(frozen=True)
class Rules:
    """A programme's rules: its cadence and how long each stage lasts."""

    cadence: Cadence
    first_opens_on: dt.date
    open_days: int
    """Days a cycle takes answers, counting its opening day."""
    review_days: int
    """Days of the tier-review window after the cycle closes."""
    listed: tuple[dt.date, ...] = ()
    """Opening days, for Cadence.dates."""
    reminder_days: tuple[int, ...] = (14, 7, 2)
    """Days before closing on which a reminder round goes out."""
    most_reminders: int = 3
    """Reminders one person gets at most in a cycle."""
    review_reminder_days: int = 3
    """Days before the review window ends that reviewers with tiers left are reminded."""
    publish_when_window_ends: bool = False


@dataclass(frozen=True)
class Dates:
    """When one cycle opens, closes and its review window ends."""

    key: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    review_ends_at: dt.datetime


def day_start(day: dt.date) -> dt.datetime:
    """00:00 UTC of a day: when a cycle opening that day opens."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


def day_end(day: dt.date) -> dt.datetime:
    """23:59:59 UTC of a day: when a cycle closing that day closes."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


def months_later(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later, or that month's last day if it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def cycle_key(cadence: Cadence, opens_on: dt.date) -> str:
    """The key a cycle opening on `opens_on` gets: 2027-Q1, 2027-H2, 2027, or 2027-03-15."""
    if cadence == Cadence.quarterly:
        return f"{opens_on.year}-Q{(opens_on.month - 1) // 3 + 1}"
    if cadence == Cadence.half_yearly:
        return f"{opens_on.year}-H{1 if opens_on.month <= 6 else 2}"
    if cadence == Cadence.yearly:
        return f"{opens_on.year}"
    return opens_on.isoformat()


def planned_dates(rules: Rules, through: dt.date) -> list[Dates]:
    """Every cycle the rules plan that opens on or before `through`, in order."""
    if rules.cadence == Cadence.dates:
        days: Iterable[dt.date] = (d for d in sorted(rules.listed) if d <= through)
    else:
        days = _every(rules.first_opens_on, MONTHS[rules.cadence], through)
    return [dates_of(rules, day) for day in days]


def dates_of(rules: Rules, opens_on: dt.date) -> Dates:
    """The dates of the cycle opening on `opens_on` under the rules."""
    closes_on = opens_on + dt.timedelta(days=rules.open_days - 1)
    return Dates(
        cycle_key(rules.cadence, opens_on),
        day_start(opens_on),
        day_end(closes_on),
        day_end(closes_on + dt.timedelta(days=rules.review_days)),
    )


def _every(first: dt.date, months: int, through: dt.date) -> Iterable[dt.date]:
    n = 0
    while (day := months_later(first, months * n)) <= through:
        yield day
        n += 1


LONGEST = 366
"""Days a stage may last at most: a cycle open, or a review window, for a year."""


def check_day(day: dt.date) -> dt.date:
    """`day` if a programme could use it (this century or the next), else ScheduleError."""
    if not 2000 <= day.year <= 2199:
        raise ScheduleError(N_("%(day)s is not a day a programme can use"), day=day.isoformat())
    return day


def check_rules(rules: Rules) -> None:
    """Raise ScheduleError if the rules could not make a sensible calendar."""
    for day in (rules.first_opens_on, *rules.listed):
        check_day(day)
    if rules.open_days > LONGEST or rules.review_days > LONGEST:
        raise ScheduleError(
            N_("a cycle takes answers, and its review window lasts, %(most)s days at most"),
            most=LONGEST,
        )
    if rules.open_days < 1:
        raise ScheduleError(N_("a cycle must take answers for at least one day"))
    if rules.review_days < 1:
        raise ScheduleError(N_("the tier-review window must last at least one day"))
    if rules.most_reminders < 0:
        raise ScheduleError(N_("the number of reminders cannot be negative"))
    if any(d < 1 or d >= rules.open_days for d in rules.reminder_days):
        raise ScheduleError(
            N_(
                "a reminder goes out between the day after opening and the day before closing: "
                "give days before closing from 1 to %(most)s"
            ),
            most=rules.open_days - 1,
        )
    if not 1 <= rules.review_reminder_days < rules.review_days + 1:
        raise ScheduleError(
            N_("reviewers are reminded from 1 to %(most)s days before the window ends"),
            most=rules.review_days,
        )
    if rules.cadence == Cadence.dates:
        if not rules.listed:
            raise ScheduleError(N_("list at least one opening date"))
        if len(set(rules.listed)) != len(rules.listed):
            raise ScheduleError(N_("an opening date is listed twice"))
    elif rules.open_days > 31 * MONTHS[rules.cadence] - 31:
        raise ScheduleError(
            N_(
                "a %(cadence)s cycle that takes answers for %(days)s days would still be open "
                "when the next one opens"
            ),
            cadence=rules.cadence.value,
            days=rules.open_days,
        )
    check_calendar(planned_dates(rules, max([rules.first_opens_on, *rules.listed])))


def check_calendar(cycles: Sequence[Dates]) -> None:
    """Raise ScheduleError unless each cycle closes after it opens, its window ends after it
    closes, and no two cycles take answers at once (a review window may overlap the next
    cycle: reviewing one quarter while the next is answered is the usual rhythm)."""
    for dates in cycles:
        if dates.closes_at <= dates.opens_at:
            raise ScheduleError(
                N_("cycle %(cycle)s would close (%(closes)s) before it opens (%(opens)s)"),
                cycle=dates.key,
                closes=f"{dates.closes_at:%Y-%m-%d}",
                opens=f"{dates.opens_at:%Y-%m-%d}",
            )
        if dates.review_ends_at <= dates.closes_at:
            raise ScheduleError(
                N_(
                    "the review window of %(cycle)s would end (%(ends)s) before the cycle "
                    "closes (%(closes)s)"
                ),
                cycle=dates.key,
                ends=f"{dates.review_ends_at:%Y-%m-%d}",
                closes=f"{dates.closes_at:%Y-%m-%d}",
            )
    ordered = sorted(cycles, key=lambda d: d.opens_at)
    for before, after in itertools.pairwise(ordered):
        if after.opens_at <= before.closes_at:
            raise ScheduleError(
                N_(
                    "cycles %(first)s and %(second)s overlap: %(second)s opens on %(opens)s, "
                    "before %(first)s closes on %(closes)s"
                ),
                first=before.key,
                second=after.key,
                opens=f"{after.opens_at:%Y-%m-%d}",
                closes=f"{before.closes_at:%Y-%m-%d}",
            )


@dataclass(frozen=True)
class Progress:
    """How far the programme got with one cycle, as the database says."""

    status: str | None
    """The cycle's status (a CycleStatus value), or None if it is not created yet."""
    invited: bool = False
    """Every invitation of the opening went out (or was held back for a reason of its own)."""
    reminder_rounds: int = 0
    """Reminder rounds done."""
    reviewers_told: bool = False
    reviewers_reminded: bool = False
    scorecards_done: bool = False
    skipped: bool = False


def reminder_rounds_due(rules: Rules, closes_at: dt.datetime, now: dt.datetime) -> int:
    """How many reminder rounds should have gone out by `now` (a round per listed day
    before closing that has come, never more than the rules allow a person)."""
    come = sum(1 for d in rules.reminder_days if now >= closes_at - dt.timedelta(days=d))
    return min(come, rules.most_reminders)


def due_step(rules: Rules, dates: Dates, done: Progress, now: dt.datetime) -> Step | None:
    """The step of this cycle that is due at `now`, or None if nothing is.

    One step at a time, in order: a cycle closes only once it was opened, is scored only
    once closed, and so on; the next tick takes the step after.
    """
    if done.skipped:
        return None
    status = done.status
    if status in (None, "draft"):
        return Step.open if dates.opens_at <= now < dates.closes_at else None
    if status == "open":
        if now >= dates.closes_at:
            return Step.close
        if not done.invited:
            return Step.invite
        if done.reminder_rounds < reminder_rounds_due(rules, dates.closes_at, now):
            return Step.remind
        return None
    if status == "closed":
        return Step.score
    if status == "scored":
        if not done.reviewers_told:
            return Step.tell_reviewers
        if rules.publish_when_window_ends and now >= dates.review_ends_at:
            return Step.publish
        reminding = dates.review_ends_at - dt.timedelta(days=rules.review_reminder_days)
        if not done.reviewers_reminded and reminding <= now < dates.review_ends_at:
            return Step.remind_reviewers
        return None
    if status == "published" and not done.scorecards_done:
        return Step.scorecards
    return None


STAGE_NAMES = {
    "open": N_("Opens: everyone is invited"),
    "remind": N_("Reminder to those who have not answered"),
    "close": N_("Closes"),
    "score": N_("Scored"),
    "tell_reviewers": N_("Tier reviewers told"),
    "remind_reviewers": N_("Tier reviewers reminded"),
    "review_ends": N_("Review window ends"),
    "publish": N_("Published (by the programme)"),
    "publish_by_hand": N_("Published by an administrator"),
    "scorecards": N_("Scorecards rendered and e-mailed"),
}
"""What each stage of a cycle's timeline is called (marked: pages translate them)."""


@dataclass(frozen=True)
class Stage:
    """One moment of a cycle's timeline, and where it stands."""

    name: str
    """A key of STAGE_NAMES."""
    at: dt.datetime
    state: str
    """done; late (its time came, it is not done yet); missed (the cycle went on without
    it); planned; or skipped (the whole cycle is)."""


def stages(rules: Rules, dates: Dates, done: Progress, now: dt.datetime) -> list[Stage]:
    """A cycle's timeline: every stage, when, and whether it is done, late or to come."""
    reached = _ORDER.index(done.status) if done.status in _ORDER else 0
    review_reminder = dates.review_ends_at - dt.timedelta(days=rules.review_reminder_days)
    moments = [
        ("open", dates.opens_at, reached >= _ORDER.index("open")),
        *(
            ("remind", dates.closes_at - dt.timedelta(days=days), done.reminder_rounds > n)
            for n, days in enumerate(sorted(rules.reminder_days, reverse=True))
            if n < rules.most_reminders
        ),
        ("close", dates.closes_at, reached >= _ORDER.index("closed")),
        ("score", dates.closes_at, reached >= _ORDER.index("scored")),
        ("tell_reviewers", dates.closes_at, done.reviewers_told),
        ("remind_reviewers", review_reminder, done.reviewers_reminded),
        ("review_ends", dates.review_ends_at, now >= dates.review_ends_at),
        (
            "publish" if rules.publish_when_window_ends else "publish_by_hand",
            dates.review_ends_at,
            reached >= _ORDER.index("published"),
        ),
        ("scorecards", dates.review_ends_at, done.scorecards_done),
    ]
    last_done = max((n for n, (_, _, finished) in enumerate(moments) if finished), default=-1)

    def state(n: int, at: dt.datetime, finished: bool) -> str:
        if done.skipped:
            return "skipped"
        if finished:
            return "done"
        if n < last_done:
            return "missed"  # the cycle went on without it (a step done by hand, say)
        return "late" if at <= now else "planned"

    return [
        Stage(name, at, state(n, at, finished)) for n, (name, at, finished) in enumerate(moments)
    ]


_ORDER = ("draft", "open", "closed", "scored", "published")
"""A cycle's statuses in the order it goes through them."""
