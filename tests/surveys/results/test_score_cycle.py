"""`rapport score --cycle`: a closed cycle from the database, scored and stored, repeatably."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from piccolo.engine.base import Engine

from scoring.config import ScoringConfig
from scoring.engine import score
from scoring.tiers import NAMES
from surveys.cycles.cycle import Cycle, CycleTransitionError
from surveys.responses.answers import submitted_answers
from surveys.results.cycle_scoring import (
    ScoringError,
    instrument_items,
    score_closed_cycles,
    score_cycle,
)
from surveys.results.score_runs import (
    DimensionScore,
    EscalationFlag,
    InstrumentReliability,
    PerceptionGap,
    ScoreRun,
    TargetIndex,
)
from surveys.results.tier_assignments import Tier, TierAssignment, TierEvent

pytestmark = pytest.mark.anyio
LAST = "2026-Q3"  # SMALL_WORLD: 2026-Q1…Q3 closed, 2026-Q4 open
TIER_NAMES = set(NAMES.values())


async def stored(run_id: int) -> list[dict]:
    rows = (
        await TargetIndex.select(
            TargetIndex.target.slug,
            TargetIndex.reliability_index,
            TargetIndex.ri_low,
            TargetIndex.ri_high,
            TargetIndex.trend_slope,
            TargetIndex.nps,
            TargetIndex.shown,
            TargetIndex.response_rate,
        )
        .where((TargetIndex.run == run_id) & TargetIndex.rater_organisation.is_null())
        .order_by(TargetIndex.target)
    )
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


async def test_each_organisations_view_is_stored_without_disclosure_by_difference(
    world_db: Engine,
) -> None:
    summary = await score_cycle(LAST, ScoringConfig(), "test")
    rows = await TargetIndex.select(
        TargetIndex.target.slug.as_alias("target"),
        TargetIndex.target.kind.as_alias("kind"),
        TargetIndex.rater_organisation.slug.as_alias("viewer"),
        TargetIndex.n_raters,
        TargetIndex.shown,
        TargetIndex.comments_shown,
        TargetIndex.trend_shown,
        TargetIndex.reliability_index,
    ).where(TargetIndex.run == summary.run_id)
    table = pd.DataFrame(rows)
    # a trend is shown only beside a shown row (or a row without an index to hide)
    assert not (table["trend_shown"] & ~table["shown"] & table["reliability_index"].notna()).any()
    pooled = table[table["viewer"].isna()].set_index("target")
    views = table[table["viewer"].notna()]
    assert len(views) == sum(summary.views.values()) > len(pooled)
    sites_view = views[views["kind"].isin(["sponsor", "cro"])]
    assert (sites_view.loc[sites_view["shown"], "n_raters"] >= 3).all()
    assert (sites_view.loc[sites_view["comments_shown"], "n_raters"] >= 5).all()
    shown = sites_view["n_raters"].where(sites_view["shown"], 0).groupby(sites_view["target"]).sum()
    hidden = pooled.loc[shown.index, "n_raters"] - shown
    assert ((shown == 0) | (hidden == 0) | (hidden >= 3)).all()
    # each view's raters belong to its organisation: together they are the pool
    assert (
        sites_view.groupby("target")["n_raters"].sum() == pooled.loc[shown.index, "n_raters"]
    ).all()


async def test_sponsors_tiers_go_to_the_history_and_an_override_is_kept(world_db: Engine) -> None:
    first = await score_cycle(LAST, ScoringConfig(), "test")
    assignments = await TierAssignment.select(
        TierAssignment.id,
        TierAssignment.assessor.kind.as_alias("assessor_kind"),
        TierAssignment.target.kind.as_alias("target_kind"),
        TierAssignment.computed_tier,
        TierAssignment.rule_trace,
        TierAssignment.run,
    ).where(TierAssignment.cycle.key == LAST)
    assert len(assignments) == first.tiers.computed == first.views["sponsor_rates_site"] > 0
    assert {a["assessor_kind"] for a in assignments} == {"sponsor"}
    assert {a["target_kind"] for a in assignments} == {"site"}
    assert all(a["rule_trace"].split(":")[0].split(" ")[0] in TIER_NAMES for a in assignments)
    chosen = assignments[0]
    await TierAssignment.update(
        {
            TierAssignment.override_tier: Tier.watch.value,
            TierAssignment.override_reason: "two protocol deviations not yet in the data",
            TierAssignment.overridden_at: dt.datetime.now(dt.UTC),
        }
    ).where(TierAssignment.id == chosen["id"])
    second = await score_cycle(LAST, ScoringConfig(), "test")
    assert second.tiers.overrides_kept == 1
    after = await TierAssignment.select().where(TierAssignment.id == chosen["id"]).first()
    assert after["override_tier"] == Tier.watch.value
    assert after["override_reason"] == "two protocol deviations not yet in the data"
    assert after["computed_tier"] == chosen["computed_tier"], "same answers, same tier"
    assert after["run"] == second.run_id
    events = await TierEvent.select(TierEvent.kind, TierEvent.tier).where(
        TierEvent.assignment == chosen["id"]
    )
    assert [e["kind"] for e in events] == ["computed", "computed"]
    assert await TierAssignment.count().where(TierAssignment.cycle.key == LAST) == len(assignments)


async def test_gaps_and_flags_are_stored_with_what_may_be_shown(world_db: Engine) -> None:
    summary = await score_cycle(LAST, ScoringConfig(), "test")
    gaps = pd.DataFrame(
        await PerceptionGap.select(
            PerceptionGap.site.slug.as_alias("site"),
            PerceptionGap.partner.slug.as_alias("partner"),
            PerceptionGap.mirror,
            PerceptionGap.site_view,
            PerceptionGap.partner_view,
            PerceptionGap.gap,
            PerceptionGap.shown,
        ).where(PerceptionGap.run == summary.run_id)
    )
    assert len(gaps) == summary.gaps > 0
    assert set(gaps["mirror"]) == {"communication", "predictability"}
    assert (gaps["gap"] - (gaps["site_view"] - gaps["partner_view"])).abs().max() < 1e-9
    site_cells = pd.DataFrame(
        await DimensionScore.select(
            DimensionScore.rater_organisation.slug.as_alias("site"),
            DimensionScore.target.slug.as_alias("partner"),
            DimensionScore.dimension.mirror_key.as_alias("mirror"),
            DimensionScore.shown,
        ).where(
            (DimensionScore.run == summary.run_id)
            & DimensionScore.rater_organisation.kind.is_in(["site"])
            & DimensionScore.dimension.mirror_key.is_not_null()
        )
    )
    merged = gaps.merge(site_cells, on=["site", "partner", "mirror"], suffixes=("", "_site"))
    assert len(merged) == len(gaps)
    assert not (merged["shown"] & ~merged["shown_site"]).any(), "a gap never reveals a hidden view"
    assert (~merged["shown_site"]).any(), "the small world has sites with fewer than 3 raters"
    flags = await EscalationFlag.select(EscalationFlag.kind).where(
        EscalationFlag.run == summary.run_id
    )
    assert len(flags) == summary.flags > 0
    reliability = await InstrumentReliability.select(
        InstrumentReliability.alpha, InstrumentReliability.low_alpha
    ).where(InstrumentReliability.run == summary.run_id)
    assert all(r["low_alpha"] == (r["alpha"] < 0.70) for r in reliability if r["alpha"] is not None)


async def test_closed_cycles_are_scored_oldest_first_and_only_once(world_db: Engine) -> None:
    steps: list[str] = []
    summaries = await score_closed_cycles(ScoringConfig(), "test", progress=steps.append)
    assert [s.cycle for s in summaries] == ["2026-Q1", "2026-Q2", LAST]
    assert steps[0].startswith("2026-Q1: ") and steps[-1].startswith(f"{LAST}: ")
    statuses = await Cycle.select(Cycle.key, Cycle.status).order_by(Cycle.key)
    assert [row["status"] for row in statuses] == ["scored", "scored", "scored", "open"]
    assert await score_closed_cycles(ScoringConfig(), "test") == []


async def test_an_override_is_where_the_next_cycle_starts(world_db: Engine) -> None:
    await score_cycle("2026-Q1", ScoringConfig(), "test")
    await score_cycle("2026-Q2", ScoringConfig(), "test")
    chosen = (
        await TierAssignment.select(
            TierAssignment.id, TierAssignment.assessor, TierAssignment.target
        )
        .where(TierAssignment.cycle.key == "2026-Q2")
        .first()
    )
    await TierAssignment.update(
        {
            TierAssignment.override_tier: Tier.watch.value,
            TierAssignment.override_reason: "an audit finding",
            TierAssignment.overridden_at: dt.datetime.now(dt.UTC),
        }
    ).where(TierAssignment.id == chosen["id"])
    await score_cycle(LAST, ScoringConfig(), "test")
    q3 = (
        await TierAssignment.select(TierAssignment.rule_trace)
        .where(
            (TierAssignment.cycle.key == LAST)
            & (TierAssignment.assessor == chosen["assessor"])
            & (TierAssignment.target == chosen["target"])
        )
        .first()
    )
    assert "Watch (a reviewer's override)" in q3["rule_trace"]
    rows = await TierAssignment.select(
        TierAssignment.assessor, TierAssignment.target, TierAssignment.rule_trace
    ).where(TierAssignment.cycle.key == LAST)
    others = [
        r for r in rows if (r["assessor"], r["target"]) != (chosen["assessor"], chosen["target"])
    ]
    assert len(others) == len(rows) - 1
    assert not any("override" in row["rule_trace"] for row in others)


async def test_a_cycle_that_moves_on_while_scored_stores_nothing(
    world_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from surveys.results import cycle_scoring

    real = cycle_scoring.response_rates

    async def publish_meanwhile(
        keys: list[str], instrument_key: str | None = None, by: str | None = None
    ) -> pd.DataFrame:
        if instrument_key is None:  # the last loads before the run is stored
            await Cycle.update({Cycle.status: "published"}).where(Cycle.key == LAST)
        return await real(keys, instrument_key, by)

    monkeypatch.setattr(cycle_scoring, "response_rates", publish_meanwhile)
    with pytest.raises(ScoringError, match="changed status while it was scored"):
        await score_cycle(LAST, ScoringConfig(), "test")
    assert await ScoreRun.count() == 0
    assert await TierAssignment.count() == 0
    assert (await Cycle.select(Cycle.status).where(Cycle.key == LAST).first())[
        "status"
    ] == "published"


async def test_a_cycle_where_one_side_did_not_answer_is_scored_on_the_other(
    world_db: Engine,
) -> None:
    from surveys.cycles.invitations import Invitation
    from surveys.directory.audit import AuditEntry
    from surveys.responses.answers import Response

    silent = [
        row["id"]
        for row in await Invitation.select(Invitation.id).where(
            (Invitation.cycle.key == LAST)
            & (Invitation.instrument.direction == "sponsor_rates_site")
        )
    ]
    await Response.update({Response.status: "draft", Response.submitted_at: None}).where(
        Response.invitation.is_in(silent)
    )
    summary = await score_cycle(LAST, ScoringConfig(), "test")
    assert summary.unanswered == ("sponsor_rates_site",)
    assert summary.targets["sponsor_rates_site"] == 0 < summary.targets["site_rates_sponsor"]
    assert (summary.gaps, summary.tiers.computed) == (0, 0), "gaps and tiers need the sponsors"
    assert await PerceptionGap.count().where(PerceptionGap.run == summary.run_id) == 0
    assert len(await stored(summary.run_id)) == summary.targets["site_rates_sponsor"]
    assert (await Cycle.select(Cycle.status).where(Cycle.key == LAST).first())["status"] == "scored"
    entry = (
        await AuditEntry.select(AuditEntry.detail)
        .where(AuditEntry.action == "cycle.score")
        .output(load_json=True)
        .first()
    )
    assert entry["detail"]["unanswered"] == ["sponsor_rates_site"]
    # neither side answered: nothing to score, and the cycle stays closed
    everyone = await Invitation.select(Invitation.id).where(Invitation.cycle.key == "2026-Q2")
    await Response.update({Response.status: "draft", Response.submitted_at: None}).where(
        Response.invitation.is_in([row["id"] for row in everyone])
    )
    with pytest.raises(ScoringError, match="no submitted answers to score, either way"):
        await score_cycle("2026-Q2", ScoringConfig(), "test")
