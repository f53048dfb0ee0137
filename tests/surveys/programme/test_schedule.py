"""The programme's calendar: dates from a cadence, refused calendars, and what is due when."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from surveys.programme.schedule import (
    Cadence,
    Progress,
    Rules,
    ScheduleError,
    Step,
    check_rules,
    dates_of,
    due_step,
    months_later,
    planned_dates,
)

QUARTERLY = Rules(Cadence.quarterly, dt.date(2027, 1, 4), open_days=28, review_days=14)
DAY = dt.timedelta(days=1)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_a_quarterly_programme_opens_every_three_months_keyed_by_quarter() -> None:
    plan = planned_dates(QUARTERLY, dt.date(2027, 12, 31))
    assert [d.key for d in plan] == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    first = plan[0]
    assert first.opens_at == at("2027-01-04T00:00:00")
    assert first.closes_at == at("2027-01-31T23:59:59")  # 28 days counting the first
    assert first.review_ends_at == at("2027-02-14T23:59:59")
    assert plan[1].opens_at == at("2027-04-04T00:00:00")


def test_a_month_end_opening_falls_on_each_months_last_day() -> None:
    assert months_later(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert months_later(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)
    rules = replace(QUARTERLY, cadence=Cadence.half_yearly, first_opens_on=dt.date(2027, 8, 31))
    keys = [(d.key, d.opens_at.date()) for d in planned_dates(rules, dt.date(2028, 12, 31))]
    assert keys == [
        ("2027-H2", dt.date(2027, 8, 31)),
        ("2028-H1", dt.date(2028, 2, 29)),
        ("2028-H2", dt.date(2028, 8, 31)),
    ]


def test_listed_dates_plan_one_cycle_each_in_order() -> None:
    rules = replace(
        QUARTERLY,
        cadence=Cadence.dates,
        listed=(dt.date(2027, 9, 1), dt.date(2027, 3, 15)),
    )
    check_rules(rules)
    assert [d.key for d in planned_dates(rules, dt.date(2028, 1, 1))] == [
        "2027-03-15",
        "2027-09-01",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"open_days": 0}, "at least one day"),
        ({"review_days": 0}, "review window must last at least one day"),
        ({"reminder_days": (30,)}, "give days before closing from 1 to 27"),
        ({"open_days": 70}, "quarterly cycle that takes answers for 70 days would still be open"),
        (
            {"cadence": Cadence.dates, "listed": (dt.date(2027, 3, 1), dt.date(2027, 3, 20))},
            "cycles 2027-03-01 and 2027-03-20 overlap: 2027-03-20 opens on 2027-03-20, before "
            "2027-03-01 closes on 2027-03-28",
        ),
        (
            {"cadence": Cadence.dates, "listed": (dt.date(2027, 3, 1), dt.date(2027, 3, 1))},
            "listed twice",
        ),
        ({"cadence": Cadence.dates, "listed": ()}, "at least one opening date"),
        ({"review_days": 10**12}, "366 days at most"),
        ({"first_opens_on": dt.date(9999, 12, 31)}, "9999-12-31 is not a day a programme"),
    ],
)
def test_a_calendar_that_makes_no_sense_is_refused_with_why(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(ScheduleError, match=message):
        check_rules(replace(QUARTERLY, **change))  # type: ignore[arg-type]


def test_each_step_is_due_in_its_turn() -> None:
    rules = replace(QUARTERLY, reminder_days=(14, 7), most_reminders=2, review_reminder_days=3)
    dates = dates_of(rules, dt.date(2027, 1, 4))
    before = Progress(status=None)
    assert due_step(rules, dates, before, at("2027-01-03T23:59:59")) is None
    assert due_step(rules, dates, before, at("2027-01-04T00:00:00")) == Step.open
    assert due_step(rules, dates, before, dates.closes_at) is None  # missed: never opened late
    opened = Progress(status="open")
    assert due_step(rules, dates, opened, at("2027-01-05T00:00:00")) == Step.invite
    invited = Progress(status="open", invited=True)
    assert due_step(rules, dates, invited, at("2027-01-17T23:59:58")) is None
    assert due_step(rules, dates, invited, at("2027-01-17T23:59:59")) == Step.remind
    once = replace(invited, reminder_rounds=1)
    assert due_step(rules, dates, once, at("2027-01-20T00:00:00")) is None
    assert due_step(rules, dates, once, at("2027-01-24T23:59:59")) == Step.remind
    twice = replace(invited, reminder_rounds=2)
    assert due_step(rules, dates, twice, at("2027-01-31T00:00:00")) is None
    assert due_step(rules, dates, twice, dates.closes_at) == Step.close
    assert due_step(rules, dates, Progress(status="closed"), dates.closes_at) == Step.score
    scored = Progress(status="scored")
    assert due_step(rules, dates, scored, dates.closes_at) == Step.tell_reviewers
    told = replace(scored, reviewers_told=True)
    assert due_step(rules, dates, told, at("2027-02-11T23:59:58")) is None
    assert due_step(rules, dates, told, at("2027-02-11T23:59:59")) == Step.remind_reviewers
    reminded = replace(told, reviewers_reminded=True)
    assert due_step(rules, dates, reminded, dates.review_ends_at + DAY) is None  # by hand
    auto = replace(rules, publish_when_window_ends=True)
    assert due_step(auto, dates, reminded, dates.review_ends_at) == Step.publish
    published = Progress(status="published")
    assert due_step(rules, dates, published, dates.review_ends_at) == Step.scorecards
    done = replace(published, scorecards_done=True)
    assert due_step(rules, dates, done, dates.review_ends_at + 100 * DAY) is None


def test_a_skipped_cycle_has_nothing_due() -> None:
    dates = dates_of(QUARTERLY, dt.date(2027, 1, 4))
    assert due_step(QUARTERLY, dates, Progress(None, skipped=True), dates.opens_at) is None


def test_reminders_never_exceed_what_a_person_may_get() -> None:
    rules = replace(QUARTERLY, reminder_days=(21, 14, 7, 2), most_reminders=2)
    dates = dates_of(rules, dt.date(2027, 1, 4))
    late = Progress(status="open", invited=True, reminder_rounds=2)
    assert due_step(rules, dates, late, dates.closes_at - DAY) is None


def test_the_first_reminder_is_not_held_back_by_the_spacing_of_later_ones() -> None:
    from surveys.programme.programme import ProgrammeRecord
    from surveys.programme.ticks import _spacing

    short = replace(QUARTERLY, open_days=10, reminder_days=(7, 2))
    record = ProgrammeRecord(short, None, None, False, at("2027-01-01T00:00:00"), "admin")
    assert _spacing(record) == 2  # invitation day 1, first round day 3: two days apart
