"""Background jobs: one at a time per work and subject, progress readable while they run,
and an end recorded however they end."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest
from piccolo.engine.base import Engine

from surveys.directory.audit import Act
from surveys.infra.errors import RapportError
from surveys.jobs import (
    INTERRUPTED,
    Job,
    JobBusyError,
    JobState,
    Progress,
    interrupted_jobs,
    job_by_id,
    latest_jobs,
    run_job,
    stale_after,
    start_job,
)

pytestmark = pytest.mark.anyio
ACT = Act("ada@example.org", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


async def test_a_job_reports_its_progress_then_its_summary(db: Engine) -> None:
    job_id = await start_job("scorecards", "2026-Q4", ACT)
    with pytest.raises(JobBusyError, match=r"already under way .* by ada@example\.org"):
        await start_job("scorecards", "2026-Q4", ACT)
    other = await start_job("scorecards", "2027-Q1", ACT)  # another cycle: no clash
    seen: list[tuple[int, int | None, str]] = []

    async def work(progress: Progress) -> Mapping[str, Any]:
        await progress.begin(4, "rendering")
        for n in range(1, 5):
            progress.note(done=n)
            await asyncio.sleep(0.6)
            row = await job_by_id(job_id)
            seen.append((row.done, row.total, row.step))
        await progress.failed("kestrel-pharma: WeasyPrint could not load a font")
        return {"written": 3}

    ended = await run_job(job_id, work)
    assert ended.state == JobState.done and ended.finished
    assert (ended.done, ended.total, ended.percent) == (4, 4, 100)
    assert ended.summary == {"written": 3}
    assert ended.failures == ["kestrel-pharma: WeasyPrint could not load a font"]
    assert seen[0][1:] == (4, "rendering")
    assert any(0 < done < 4 for done, _, _ in seen), "progress is written while it runs"
    assert [j.id for j in await latest_jobs("2027-Q1")] == [other]


async def test_a_failing_job_says_why_and_frees_its_subject(db: Engine) -> None:
    async def refused(progress: Progress) -> Mapping[str, Any]:
        raise RapportError("cycle 2026-Q4 is open: close it before scoring")

    async def broken(progress: Progress) -> Mapping[str, Any]:
        raise KeyError("weight")

    first = await run_job(await start_job("score", "2026-Q4", ACT), refused)
    second = await run_job(await start_job("score", "2026-Q4", ACT), broken)
    assert (first.state, first.failures) == (
        JobState.failed,
        ["cycle 2026-Q4 is open: close it before scoring"],
    )
    assert second.state == JobState.failed and second.failures == ["unexpected error: 'weight'"]


async def test_a_job_whose_process_died_is_marked_interrupted_a_live_one_is_not(
    db: Engine,
) -> None:
    now = dt.datetime.now(dt.UTC)
    left = await start_job("open", "2026-Q4", ACT)
    alive = await start_job("score", "2026-Q4", ACT)
    assert await interrupted_jobs(now) == 0, "both beat just now"
    with pytest.raises(JobBusyError, match="open of 2026-Q4 is already under way"):
        await start_job("open", "2026-Q4", ACT)
    await Job.update({Job.beat_at: now - stale_after() - dt.timedelta(seconds=1)}).where(
        Job.id == left
    )
    assert await interrupted_jobs(now) == 1
    row = await job_by_id(left)
    assert row.state == JobState.failed and "interrupted" in row.failures[0]
    assert (await job_by_id(alive)).state == JobState.running
    assert await start_job("open", "2026-Q4", ACT) > left, "the subject is free again"


async def test_a_dead_jobs_next_start_takes_its_place(db: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    left = await start_job("scorecards", "2026-Q4", ACT)
    await Job.update({Job.beat_at: now - stale_after() - dt.timedelta(seconds=1)}).where(
        Job.id == left
    )
    again = await start_job("scorecards", "2026-Q4", ACT)
    assert again > left and (await job_by_id(left)).failures == [INTERRUPTED]
