"""The job queue on PostgreSQL (procrastinate): its tasks, each a thin call into the domain.

Queues, so that slow work never holds up quick work:

- `programme`: the tick, once a minute across every worker (procrastinate's periodic
  task, which the database lets only one worker defer per minute); it defers what is due.
- `scoring`: opening's bookkeeping aside, the steps that change a cycle's status (close,
  score, publish) and the fan-out of a scorecard batch.
- `mail`: invitations, reminders, reviewers' letters, the scorecards' mailing (many at
  once: each waits on the mail server, not the processor).
- `pdf`: one scorecard each (WeasyPrint is CPU-bound: one at a time per worker process).

Every job is safe to run twice (the domain's steps are), jobs on one cycle's steps run
one at a time (`lock`), and at most one of each waits (`queueing_lock`). A job whose
worker died is given back to the queue by the next tick (procrastinate's heartbeats).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from functools import cache
from typing import Any

import procrastinate
from procrastinate import Blueprint, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from psycopg.conninfo import make_conninfo

from surveys.directory.audit import Act
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_
from surveys.infra.settings import DatabaseURL, Settings, load_settings, parse_database_url
from surveys.jobs import Job, JobBusyError, JobState, job_by_id, run_job, start_job
from surveys.jobs.batches import batch_counted, batch_finished, batch_started
from surveys.programme import Step, Tools, tick
from surveys.programme.steps import console_work
from surveys.programme.ticks import ACTOR, Defer, mark_scorecards_sent, run_step
from surveys.scorecards import batch_keys, mail_scorecards, pdf_of, render_card

log = logging.getLogger(__name__)

QUEUE_OF = {
    Step.open: "mail",
    Step.invite: "mail",
    Step.remind: "mail",
    Step.tell_reviewers: "mail",
    Step.remind_reviewers: "mail",
    Step.close: "scoring",
    Step.score: "scoring",
    Step.publish: "scoring",
    Step.scorecards: "scoring",
}
"""Where each of the programme's steps waits."""
CONSOLE_QUEUE = {"open": "mail", "remind": "mail", "score": "scoring", "scorecards": "scoring"}
CONCURRENCY = {"programme": 1, "scoring": 1, "mail": 8, "pdf": 1}
"""Jobs one worker process runs at once from each queue."""
RETRY = RetryStrategy(max_attempts=5, exponential_wait=30)
"""A job that fails for a passing reason (the database gone for a minute, the mail server
down) is tried again after 30 s, 60 s, 2 min, 4 min; its failures stay listed."""

tasks = Blueprint()


def connector_for(database: DatabaseURL) -> procrastinate.PsycopgConnector:
    """procrastinate's connection to the PostgreSQL database Rapport uses."""
    config = database.postgres
    return procrastinate.PsycopgConnector(
        conninfo=make_conninfo(
            host=str(config["host"]),
            port=str(config["port"]),
            dbname=str(config["database"]),
            user=str(config["user"]),
            **({"password": str(config["password"])} if "password" in config else {}),
        ),
        kwargs={"application_name": "rapport-worker"},
        # a database gone longer than this stops the queue's workers, which wait for it
        # and start again (`run_workers`): a restart is noticed in seconds, not minutes
        timeout=15,
    )


def queue_app(settings: Settings) -> procrastinate.App:
    """The queue of the configured PostgreSQL database, with Rapport's tasks (one per
    process and database: the tasks are registered once, under `rapport:`)."""
    if settings.database.kind != "postgres":
        raise RapportError("the job queue needs PostgreSQL: on SQLite `rapport serve` runs it")
    return _app_for(settings.database.url)


@cache
def _app_for(url: str) -> procrastinate.App:
    app = procrastinate.App(connector=connector_for(parse_database_url(url)))
    app.add_tasks_from(tasks, namespace="rapport")
    return app


def _now(at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(at)


def _tools() -> Tools:
    return Tools.from_settings(load_settings())


@tasks.periodic(cron="* * * * *", periodic_id="tick")
@tasks.task(
    name="programme_tick", queue="programme", queueing_lock="programme-tick", pass_context=True
)
async def programme_tick(context: procrastinate.JobContext, timestamp: int) -> None:
    """Once a minute: give stalled jobs back, then defer every step that is due."""
    app = context.app
    await requeue_stalled(app, load_settings())
    await _batches_kept_alive(app)
    now = dt.datetime.now(dt.UTC)
    await tick(now, _tools(), deferring(app, now))


def deferring(app: procrastinate.App, now: dt.datetime) -> Defer:
    """How a tick at `now` hands each due step to the queue (JobBusyError if it waits)."""

    async def defer(step: Step, key: str) -> None:
        await _defer(
            app,
            "rapport:programme_step",
            QUEUE_OF[step],
            f"{step.value}:{key}",
            step=step.value,
            key=key,
            at=now.isoformat(),
        )

    return defer


async def requeue_stalled(app: procrastinate.App, settings: Settings) -> int:
    """Give back to the queue every job whose worker stopped beating (killed, its machine
    gone); return how many. Its work is safe to run again."""
    stalled = list(
        await app.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=3 * settings.worker_heartbeat
        )
    )
    for job in stalled:
        log.warning("job %s (%s) lost its worker: queued again", job.id, job.task_name)
        await app.job_manager.retry_job(job)
    return len(stalled)


async def _batches_kept_alive(app: procrastinate.App) -> None:
    """A batch whose scorecards or mailing still wait in the queue, or run, is alive, even
    if nothing was counted for a while (other batches ahead of it, a long mailing): its job
    row beats from here."""
    rows = await app.connector.execute_query_all_async(
        "SELECT DISTINCT (args->>'job')::int AS job FROM procrastinate_jobs "
        "WHERE task_name IN ('rapport:render_scorecard', 'rapport:mail_batch') "
        "AND status IN ('todo', 'doing')"
    )
    waiting = [int(row["job"]) for row in rows]
    if waiting:
        await Job.update({Job.beat_at: dt.datetime.now(dt.UTC)}).where(
            Job.id.is_in(waiting) & (Job.state == JobState.running)
        )


@tasks.task(name="programme_step", queue="scoring", retry=RETRY, pass_context=True)
async def programme_step(context: procrastinate.JobContext, step: str, key: str, at: str) -> None:
    """One step of the programme on one cycle (the scorecards: its batch fanned out)."""
    tools = _tools()
    if Step(step) == Step.scorecards:
        tools = tools.with_batch(_fan_out(context.app, programme=True))
    await run_step(Step(step), key, tools, _now(at))


@tasks.task(name="console_step", queue="scoring", retry=RETRY, pass_context=True)
async def console_step(
    context: procrastinate.JobContext, kind: str, key: str, actor: str, person: int | None, at: str
) -> None:
    """A step an administrator started from the console."""
    act = Act(actor, _now(at), person)
    try:
        job_id = await start_job(kind, key, act)
    except JobBusyError:
        return
    if kind == "scorecards":
        await _fan_out(context.app, programme=False)(key, job_id, act)
        return
    await run_job(job_id, console_work(kind, key, act, _tools()))


async def defer_console_step(app: procrastinate.App, kind: str, key: str, act: Act) -> None:
    """Queue a console step; JobBusyError if the same step already waits."""
    await _defer(
        app,
        "rapport:console_step",
        CONSOLE_QUEUE[kind],
        f"{kind}:{key}",
        kind=kind,
        key=key,
        actor=act.actor,
        person=act.person_id,
        at=act.at.isoformat(),
    )


async def _defer(
    app: procrastinate.App, task: str, queue: str, waiting: str, **arguments: Any
) -> None:
    """Defer a task unless the same one already waits; `waiting` names it."""
    key = str(arguments["key"])
    try:
        await app.configure_task(
            task, queue=queue, lock=f"cycle:{key}", queueing_lock=waiting
        ).defer_async(**arguments)
    except AlreadyEnqueued:
        raise JobBusyError(
            N_("%(kind)s of %(subject)s is already waiting for a worker"),
            kind=waiting.split(":", 1)[0],
            subject=key,
        ) from None


def _fan_out(app: procrastinate.App, programme: bool) -> Any:
    """How a scorecard batch spreads: one `render_scorecard` job per scorecard on the pdf
    queue, counted on the batch's job row; the last one defers the mailing."""

    async def fan_out(key: str, job_id: int, act: Act) -> None:
        cards = await batch_keys(key)
        await batch_started(job_id, len(cards))
        if not cards:
            await _mailing_deferred(app, key, job_id, programme, act)
            return
        for card in cards:
            try:
                await app.configure_task(
                    "rapport:render_scorecard", queue="pdf", queueing_lock=f"card:{card}"
                ).defer_async(
                    key=key,
                    card=card,
                    job=job_id,
                    programme=programme,
                    actor=act.actor,
                    at=act.at.isoformat(),
                )
            except AlreadyEnqueued:  # an earlier batch's job for it still waits: it counts
                if await batch_counted(job_id, card, None):
                    await _mailing_deferred(app, key, job_id, programme, act)

    return fan_out


@tasks.task(name="render_scorecard", queue="pdf", retry=RETRY, pass_context=True)
async def render_scorecard(
    context: procrastinate.JobContext,
    key: str,
    card: str,
    job: int,
    programme: bool,
    actor: str,
    at: str,
) -> None:
    """One scorecard of a batch, rendered in this worker (off its event loop)."""
    tools = _tools()
    failure = None
    try:
        await render_card(
            key, card, tools.scorecards_dir, lambda html: asyncio.to_thread(pdf_of, html), job
        )
    except Exception as error:  # one scorecard that cannot be made: listed, the rest go on
        failure = f"{card}: {type(error).__name__}: {error}"
    if await batch_counted(job, card, failure):
        await _mailing_deferred(context.app, key, job, programme, Act(actor, _now(at)))


async def _mailing_deferred(
    app: procrastinate.App, key: str, job: int, programme: bool, act: Act
) -> None:
    await app.configure_task(
        "rapport:mail_batch", queue="mail", lock=f"scorecards-mail:{key}"
    ).defer_async(key=key, job=job, programme=programme, at=act.at.isoformat())


@tasks.task(name="mail_batch", queue="mail", retry=RETRY)
async def mail_batch(key: str, job: int, programme: bool, at: str) -> None:
    """The batch's scorecards e-mailed to their audiences (only what is new or changed),
    then the batch's job ended with its summary; the programme's step marked done."""
    tools = _tools()
    record = await job_by_id(job)
    if record.state == JobState.done:
        return  # ended already: a retried mailing after the job was closed
    mailed = await mail_scorecards(key, tools.scorecards_dir, tools.mailer, _now(at))
    written = record.done - len(record.failures)
    await batch_finished(
        job,
        {
            N_("scorecards written or unchanged"): str(written),
            N_("e-mailed"): str(mailed.sent),
            N_("sent before"): str(mailed.already),
        },
        mailed.failed,
    )
    if programme:
        await mark_scorecards_sent(key, _now(at))


__all__ = [
    "ACTOR",
    "CONCURRENCY",
    "console_step",
    "defer_console_step",
    "queue_app",
    "tasks",
]
