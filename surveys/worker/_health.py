"""How the background work is doing, for monitoring: the queues' depth and oldest waiting
job (PostgreSQL), the jobs running and failed, and each worker's last sign of life."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.engine.base import Engine

from surveys.jobs import Job, JobState
from surveys.jobs.beats import Beat, beats

SILENT_AFTER = dt.timedelta(minutes=3)
"""A worker (or a serving process running the programme) silent this long is reported:
the programme ticks every minute."""


@dataclass(frozen=True)
class QueueDepth:
    """One queue of the job queue."""

    queue: str
    waiting: int
    """Jobs to do, including those waiting to be retried."""
    running: int
    oldest_waiting_at: dt.datetime | None
    """When the longest-waiting job was queued."""


@dataclass(frozen=True)
class WorkHealth:
    """The background work as monitoring sees it."""

    queues: tuple[QueueDepth, ...]
    """Empty on SQLite, where the work runs in the serving process."""
    workers: tuple[Beat, ...]
    jobs_running: int
    oldest_running_since: dt.datetime | None
    jobs_failed_last_day: int

    def warnings(self, now: dt.datetime) -> list[str]:
        """What needs a person's attention."""
        said = []
        if not self.workers or all(now - w.at > SILENT_AFTER for w in self.workers):
            said.append(
                "no process has run the programme in the last "
                f"{int(SILENT_AFTER.total_seconds() // 60)} minutes"
            )
        if self.jobs_failed_last_day:
            said.append(f"{self.jobs_failed_last_day} background job(s) failed in the last day")
        return said


async def work_health(engine: Engine[Any], now: dt.datetime) -> WorkHealth:
    """Read the queues (if there are), the jobs and the workers' beats."""
    running = await Job.select(Job.started_at).where(Job.state == JobState.running)
    failed = await Job.count().where(
        (Job.state == JobState.failed) & (Job.finished_at > now - dt.timedelta(days=1))
    )
    return WorkHealth(
        queues=tuple(await _queues(engine)),
        workers=tuple(await beats()),
        jobs_running=len(running),
        oldest_running_since=min((r["started_at"] for r in running), default=None),
        jobs_failed_last_day=failed,
    )


async def _queues(engine: Engine[Any]) -> list[QueueDepth]:
    if engine.engine_type != "postgres":
        return []
    present = await engine.run_ddl("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS p")
    if not present[0]["p"]:
        return []
    counts = await engine.run_ddl(
        "SELECT queue_name, status::text AS status, count(*) AS n FROM procrastinate_jobs "
        "WHERE status IN ('todo', 'doing') GROUP BY queue_name, status"
    )
    oldest = await engine.run_ddl(
        "SELECT j.queue_name, min(e.at) AS at FROM procrastinate_jobs j "
        "JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred' "
        "WHERE j.status = 'todo' GROUP BY j.queue_name"
    )
    since = {r["queue_name"]: r["at"] for r in oldest}
    names = sorted({r["queue_name"] for r in counts} | set(since))
    found = {(r["queue_name"], r["status"]): int(r["n"]) for r in counts}
    return [
        QueueDepth(
            name, found.get((name, "todo"), 0), found.get((name, "doing"), 0), since.get(name)
        )
        for name in names
    ]
