"""Two things at once: a web submit against an import or a close, two reminder runs.

A submit is paused inside its transaction (after its answers are written), the other
operation is started, then the submit is let go: the result must be what running them
one after the other would give.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

import surveys.infra.sql_scripts as statements
from surveys.cycles.invitations import Invitation
from surveys.cycles.life_cycle import close_cycle, create_cycle, open_cycle, send_reminders
from surveys.infra.mail import Mailer, Outbox
from surveys.infra.sql_scripts import Statement
from surveys.instruments.questionnaires import Questionnaire, questionnaire_for
from surveys.responses.answering import FormAnswers, SaveOutcome, save_answers
from surveys.responses.imports import ImportFileError, import_responses, load_mapping
from tests.surveys.responses.test_imports import CYCLE, answers_of, digests_of, two_invitations

pytestmark = pytest.mark.anyio
NOW = dt.datetime.now(dt.UTC)


async def respondent() -> tuple[dict[str, Any], Questionnaire]:
    person = (await two_invitations())[0]
    row = (
        await Invitation.select(Invitation.instrument, Invitation.target.name)
        .where(Invitation.id == person["id"])
        .first()
    )
    return person, await questionnaire_for(row["instrument"], row["target.name"], "en")


async def paused_submit(
    monkeypatch: pytest.MonkeyPatch, invitation_id: int, q: Questionnaire
) -> tuple[asyncio.Task[SaveOutcome], asyncio.Event]:
    """Start a complete web submit that waits, inside its transaction, until released.

    It pauses once its answers are written (the statement run for many rows).
    """
    written, release = asyncio.Event(), asyncio.Event()
    real = statements.execute

    async def then_wait(connection: Any, engine_type: str, statement: Statement) -> Any:
        rows = await real(connection, engine_type, statement)
        if statement.many is not None:
            written.set()
            await release.wait()
        return rows

    monkeypatch.setattr(statements, "execute", then_wait)
    answers = FormAnswers(dict.fromkeys(q.likert_keys, 4), {}, 2, "from the web")
    task = asyncio.create_task(save_answers(invitation_id, q, answers, True, NOW))
    await asyncio.wait_for(written.wait(), 10)
    monkeypatch.setattr(statements, "execute", real)
    return task, release


async def test_an_import_never_replaces_a_web_submission_in_flight(
    world_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, q = await respondent()
    await save_answers(person["id"], q, FormAnswers({q.likert_keys[0]: 3}), False, NOW)  # a draft
    web, release = await paused_submit(monkeypatch, person["id"], q)
    path = tmp_path / "answers.csv"
    path.write_text(f"email,target,work_again\n{person['email']},{person['target']},9\n")
    imported = asyncio.create_task(
        import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    )
    await asyncio.sleep(0.5)  # the import is now waiting for the submit
    release.set()
    outcome, refused = await asyncio.gather(web, imported, return_exceptions=True)
    assert outcome == SaveOutcome.submitted
    assert isinstance(refused, ImportFileError) and "already submitted" in str(refused)
    answers = await answers_of(person["id"])
    assert answers["work_again"] == (2, False, None), "the web answers stand"
    assert len(answers) == len(q.likert_keys) + 2
    digest, worked_out = (await digests_of([person["id"]]))[person["id"]]
    assert digest == worked_out, "a web submission keeps the digest of its answers"


async def test_closing_waits_for_a_submit_in_flight_and_counts_it(
    world_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, q = await respondent()
    web, release = await paused_submit(monkeypatch, person["id"], q)
    closing = asyncio.create_task(close_cycle(CYCLE, NOW))
    await asyncio.sleep(0.5)
    assert not closing.done(), "the close waits for the answer being saved"
    release.set()
    assert await web == SaveOutcome.submitted
    counted = await closing
    submitted = await Invitation.count().where(
        (Invitation.cycle.key == CYCLE) & (Invitation.status == "submitted")
    )
    assert counted == submitted


class SlowOutbox(Outbox):
    """An outbox that takes its time, so two runs overlap."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.delivered: list[str] = []

    async def deliver(self, message: EmailMessage, recipient: str) -> bool:
        await asyncio.sleep(0.005)
        self.delivered.append(str(message["Message-ID"]))
        return await super().deliver(message, recipient)


async def test_two_reminder_runs_at_once_remind_each_person_once(
    world_db: Engine, tmp_path: Path
) -> None:
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    await create_cycle("2027-Q1", "Q1", start + dt.timedelta(days=90), start)
    opened = await open_cycle(
        "2027-Q1", start, Mailer("k", "https://x", "a@b.org", Outbox(tmp_path / "first"))
    )
    slow = SlowOutbox(tmp_path / "reminders")
    mailer = Mailer("k", "https://x", "a@b.org", slow)
    later = start + dt.timedelta(days=6)
    first, second = await asyncio.gather(
        send_reminders("2027-Q1", later, mailer, 2, 5),
        send_reminders("2027-Q1", later, mailer, 2, 5),
    )
    assert first.sent + second.sent == opened.mail.sent
    assert len(slow.delivered) == len(set(slow.delivered)) == opened.mail.sent
    counts = await Invitation.select(Invitation.reminder_count).where(
        Invitation.cycle.key == "2027-Q1"
    )
    assert {c["reminder_count"] for c in counts} == {1}
