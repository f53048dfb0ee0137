"""A programme walks through two quarters on its own, time moved forward tick by tick.

Every e-mail goes through a real SMTP server on localhost (aiosmtpd): invitations on the
opening day, reminders only to those who have not answered and only as often as the
rules allow, the reviewers' letters, and every scorecard once.
"""

from __future__ import annotations

import datetime as dt
import email.message
import random
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from surveys.accounts.credentials import GrantRole, create_account
from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.directory.audit import Act, AuditEntry
from surveys.directory.organisations import Organisation, Person
from surveys.infra.mail import Mailer, Outbox, SMTPRelay
from surveys.infra.settings import SMTPServer
from surveys.instruments.questionnaires import questionnaire_for
from surveys.jobs import Job
from surveys.programme import (
    Cadence,
    Rules,
    ScheduleError,
    Tools,
    move_cycle,
    pause_programme,
    planned_cycle,
    set_programme,
    skip_cycle,
    tick,
)
from surveys.responses.answering import FormAnswers, save_answers
from surveys.scorecards import RenderedScorecard, ScorecardMailing
from tests.mail_sink import Inbox

pytestmark = pytest.mark.anyio
RULES = Rules(
    Cadence.quarterly,
    dt.date(2027, 1, 4),
    open_days=28,
    review_days=14,
    reminder_days=(14, 7),
    most_reminders=2,
    review_reminder_days=3,
    publish_when_window_ends=True,
)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def tools_for(server: SMTPServer, folder: Path) -> Tools:
    relay = SMTPRelay(server, attempts=1, pause=0)
    mailer = Mailer("k" * 43, "https://rapport.example.org", "Rapport <r@rapport.example>", relay)
    return Tools(mailer, folder, pdf_processes=2, reminders=3, reminder_days=3)


async def steps(now: dt.datetime, tools: Tools) -> list[str]:
    """The steps one tick took, each with how its job ended."""
    return [f"{run.key} {run.step.value} {run.job.state}" for run in await tick(now, tools)]


async def answer_some(key: str, share: float, now: dt.datetime, seed: int) -> set[str]:
    """Everyone of a random `share` of the cycle's invited people answers every invitation;
    return their e-mails."""
    rows = await Invitation.select(
        Invitation.id,
        Invitation.instrument,
        Invitation.target._.name.as_alias("partner"),
        Invitation.respondent._.email.as_alias("email"),
    ).where(Invitation.cycle._.key == key)
    people = sorted({row["email"] for row in rows})
    chosen = set(random.Random(seed).sample(people, round(share * len(people))))
    for row in rows:
        if row["email"] in chosen:
            form = await questionnaire_for(row["instrument"], row["partner"], "en")
            top = range(max(1, form.scale_points - 3), form.scale_points + 1)
            scores = random.Random(row["id"]).choices(top, k=len(form.likert_keys))
            answers = FormAnswers(dict(zip(form.likert_keys, scores, strict=True)), {}, 8, "")
            await save_answers(row["id"], form, answers, True, now)
    return chosen


def addressees(messages: Iterable[email.message.EmailMessage]) -> Counter[str]:
    return Counter(str(m["To"]).rsplit("<", 1)[-1].rstrip(">") for m in messages)


async def unanswered_people(key: str) -> set[str]:
    rows = await Invitation.select(Invitation.respondent._.email.as_alias("email")).where(
        (Invitation.cycle._.key == key) & (Invitation.status != "submitted")
    )
    return {row["email"] for row in rows}


async def a_reviewer(now: dt.datetime) -> str:
    """A sponsor's person with an account that reviews the sponsor's tiers; their e-mail."""
    sponsor = (
        await Organisation.select(Organisation.id).where(Organisation.kind == "sponsor").first()
    )
    person = await Person.select(Person.email).where(Person.organisation == sponsor["id"]).first()
    await create_account(person["email"], [(GrantRole.sponsor_user, sponsor["id"])], now)
    return str(person["email"])


@pytest.mark.sqlite_only  # on PostgreSQL the same walk runs through `rapport worker` processes
async def test_a_programme_runs_two_quarters_on_its_own(
    scored_world_db: Engine, inbox: tuple[Inbox, SMTPServer], tmp_path: Path
) -> None:
    sink, server = inbox
    tools = tools_for(server, tmp_path / "scorecards")
    reviewer = await a_reviewer(at("2026-12-01T09:00"))
    plan = await set_programme(RULES, Act("admin@rapport.example", at("2026-12-01T09:00")))
    assert [p.key for p in plan][:4] == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]

    assert await steps(at("2027-01-03T23:00"), tools) == []
    assert await steps(at("2027-01-04T00:05"), tools) == ["2027-Q1 open done"]
    invited = await unanswered_people("2027-Q1")
    assert addressees(sink.messages) == Counter(invited)  # one letter each, naming all partners
    assert await steps(at("2027-01-04T00:06"), tools) == []  # nothing twice

    answered = await answer_some("2027-Q1", 0.6, at("2027-01-10T10:00"), seed=1)
    waiting = await unanswered_people("2027-Q1")
    assert answered and waiting and not answered & waiting
    sink.messages.clear()
    assert await steps(at("2027-01-18T06:00"), tools) == ["2027-Q1 remind done"]
    assert addressees(sink.messages) == Counter(waiting)
    assert await steps(at("2027-01-19T06:00"), tools) == []
    assert await steps(at("2027-01-25T06:00"), tools) == ["2027-Q1 remind done"]
    assert await steps(at("2027-01-30T06:00"), tools) == []  # two reminders at most
    assert addressees(sink.messages) == Counter({person: 2 for person in waiting})

    sink.messages.clear()
    assert await steps(at("2027-02-01T00:01"), tools) == ["2027-Q1 close done"]
    assert await steps(at("2027-02-01T00:02"), tools) == ["2027-Q1 score done"]
    assert await steps(at("2027-02-01T00:03"), tools) == ["2027-Q1 tell_reviewers done"]
    [ready] = sink.messages
    assert ready["To"].addresses[0].addr_spec == reviewer
    assert ready["Subject"] == "Rapport: the 2027-Q1 tiers are ready for your review"
    assert "14 February 2027" in ready.get_content()
    assert "/tiers?cycle=2027-Q1" in ready.get_content()
    assert await steps(at("2027-02-11T06:00"), tools) == []
    assert await steps(at("2027-02-12T06:00"), tools) == ["2027-Q1 remind_reviewers done"]
    assert (
        sink.messages[-1]["Subject"] == "Rapport: the 2027-Q1 tier review ends on 14 February 2027"
    )

    sink.messages.clear()
    assert await steps(at("2027-02-15T00:01"), tools) == ["2027-Q1 publish done"]
    assert await steps(at("2027-02-15T00:02"), tools) == ["2027-Q1 scorecards done"]
    assert await steps(at("2027-02-16T00:02"), tools) == []
    cards = await RenderedScorecard.count().where(RenderedScorecard.cycle._.key == "2027-Q1")
    mailed = await ScorecardMailing.select(ScorecardMailing.key).where(
        ScorecardMailing.scorecard._.cycle._.key == "2027-Q1"
    )
    assert cards > 0 and len(list((tmp_path / "scorecards" / "2027-Q1").rglob("*.pdf"))) == cards
    assert len(sink.messages) == len(mailed) > 0
    assert all(m.get_content_type() == "multipart/mixed" for m in sink.messages)
    assert len({m["Message-ID"] for m in sink.messages}) == len(sink.messages)

    # the second quarter, one tick a day: each step once, in order
    sink.messages.clear()
    taken = []
    day = at("2027-04-01T06:00")
    while day < at("2027-05-20T06:00"):
        if day == at("2027-04-10T06:00"):
            await answer_some("2027-Q2", 0.7, day, seed=2)
        taken += await steps(day, tools)
        day += dt.timedelta(days=1)
    assert taken == [
        f"2027-Q2 {step} done"
        for step in (
            "open",
            "remind",
            "remind",
            "close",
            "score",
            "tell_reviewers",
            "remind_reviewers",
            "publish",
            "scorecards",
        )
    ]
    assert await Cycle.count().where(Cycle.key.is_in(["2027-Q1", "2027-Q2"])) == 2
    # each cycle keeps its own scorecards and mailings: the second did not replace the first
    assert await RenderedScorecard.count().where(RenderedScorecard.cycle._.key == "2027-Q1") == (
        cards
    )
    assert await ScorecardMailing.count().where(
        ScorecardMailing.scorecard._.cycle._.key == "2027-Q1"
    ) == len(mailed)
    assert await RenderedScorecard.count().where(RenderedScorecard.cycle._.key == "2027-Q2") > 0
    audited = await AuditEntry.select(AuditEntry.action).where(AuditEntry.actor == "programme")
    assert Counter(r["action"] for r in audited)["cycle.publish"] == 2
    programme_jobs = await Job.count().where(Job.started_by == "programme")
    assert programme_jobs == 2 * 9  # the nine steps above, each quarter; no catch-up needed


async def test_a_step_whose_mail_server_is_down_is_tried_later_and_sends_nothing_twice(
    world_db: Engine, inbox: tuple[Inbox, SMTPServer], tmp_path: Path
) -> None:
    sink, server = inbox
    tools = tools_for(server, tmp_path)
    await set_programme(RULES, Act("admin@rapport.example", at("2026-12-01T09:00")))
    sink.busy = 10**6  # "try again later" to everything
    assert await steps(at("2027-01-04T00:05"), tools) == ["2027-Q1 open done"]
    assert sink.messages == []
    assert (await planned_cycle("2027-Q1")).retry_after == at("2027-01-04T00:20")
    assert await steps(at("2027-01-04T00:10"), tools) == []  # waits its turn
    sink.busy = 0
    assert await steps(at("2027-01-04T00:20"), tools) == ["2027-Q1 invite done"]
    invited = await unanswered_people("2027-Q1")
    assert addressees(sink.messages) == Counter(invited)
    assert await steps(at("2027-01-04T01:00"), tools) == []


async def test_dates_move_skip_and_pause_are_checked_and_audited(
    world_db: Engine, tmp_path: Path
) -> None:
    admin = Act("admin@rapport.example", at("2026-12-01T09:00"))
    await set_programme(RULES, admin)
    moved = await move_cycle("2027-Q1", admin, closes_on=dt.date(2027, 2, 7))
    assert moved.dates.closes_at == at("2027-02-07T23:59:59") and moved.moved
    with pytest.raises(ScheduleError, match=r"would close \(2027-01-01\) before it opens"):
        await move_cycle("2027-Q1", admin, closes_on=dt.date(2027, 1, 1))
    with pytest.raises(ScheduleError, match="overlap: 2027-Q2 opens on 2027-04-04, before 2027-Q1"):
        await move_cycle("2027-Q1", admin, closes_on=dt.date(2027, 4, 10))
    with pytest.raises(ScheduleError, match="no cycle '2031-Q1'"):
        await skip_cycle("2031-Q1", True, admin)
    await skip_cycle("2027-Q2", True, admin)
    await pause_programme(True, admin)
    mailer = Mailer("k" * 43, "https://rapport.example.org", "r@rapport.example", Outbox(tmp_path))
    tools = Tools(mailer, tmp_path, pdf_processes=1, reminders=3, reminder_days=3)
    assert await tick(at("2027-01-04T06:00"), tools) == []  # paused: nothing at all
    await pause_programme(False, admin)
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.action.like("programme.%"))
        .order_by(AuditEntry.id)
    ]
    assert actions == [
        "programme.set",
        "programme.move",
        "programme.skip",
        "programme.pause",
        "programme.resume",
    ]
    # once opened, a cycle's dates no longer move here, and it is not skipped
    assert await steps(at("2027-01-04T06:00"), tools) == ["2027-Q1 open done"]
    with pytest.raises(ScheduleError, match="2027-Q1 is already open: its opening and closing"):
        await move_cycle("2027-Q1", admin, closes_on=dt.date(2027, 2, 10))
    with pytest.raises(ScheduleError, match="only a cycle not yet opened is skipped"):
        await skip_cycle("2027-Q1", True, admin)
    later = await move_cycle("2027-Q1", admin, review_ends_on=dt.date(2027, 2, 28))
    assert later.dates.review_ends_at == at("2027-02-28T23:59:59")
