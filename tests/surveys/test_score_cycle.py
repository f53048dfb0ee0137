"""`rapport score --cycle`: a closed cycle from the database, scored and stored, repeatably."""

from __future__ import annotations

import pytest
from piccolo.engine.base import Engine

from scoring.config import ScoringConfig
from scoring.engine import score
from surveys.cycles import Cycle, CycleTransitionError
from surveys.responses import submitted_answers
from surveys.score_runs import (
    DimensionScore,
    InstrumentReliability,
    ScoreRun,
    ScoringError,
    TargetIndex,
    instrument_items,
    score_cycle,
)

pytestmark = pytest.mark.anyio
LAST = "2026-Q3"  # SMALL_WORLD: 2026-Q1…Q3 closed, 2026-Q4 open


async def stored(run_id: int) -> list[dict]:
    rows = await TargetIndex.select(
        TargetIndex.target.slug, TargetIndex.reliability_index, TargetIndex.ri_low, TargetIndex.ri_high,
        TargetIndex.trend_slope, TargetIndex.nps, TargetIndex.shown, TargetIndex.response_rate,
    ).where(TargetIndex.run == run_id).order_by(TargetIndex.target)  # fmt: skip
    return rows


async def test_scoring_stores_a_run_and_marks_the_cycle_scored(world_db: Engine) -> None:
    summary = await score_cycle(LAST, ScoringConfig(), "test")
    run = await ScoreRun.objects().get(ScoreRun.id == summary.run_id)
    assert run.status == "done"
    assert run.code_version == "test"
    assert len(run.input_digest) == 64
    assert (await Cycle.select(Cycle.status).where(Cycle.key == LAST).first())["status"] == "scored"
    rows = await stored(summary.run_id)
    assert len(rows) == sum(summary.targets.values()) > 0
    assert all(
        0 <= r["reliability_index"] <= 100 for r in rows if r["reliability_index"] is not None
    )
    assert all(0 <= r["response_rate"] <= 1 for r in rows)
    # three closed cycles: the last one has trends
    assert any(r["trend_slope"] is not None for r in rows)
    assert await DimensionScore.count().where(DimensionScore.run == summary.run_id) > 0
    assert (
        await InstrumentReliability.count().where(InstrumentReliability.run == summary.run_id) == 26
    )


async def test_scoring_twice_gives_identical_numbers(world_db: Engine) -> None:
    first = await score_cycle(LAST, ScoringConfig(), "test")
    second = await score_cycle(LAST, ScoringConfig(), "test")
    assert first.run_id != second.run_id
    assert await stored(first.run_id) == await stored(second.run_id)
    runs = await ScoreRun.select(ScoreRun.input_digest).where(
        ScoreRun.id.is_in([first.run_id, second.run_id])
    )
    assert runs[0]["input_digest"] == runs[1]["input_digest"]


async def test_stored_numbers_are_the_engines(world_db: Engine) -> None:
    summary = await score_cycle(LAST, ScoringConfig(), "test")
    cycle = await Cycle.select(Cycle.sponsor_instrument).where(Cycle.key == LAST).first()
    items, scale, direction, key = await instrument_items(cycle["sponsor_instrument"])
    answers = await submitted_answers(["2026-Q1", "2026-Q2", LAST], instrument_key=key)
    expected = score(answers, items, scale, direction, ScoringConfig()).targets
    expected = expected[expected["cycle"] == LAST].set_index("target")["reliability_index"]
    for row in await stored(summary.run_id):
        if row["target.slug"] in expected.index:
            assert row["reliability_index"] == pytest.approx(expected[row["target.slug"]], abs=1e-9)


async def test_open_and_unknown_cycles_are_refused(world_db: Engine) -> None:
    with pytest.raises(CycleTransitionError, match="from open to scored"):
        await score_cycle("2026-Q4", ScoringConfig(), "test")
    with pytest.raises(ScoringError, match="no cycle '1999-Q1'"):
        await score_cycle("1999-Q1", ScoringConfig(), "test")
    assert await ScoreRun.count() == 0
