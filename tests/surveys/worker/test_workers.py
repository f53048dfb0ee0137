"""The programme on PostgreSQL, run by real `rapport worker` processes from the job queue.

The test moves time: it ticks the programme at chosen moments, handing each due step to
the queue (as the workers' once-a-minute tick does with the clock's time), and waits
for the workers to finish. E-mail goes through a real SMTP server on localhost. Then the
faults: a worker killed (`kill -9`) in the middle of the invitations and in the middle of
a scorecard batch, and two processes ticking the same due cycle at the same moment.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import procrastinate
import pytest
from piccolo.engine.base import Engine

from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.cycles.letters import MAIL_AT_ONCE
from surveys.directory.audit import Act, AuditEntry
from surveys.infra.settings import SMTPServer, load_settings
from surveys.jobs import Job, JobBusyError
from surveys.jobs.batches import BatchItem
from surveys.jobs.beats import WorkerBeat
from surveys.programme import PlannedCycle, Tools, set_programme, tick
from surveys.scorecards import RenderedScorecard, ScorecardMailing
from surveys.worker import queue_app, queue_schema_applied, work_health
from surveys.worker._queue import defer_console_step, deferring, requeue_stalled
from tests.conftest import url_of
from tests.mail_sink import Inbox
from tests.surveys.programme.test_programme_runs_itself import (
    RULES,
    a_reviewer,
    addressees,
    answer_some,
    at,
    unanswered_people,
)

pytestmark = [pytest.mark.anyio, pytest.mark.postgres_only]
SECRET = "s" * 43
WORKED = ["--queue", "scoring", "--queue", "mail", "--queue", "pdf"]
"""The queues a step runs on: the test ticks the programme itself, at the times it picks."""


@asynccontextmanager
async def configured(
    database: Engine, var: Path, server: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, str]]:
    """The environment the workers and this test share (database, mail, quick heartbeats),
    with the job queue's tables made."""
    env = {
        "DATABASE_URL": url_of(database),
        "RAPPORT_VAR_DIR": str(var),
        "RAPPORT_SECRET_KEY": SECRET,
        "RAPPORT_PUBLIC_URL": "https://rapport.example.org",
        "RAPPORT_SMTP_URL": f"smtp+plain://127.0.0.1:{server.port}",
        "RAPPORT_WORKER_HEARTBEAT": "1",
        "RAPPORT_JOB_STALE": "4",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    await queue_schema_applied(load_settings())
    yield env


def started_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = Path(env["RAPPORT_VAR_DIR"]).parent / "workers.log"
    """A `rapport worker` on the queues a step runs on (the test ticks itself)."""
    return subprocess.Popen(
        [sys.executable, "-m", "surveys", "worker", *WORKED],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),  # what a failing test shows: the workers' own account
    )


@asynccontextmanager
async def workers(env: dict[str, str], count: int) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    running = [started_worker(env) for _ in range(count)]
    try:
        yield running
    finally:
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


async def settled(app: procrastinate.App, timeout: float = 60) -> None:
    """Wait until the queue holds nothing to do and no job is running."""
    for _ in range(int(timeout * 10)):
        rows = await app.connector.execute_query_all_async(
            "SELECT count(*) AS n FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
            "AND queue_name <> 'programme'"
        )
        running = await Job.count().where(Job.state == "running")
        if rows[0]["n"] == 0 and running == 0:
            return
        await asyncio.sleep(0.1)
    waiting = await app.connector.execute_query_all_async(
        "SELECT task_name, status, count(*) AS n FROM procrastinate_jobs GROUP BY task_name, status"
    )
    jobs = await Job.select(Job.kind, Job.subject, Job.state, Job.done, Job.total, Job.failures)
    raise AssertionError(f"the workers did not finish: {waiting} {jobs}")


async def ticked(app: procrastinate.App, now: dt.datetime) -> list[str]:
    """Tick the programme at `now` through the queue, then wait for the workers."""
    runs = await tick(now, Tools.from_settings(load_settings()), deferring(app, now))
    await settled(app)
    return [f"{run.key} {run.step.value}" for run in runs]


async def test_workers_run_two_quarters_from_the_queue(
    scored_world_db: Engine,
    inbox: tuple[Inbox, SMTPServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink, server = inbox
    async with configured(scored_world_db, tmp_path / "var", server, monkeypatch) as env:
        reviewer = await a_reviewer(at("2026-12-01T09:00"))
        await set_programme(RULES, Act("admin@rapport.example", at("2026-12-01T09:00")))
        app = queue_app(load_settings())
        async with app.open_async(), workers(env, 2):
            assert await ticked(app, at("2027-01-04T00:05")) == ["2027-Q1 open"]
            invited = await unanswered_people("2027-Q1")
            assert addressees(sink.messages) == Counter(invited)
            answered = await answer_some("2027-Q1", 0.6, at("2027-01-10T10:00"), seed=1)
            sink.messages.clear()
            assert await ticked(app, at("2027-01-18T06:00")) == ["2027-Q1 remind"]
            assert addressees(sink.messages) == Counter(await unanswered_people("2027-Q1"))
            assert not answered & set(addressees(sink.messages))
            sink.messages.clear()
            taken = []
            day = at("2027-01-19T06:00")
            while day < at("2027-05-20T06:00"):
                if day == at("2027-04-10T06:00"):
                    await answer_some("2027-Q2", 0.7, day, seed=2)
                taken += await ticked(app, day)
                day += dt.timedelta(days=1)
    steps = ["remind", "close", "score", "tell_reviewers", "remind_reviewers"]
    later = ["publish", "scorecards"]
    assert taken == [
        *(f"2027-Q1 {s}" for s in [*steps, *later]),
        *(f"2027-Q2 {s}" for s in ["open", "remind", "remind", *steps[1:], *later]),
    ]
    assert (
        await Cycle.count().where(
            Cycle.key.is_in(["2027-Q1", "2027-Q2"]) & (Cycle.status == "published")
        )
        == 2
    )
    for key in ("2027-Q1", "2027-Q2"):
        cards = await RenderedScorecard.count().where(RenderedScorecard.cycle._.key == key)
        files = list((tmp_path / "var" / "scorecards" / key).rglob("*.pdf"))
        mailed = await ScorecardMailing.count().where(
            ScorecardMailing.scorecard._.cycle._.key == key
        )
        assert cards > 0 and len(files) == cards and mailed > 0
    with_pdf = [m for m in sink.messages if m.get_content_type() == "multipart/mixed"]
    assert len(with_pdf) == await ScorecardMailing.count()
    assert len({m["Message-ID"] for m in sink.messages}) == len(sink.messages), "none twice"
    told = [m for m in sink.messages if "tiers are ready" in str(m["Subject"])]
    assert [m["To"].addresses[0].addr_spec for m in told] == [reviewer, reviewer]
    batches = await Job.select(Job.done, Job.total, Job.state, Job.failures).where(
        Job.kind == "scorecards"
    )
    assert [(b["state"], b["done"] == b["total"]) for b in batches] == [("done", True)] * 2


async def test_a_worker_killed_mid_letters_sends_none_twice_and_the_rest_go_out(
    scored_world_db: Engine,
    inbox: tuple[Inbox, SMTPServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink, server = inbox
    async with configured(scored_world_db, tmp_path / "var", server, monkeypatch) as env:
        await set_programme(RULES, Act("admin@rapport.example", at("2026-12-01T09:00")))
        app = queue_app(load_settings())
        async with app.open_async(), workers(env, 1) as [first]:
            sink.delay = 0.05  # a slow mail server: the letters take a while
            now = at("2027-01-04T00:05")
            await tick(now, Tools.from_settings(load_settings()), deferring(app, now))
            while len(sink.messages) < 5:
                await asyncio.sleep(0.02)
            first.send_signal(signal.SIGKILL)  # in the middle of the invitations
            first.wait()
            sink.delay = 0
            sent_before = len(sink.messages)
            async with workers(env, 1):
                for minute in range(1, 30):  # the programme's tick, a minute at a time
                    later = now + dt.timedelta(minutes=minute)
                    await requeue_and_tick(app, later)
                    planned = await PlannedCycle.select(PlannedCycle.invited_at).where(
                        PlannedCycle.key == "2027-Q1"
                    )
                    if planned[0]["invited_at"] is not None:
                        break
                    await asyncio.sleep(1)
                await settled(app)
        invited = await unanswered_people("2027-Q1")
        counts = addressees(sink.messages)
        assert sent_before < len(invited)
        assert max(counts.values()) == 1, "nobody got the invitation twice"
        lost = set(invited) - set(counts)
        assert len(lost) <= MAIL_AT_ONCE, "at most the letters in flight when the worker died"
        assert (
            await Invitation.count().where(
                (Invitation.cycle._.key == "2027-Q1") & (Invitation.status == "created")
            )
            == 0
        )


async def requeue_and_tick(app: procrastinate.App, now: dt.datetime) -> None:
    await requeue_stalled(app, load_settings())
    await tick(now, Tools.from_settings(load_settings()), deferring(app, now))


async def test_two_processes_ticking_at_once_open_a_due_cycle_once(
    world_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url_of(world_db),
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        "RAPPORT_SECRET_KEY": SECRET,
    }
    today = dt.datetime.now(dt.UTC).date()
    rules = type(RULES)(
        RULES.cadence.dates,
        today,
        open_days=14,
        review_days=7,
        listed=(today,),
        reminder_days=(7,),
        most_reminders=1,
        review_reminder_days=2,
    )
    await set_programme(rules, Act("admin@rapport.example", dt.datetime.now(dt.UTC)))
    both = [
        subprocess.Popen(
            [sys.executable, "-m", "surveys", "programme", "tick"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    said = [process.communicate(timeout=120)[0].decode() for process in both]
    key = today.isoformat()
    assert sorted(line.strip() for out in said for line in out.splitlines() if key in line) == [
        f"{key}: open done"
    ], said
    assert (
        await AuditEntry.count().where(
            (AuditEntry.action == "cycle.open") & (AuditEntry.actor == "programme")
        )
        == 1
    )
    invitations = await Invitation.count().where(Invitation.cycle._.key == key)
    people = len(
        {
            r["respondent"]
            for r in await Invitation.select(Invitation.respondent).where(
                Invitation.cycle._.key == key
            )
        }
    )
    outbox = list((tmp_path / "var" / "outbox").glob("*.eml"))
    assert invitations > 0 and len(outbox) == people, "one letter each, not two"


async def test_healthz_reports_each_queues_depth_and_oldest_waiting_job(
    world_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", url_of(world_db))
    await queue_schema_applied(load_settings())
    app = queue_app(load_settings())
    before = dt.datetime.now(dt.UTC)
    async with app.open_async():
        await defer_console_step(app, "remind", "2026-Q4", Act("admin@rapport.example", before))
        with pytest.raises(JobBusyError, match="remind of 2026-Q4 is already waiting"):
            await defer_console_step(app, "remind", "2026-Q4", Act("a@b.example", before))
    health = await work_health(world_db, dt.datetime.now(dt.UTC))
    [mail] = health.queues
    assert (mail.queue, mail.waiting, mail.running) == ("mail", 1, 0)
    assert mail.oldest_waiting_at is not None and mail.oldest_waiting_at >= before


async def test_a_worker_killed_mid_batch_leaves_every_scorecard_written_and_sent_once(
    scored_world_db: Engine,
    inbox: tuple[Inbox, SMTPServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink, server = inbox
    scored = await Cycle.select(Cycle.key).where(Cycle.status == "scored").first()
    key = scored["key"]
    async with configured(scored_world_db, tmp_path / "var", server, monkeypatch) as env:
        app = queue_app(load_settings())
        async with app.open_async(), workers(env, 2) as [first, _]:
            now = dt.datetime.now(dt.UTC)
            await defer_console_step(app, "scorecards", key, Act("admin@rapport.example", now))
            while await BatchItem.count() < 4:
                await asyncio.sleep(0.05)
            first.send_signal(signal.SIGKILL)  # in the middle of the batch
            first.wait()
            for _ in range(600):  # the programme's tick gives stalled jobs back
                await requeue_stalled(app, load_settings())
                finished = await Job.count().where(
                    (Job.kind == "scorecards") & (Job.state != "running")
                )
                if finished:
                    break
                await asyncio.sleep(0.2)
            await settled(app)
    [batch] = await Job.select(Job.state, Job.done, Job.total, Job.failures).where(
        Job.kind == "scorecards"
    )
    assert (batch["state"], batch["done"], batch["failures"]) == ("done", batch["total"], "[]")
    cards = await RenderedScorecard.count().where(RenderedScorecard.cycle._.key == key)
    files = list((tmp_path / "var" / "scorecards" / key).rglob("*"))
    assert cards == batch["total"] == len([f for f in files if f.suffix == ".pdf"])
    assert not [f for f in files if f.name.endswith(".partial")], "no half-written file"
    assert await BatchItem.count() == cards, "each scorecard counted once"
    assert len(sink.messages) == await ScorecardMailing.count() > 0
    assert len({m["Message-ID"] for m in sink.messages}) == len(sink.messages), "none twice"


class Cuttable:
    """A TCP relay to PostgreSQL that a test can cut, as a network or a restart would."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop every open one."""
        assert self.server is not None
        self.server.close()
        for writer in list(self.links):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", 5432)
        except OSError:
            writer.close()
            return
        self.links |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    target.write(data)
                    await target.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                target.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.links -= {writer, upstream_writer}


async def test_a_worker_waits_for_a_database_that_went_away_and_carries_on(
    world_db: Engine,
    inbox: tuple[Inbox, SMTPServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, server = inbox
    relay = Cuttable()
    await relay.start()
    async with configured(world_db, tmp_path / "var", server, monkeypatch) as env:
        through_relay = {
            **env,
            "DATABASE_URL": url_of(world_db).replace(":5432/", f":{relay.port}/"),
        }
        app = queue_app(load_settings())  # the test's own way in, not through the relay
        async with app.open_async(), workers(through_relay, 1):
            await _worker_up()
            await relay.cut()  # the database is gone for the worker
            await asyncio.sleep(8)
            now = dt.datetime.now(dt.UTC)
            await defer_console_step(app, "remind", "2026-Q4", Act("admin@rapport.example", now))
            await relay.start()  # and back, on the same port
            await settled(app, timeout=90)
    [job] = await Job.select(Job.kind, Job.state).where(Job.kind == "remind")
    assert job["state"] == "done", "the job queued while the database was away was done after"


async def _worker_up() -> None:
    for _ in range(300):
        if await WorkerBeat.count().where(WorkerBeat.role == "worker"):
            await asyncio.sleep(1)
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the worker did not start")
