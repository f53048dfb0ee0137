"""Background jobs: long work (scoring a cycle, rendering and e-mailing its scorecards,
opening a large cycle) started from the console or a command, with its progress kept in
the database so that any page, any process and a later visit can read how far it got.

A job is a row: what it is (`kind`, and the cycle or other `subject` it works on), its
state, how many of how many steps are done, what it is doing now, and when it ends its
summary or the reason it failed. `start_job` refuses a second job of the same kind on
the same subject while one is unfinished, so two clicks never score a cycle twice. The
work itself runs in the serving process's event loop (`launch`), in the command that
started it, or in a worker (`run_job`). A running job's row beats every second; one whose
beat stopped for `stale_after()` (its process killed or gone) is marked interrupted, by the next
start of the same job or by `interrupted_jobs`, and its work may start again.

May import: `surveys.infra`, `surveys.directory`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from piccolo.columns import JSON, Integer, Serial, Timestamptz, Varchar
from piccolo.constraints import Check
from piccolo.table import Table

from surveys.directory.audit import Act
from surveys.infra.database import lock_name, writing_transaction
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_
from surveys.infra.settings import job_stale_after

log = logging.getLogger(__name__)


class JobState(StrEnum):
    """Where a job is."""

    running = "running"
    done = "done"
    failed = "failed"


class Job(Table):
    """One piece of long work and how far it got."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    kind = Varchar(length=40, index=True)
    """What the work is: `score`, `scorecards`, `open`…"""
    subject = Varchar(length=80, index=True)
    """What it works on (a cycle's key)."""
    state = Varchar(length=12, choices=JobState, default=JobState.running.value, index=True)
    done = Integer(default=0)
    total = Integer(null=True, default=None)
    """Steps in all, once known."""
    step = Varchar(length=300, default="")
    """What the job is doing now, in words."""
    summary = JSON(default="{}")
    """What the work returned, once done."""
    failures = JSON(default="[]")
    """One line per thing that could not be done (a scorecard not rendered, a message
    refused), and the reason the whole job failed if it did."""
    started_by = Varchar(length=254)
    started_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    beat_at = Timestamptz(null=True, default=None)
    """The running job's last sign of life (written every second)."""

    job_state_is_known = Check("state IN ('running', 'done', 'failed')")


BUSY = {
    "open": N_("open of %(subject)s is already under way (started by %(who)s at %(at)s UTC)"),
    "remind": N_("remind of %(subject)s is already under way (started by %(who)s at %(at)s UTC)"),
    "score": N_("score of %(subject)s is already under way (started by %(who)s at %(at)s UTC)"),
    "scorecards": N_(
        "scorecards of %(subject)s is already under way (started by %(who)s at %(at)s UTC)"
    ),
}
"""JobBusyError's message for each kind the console starts (the kind is in the message, so
a page says it in its reader's language)."""


class JobBusyError(RapportError):
    """The same work is already under way; the message says since when."""


@dataclass(frozen=True)
class JobRecord:
    """A job as pages and commands read it."""

    id: int
    kind: str
    subject: str
    state: str
    done: int
    total: int | None
    step: str
    summary: dict[str, Any]
    failures: list[str]
    started_by: str
    started_at: dt.datetime
    finished_at: dt.datetime | None

    @property
    def finished(self) -> bool:
        """Whether the job has ended, one way or the other."""
        return self.state != JobState.running

    @property
    def percent(self) -> int | None:
        """How far it got, in whole percent, once the number of steps is known."""
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> JobRecord:
        """The record of a row selected with every column of Job (JSON loaded)."""
        return cls(
            id=int(row["id"]),
            kind=str(row["kind"]),
            subject=str(row["subject"]),
            state=str(row["state"]),
            done=int(row["done"]),
            total=row["total"],
            step=str(row["step"]),
            summary=dict(row["summary"] or {}),
            failures=list(row["failures"] or []),
            started_by=str(row["started_by"]),
            started_at=row["started_at"],
            finished_at=row["finished_at"],
        )


class Progress:
    """What running work tells its job: steps in all, one more step done, a failure.

    Writes are spaced (at most one a second, and the last always) so that a thousand
    scorecards do not cost a thousand updates. Work that reports through a plain callback
    (the scorer's steps, the PDF batch's counts) calls `note`, and `run_job` writes what
    was noted every second while the work runs.
    """

    EVERY = dt.timedelta(seconds=1)

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.done = 0
        self.total: int | None = None
        self.step = ""
        self.failures: list[str] = []
        self._written = dt.datetime.min.replace(tzinfo=dt.UTC)

    def note(self, done: int | None = None, total: int | None = None, step: str = "") -> None:
        """Note progress from a synchronous callback (written within a second)."""
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if step:
            self.step = step

    async def flush(self) -> None:
        """Write what was noted, now."""
        await self._write(force=True)

    async def begin(self, total: int | None, step: str) -> None:
        """Start a stage of `total` steps (None if not known), described by `step`."""
        self.total, self.done, self.step = total, 0, step
        await self._write(force=True)

    async def advance(self, steps: int = 1) -> None:
        """Count steps done."""
        self.done += steps
        await self._write()

    async def failed(self, line: str) -> None:
        """Note one thing that could not be done (the job goes on)."""
        self.failures.append(line)
        await self._write()

    async def _write(self, force: bool = False) -> None:
        now = dt.datetime.now(dt.UTC)
        if not force and now - self._written < self.EVERY:
            return
        self._written = now
        await Job.update(
            {
                Job.done: self.done,
                Job.total: self.total,
                Job.step: self.step[:300],
                Job.failures: self.failures,
                Job.beat_at: now,
            }
        ).where(Job.id == self.job_id)


Work = Callable[[Progress], Awaitable[Mapping[str, Any]]]
"""The work of a job: given its progress, it returns its summary (JSON-able)."""


def stale_after() -> dt.timedelta:
    """How long a running job's beat may stop before it counts as interrupted
    (RAPPORT_JOB_STALE, two minutes by default): far above a busy machine's pause, far
    below the time anyone would wait for it."""
    return job_stale_after()


INTERRUPTED = "interrupted: its process stopped before the job ended; it may be started again"


async def refuse_if_running(kind: str, subject: str, now: dt.datetime, alone: bool = False) -> None:
    """Raise JobBusyError, saying since when, if the same job is running (or, `alone`, any
    job on the same subject); one whose process died is marked interrupted first, and does
    not count."""
    same = (Job.subject == subject) & (Job.state == JobState.running)
    if not alone:
        same = same & (Job.kind == kind)
    await _interrupt(_silent(now) & same, now)
    busy = await Job.select(Job.kind, Job.started_at, Job.started_by).where(same).first()
    if busy is not None:
        raise JobBusyError(
            BUSY.get(
                busy["kind"],
                N_(
                    "%(kind)s of %(subject)s is already under way (started by %(who)s "
                    "at %(at)s UTC)"
                ),
            ),
            kind=busy["kind"],
            subject=subject,
            who=busy["started_by"],
            at=f"{busy['started_at']:%Y-%m-%d %H:%M}",
        )


async def start_job(kind: str, subject: str, act: Act) -> int:
    """Record a new running job, or raise JobBusyError if the same one is unfinished.

    A job of the same kind whose process died (no beat for `stale_after()`) does not hold
    the new one back: it is marked interrupted, and this one takes its place.
    """
    started = await _started(kind, subject, act, alone=False, still_due=None)
    if started is None:  # only a `still_due` check declines
        raise RuntimeError("a job started without a condition was not started")
    return started


async def start_step(
    kind: str, subject: str, act: Act, still_due: Callable[[], Awaitable[bool]]
) -> int | None:
    """Start a step of a sequence on `subject` (the programme's steps on one cycle) as a
    job, if `still_due()` says it still is: None if it is not. JobBusyError if any job on
    the subject is running: the steps of one cycle take turns.

    The check and the start are one turn under the subject's lock, so two processes that
    both found the step due start it once, and the second sees it done.
    """
    return await _started(kind, subject, act, alone=True, still_due=still_due)


async def _started(
    kind: str,
    subject: str,
    act: Act,
    alone: bool,
    still_due: Callable[[], Awaitable[bool]] | None,
) -> int | None:
    now = dt.datetime.now(dt.UTC)
    async with writing_transaction(Job._meta.db):
        await lock_name(Job, f"job:{subject}")  # two processes: one at a time starts it
        await refuse_if_running(kind, subject, now, alone)
        if still_due is not None and not await still_due():
            return None
        made = await Job.insert(
            Job(
                kind=kind,
                subject=subject,
                state=JobState.running.value,
                started_by=act.actor,
                started_at=act.at,
                beat_at=now,
                summary={},
                failures=[],
            )
        )
    return int(made[0]["id"])


async def run_job(job_id: int, work: Work) -> JobRecord:
    """Run the work of a started job to its end, and record how it ended.

    An expected refusal (a RapportError) fails the job with its message; anything else
    fails it with a line for the reader and the traceback for the log.
    """
    progress = Progress(job_id)
    stop = asyncio.Event()
    flusher = asyncio.get_running_loop().create_task(_flush_every_second(progress, stop))
    try:
        summary = dict(await work(progress))
        state, reason = JobState.done, None
    except RapportError as error:
        summary, state, reason = {}, JobState.failed, str(error)
    except Exception as error:  # the job's row must say it ended, whatever happened
        log.exception("job %s failed", job_id)
        summary, state, reason = {}, JobState.failed, f"unexpected error: {error}"
    finally:
        stop.set()
        await flusher  # never cut off mid-write: it ends at its next wake
    failures = progress.failures + ([reason] if reason else [])
    await Job.update(
        {
            Job.state: state.value,
            Job.done: progress.done,
            Job.total: progress.total,
            Job.step: progress.step[:300],
            Job.summary: summary,
            Job.failures: failures,
            Job.finished_at: dt.datetime.now(dt.UTC),
        }
    ).where(Job.id == job_id)
    return await job_by_id(job_id)


async def _flush_every_second(progress: Progress, stop: asyncio.Event) -> None:
    """Write a job's noted progress every second until the job ends."""
    while True:
        try:
            await asyncio.wait_for(stop.wait(), timeout=1)
            return
        except TimeoutError:
            await progress.flush()


_RUNNING: set[asyncio.Task[JobRecord]] = set()
"""Jobs launched in this process: kept referenced so the event loop does not drop them."""


def launch(job_id: int, work: Work) -> None:
    """Run a started job in the background of this process's event loop."""
    task = asyncio.get_running_loop().create_task(run_job(job_id, work), name=f"job-{job_id}")
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


async def interrupted_jobs(now: dt.datetime) -> int:
    """Mark running jobs whose beat stopped for `stale_after()` as interrupted; return how many.

    Run at each of the programme's ticks and at a server's start: with many processes on
    one database, only a job whose own process stopped is ended, never a sibling's.
    """
    return await _interrupt((Job.state == JobState.running) & _silent(now), now)


def _silent(now: dt.datetime) -> Any:
    """Jobs with no beat for `stale_after()` (or none ever: rows from before beats were kept)."""
    return (Job.beat_at < now - stale_after()) | Job.beat_at.is_null()


async def _interrupt(which: Any, now: dt.datetime) -> int:
    stale = (
        await Job.update(
            {Job.state: JobState.failed.value, Job.failures: [INTERRUPTED], Job.finished_at: now}
        )
        .where(which)
        .returning(Job.id)
    )
    return len(stale)


async def job_by_id(job_id: int) -> JobRecord:
    """The job with this id (it must exist)."""
    row = await Job.select().where(Job.id == job_id).output(load_json=True).first()
    if row is None:
        raise RapportError(N_("no job %(job)s"), job=job_id)
    return JobRecord.of(row)


async def latest_jobs(subject: str | None = None, limit: int = 20) -> list[JobRecord]:
    """The newest jobs (of one subject, if given), newest first."""
    query = Job.select().output(load_json=True).order_by(Job.id, ascending=False).limit(limit)
    if subject is not None:
        query = query.where(Job.subject == subject)
    return [JobRecord.of(row) for row in await query]
