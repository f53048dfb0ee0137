"""Trends across institutions: every figure traced back to the stored score runs."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from piccolo.engine.base import Engine

from scoring.trends import index_changes
from surveys.directory.audit import Act
from surveys.directory.organisations import Organisation, OrgKind
from surveys.results.score_runs import (
    DimensionScore,
    TargetIndex,
    TrendArrow,
    scored_cycles,
    trend_of,
)
from surveys.results.tier_assignments import Tier, tier_in_force
from surveys.workspaces.institution_trends import scope_of, scope_trends

pytestmark = pytest.mark.anyio


async def _sponsor_view(sponsor_id: int) -> pd.DataFrame:
    """The sponsor's view of its sites in every scored cycle, read straight from the runs."""
    runs = {int(c["run"]): str(c["key"]) for c in await scored_cycles()}
    rows = await TargetIndex.select(
        TargetIndex.target,
        TargetIndex.run,
        TargetIndex.reliability_index,
        TargetIndex.ri_low,
        TargetIndex.ri_high,
        TargetIndex.shown,
        TargetIndex.target.network.name.as_alias("network"),
    ).where(TargetIndex.run.is_in(list(runs)) & (TargetIndex.rater_organisation == sponsor_id))
    table = pd.DataFrame(rows)
    table["cycle"] = table["run"].map(runs)
    return table


async def _busiest_sponsor() -> tuple[int, str]:
    rows = await TargetIndex.select(TargetIndex.rater_organisation, TargetIndex.target).where(
        TargetIndex.rater_organisation.kind == OrgKind.sponsor.value
    )
    counts = pd.DataFrame(rows).groupby("rater_organisation")["target"].nunique()
    sponsor = int(counts.idxmax())
    slug = await Organisation.select(Organisation.slug).where(Organisation.id == sponsor).first()
    return sponsor, slug["slug"]


async def test_movers_and_rollups_come_from_the_sponsors_own_view(scored_world_db: Engine) -> None:
    sponsor, slug = await _busiest_sponsor()
    stored = await _sponsor_view(sponsor)
    cycles = sorted(stored["cycle"].unique())
    # hide one site's latest cell, as the run does for too few raters
    hidden = stored[(stored["cycle"] == cycles[-1]) & stored["shown"]].iloc[0]
    await TargetIndex.update({TargetIndex.shown: False}).where(
        (TargetIndex.run == int(hidden["run"]))
        & (TargetIndex.target == int(hidden["target"]))
        & (TargetIndex.rater_organisation == sponsor)
    )
    stored.loc[
        (stored["run"] == hidden["run"]) & (stored["target"] == hidden["target"]), "shown"
    ] = False

    scope = await scope_of(slug)
    assert scope is not None and scope.rater == sponsor
    found = await scope_trends(scope)
    assert found.cycles == tuple(cycles)

    shown = stored[stored["shown"]]
    now, before = (shown[shown["cycle"] == c] for c in (cycles[-1], cycles[-2]))
    expected = index_changes(now, before).set_index("target")
    movers = {m.member.id: m for m in (*found.improved, *found.declined)}
    assert movers, "the world moves between cycles"
    assert int(hidden["target"]) not in movers, "a hidden cell is no one's mover"
    for target, m in movers.items():
        assert m.now == pytest.approx(expected.at[target, "now"])
        assert m.before == pytest.approx(expected.at[target, "before"])
        assert m.significant == bool(expected.at[target, "significant"])
    assert [m.change for m in found.improved] == sorted(
        (m.change for m in found.improved), reverse=True
    )

    for rollup in found.rollups:
        for point in rollup.points:
            sites = shown[(shown["network"] == rollup.name) & (shown["cycle"] == point.cycle)]
            assert point.raters == len(sites)
            assert point.index == pytest.approx(sites["reliability_index"].mean())
    assert {r.name for r in found.rollups} == set(shown["network"].dropna())

    for series in found.selected:
        for point in series.points:
            row = stored[
                (stored["target"] == series.member.id) & (stored["cycle"] == point.cycle)
            ].iloc[0]
            if row["shown"]:
                assert point.index == pytest.approx(row["reliability_index"])
            else:
                assert point.index is None and point.low is None and point.layers["quality"] is None


async def test_chosen_organisations_and_the_heat_map_show_only_shown_cells(
    scored_world_db: Engine,
) -> None:
    sponsor, slug = await _busiest_sponsor()
    scope = await scope_of(slug)
    assert scope is not None
    first = await scope_trends(scope)
    chosen = tuple(m.slug for m in first.members[:2])
    latest_run = int((await scored_cycles())[0]["run"])
    cell = (
        await DimensionScore.select(DimensionScore.id, DimensionScore.dimension)
        .where(
            (DimensionScore.run == latest_run)
            & (DimensionScore.rater_organisation == sponsor)
            & (DimensionScore.target == first.members[0].id)
        )
        .first()
    )
    await DimensionScore.update({DimensionScore.shown: False}).where(
        DimensionScore.id == cell["id"]
    )

    found = await scope_trends(scope, chosen=(*chosen, "not-a-member", chosen[0]))
    assert [s.member.slug for s in found.selected] == list(chosen), "out-of-scope slugs are ignored"
    assert [h.member.slug for h in found.heat] == list(chosen)
    hidden = found.heat[0].cells
    assert sum(v is None for v in hidden) >= 1
    means = {
        r["dimension"]: r["mean"]
        for r in await DimensionScore.select(DimensionScore.dimension, DimensionScore.mean).where(
            (DimensionScore.run == latest_run)
            & (DimensionScore.rater_organisation == sponsor)
            & (DimensionScore.target == first.members[1].id)
            & DimensionScore.shown.eq(True)
        )
    }
    assert sorted(v for v in found.heat[1].cells if v is not None) == pytest.approx(
        sorted(means.values())
    )


async def test_a_networks_trends_pool_every_sponsors_raters(scored_world_db: Engine) -> None:
    from surveys.results.tier_review import publish_cycle

    for cycle in reversed(await scored_cycles()):
        await publish_cycle(str(cycle["key"]), Act("test", dt.datetime.now(dt.UTC)))
    network = (
        await Organisation.select(Organisation.id, Organisation.slug)
        .where(Organisation.kind == OrgKind.network.value)
        .first()
    )
    scope = await scope_of(network["slug"])
    assert scope is not None and scope.rater is None
    found = await scope_trends(scope)
    sites = {
        r["id"]
        for r in await Organisation.select(Organisation.id).where(
            Organisation.network == network["id"]
        )
    }
    assert {m.id for m in found.members} == sites
    pooled = await TargetIndex.select(TargetIndex.reliability_index).where(
        (TargetIndex.run == int((await scored_cycles())[0]["run"]))
        & TargetIndex.target.is_in(list(sites))
        & TargetIndex.rater_organisation.is_null()
        & TargetIndex.shown.eq(True)
    )
    [whole] = found.rollups
    assert whole.points[-1].raters == len(pooled)
    assert whole.points[-1].index == pytest.approx(
        sum(r["reliability_index"] for r in pooled) / len(pooled)
    )
    assert found.partner_view is None


async def test_a_networks_trends_wait_for_publication(scored_world_db: Engine) -> None:
    from surveys.results.tier_review import publish_cycle

    network = (
        await Organisation.select(Organisation.slug)
        .where(Organisation.kind == OrgKind.network.value)
        .first()
    )
    scope = await scope_of(network["slug"])
    assert scope is not None
    assert (await scope_trends(scope)).cycles == (), "nothing published: a site side sees nothing"
    oldest = str((await scored_cycles())[-1]["key"])
    await publish_cycle(oldest, Act("test", dt.datetime.now(dt.UTC)))
    assert (await scope_trends(scope)).cycles == (oldest,)


@pytest.mark.parametrize(
    ("slope", "p", "significance", "expected"),
    [
        (2.0, 0.01, 0.05, TrendArrow.up),
        (-2.0, 0.01, 0.05, TrendArrow.down),
        (-2.0, 0.05, 0.05, TrendArrow.flat),  # p must be below the level, not at it
        (-2.0, 0.03, 0.01, TrendArrow.flat),  # a stricter configuration keeps it flat
        (None, 0.01, 0.05, TrendArrow.unknown),
        (1.0, None, 0.05, TrendArrow.unknown),
    ],
)
def test_a_trend_moves_only_when_its_slope_is_significant(
    slope: float | None, p: float | None, significance: float, expected: TrendArrow
) -> None:
    """One rule for every page and scorecard that draws an arrow."""
    assert trend_of(slope, p, significance) is expected


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ({"computed_tier": 3, "override_tier": None}, Tier.approved),
        ({"computed_tier": 3, "override_tier": 1}, Tier.strategic),
        (None, None),
        ({}, None),
    ],
)
def test_the_tier_in_force_is_the_reviewers_override_else_the_computed_one(
    assignment: dict[str, int | None] | None, expected: Tier | None
) -> None:
    assert tier_in_force(assignment) is expected
