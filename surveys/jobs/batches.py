"""A batch: one job row whose work is done by many jobs on many machines (a cycle's
scorecards, one job each), counted item by item.

Each item is counted once, whatever happens to the job that made it (run twice, retried
after its worker died): the item's row is unique in its batch. The job row is locked
while an item is counted, so exactly one counter sees the batch complete and starts what
follows (the mailing). Every count is also the batch's heartbeat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from piccolo.columns import ForeignKey, OnDelete, Serial, Text, Varchar
from piccolo.constraints import Unique
from piccolo.table import Table

from surveys.infra.database import lock_row, writing_transaction
from surveys.jobs import INTERRUPTED, Job, JobState


class BatchItem(Table):
    """One item of a batch, done (or failed, with why)."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    job = ForeignKey(Job, on_delete=OnDelete.cascade, null=False, index=True)
    item = Varchar(length=400)
    failure = Text(null=True, default=None)

    batch_item_once = Unique(["job", "item"])


async def batch_started(job_id: int, total: int) -> None:
    """Say how many items the batch has (the job is started already)."""
    now = dt.datetime.now(dt.UTC)
    await Job.update({Job.total: total, Job.done: 0, Job.beat_at: now}).where(Job.id == job_id)


async def batch_counted(job_id: int, item: str, failure: str | None) -> bool:
    """Count one item done (or failed); True for the one count that completes the batch."""
    now = dt.datetime.now(dt.UTC)
    async with writing_transaction(Job._meta.db):
        await lock_row(Job, job_id)
        counted = (
            await BatchItem.insert(BatchItem(job=job_id, item=item[:400], failure=failure))
            .on_conflict(target=(BatchItem.job, BatchItem.item), action="DO NOTHING")
            .returning(BatchItem.id)
        )
        if not counted:
            return False  # counted before: a job run twice
        done = await BatchItem.count().where(BatchItem.job == job_id)
        row = (
            await Job.select(Job.total, Job.failures)
            .where(Job.id == job_id)
            .output(load_json=True)
            .first()
        )
        failures = list(row["failures"] or []) if row else []
        if failure is not None:
            failures.append(failure)
        await Job.update({Job.done: done, Job.failures: failures, Job.beat_at: now}).where(
            Job.id == job_id
        )
        return row is not None and done == row["total"]


async def batch_finished(job_id: int, summary: Mapping[str, Any], more_failures: list[str]) -> None:
    """End the batch's job: done, with its summary and every failure listed."""
    row = await Job.select(Job.failures).where(Job.id == job_id).output(load_json=True).first()
    earlier = [f for f in (row["failures"] if row else []) if f != INTERRUPTED]
    failures = [*earlier, *more_failures]
    await Job.update(
        {
            Job.state: JobState.done.value,
            Job.summary: dict(summary),
            Job.failures: failures,
            Job.finished_at: dt.datetime.now(dt.UTC),
        }
    ).where(Job.id == job_id)
