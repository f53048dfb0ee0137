"""The Sand Cone composite: the cap on worked examples, and intervals that cover the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.config import SandCone
from scoring.items import coded_answers, rater_dimension_scores
from scoring.sand_cone import capped_index, reliability_indices

# layer scores (quality, dependability, speed, cost) → index with margin 10, weights 4:3:2:1
WORKED = [
    # effective layers 60, 70, 80, 90: 24 + 21 + 16 + 9
    ([60, 80, 90, 95], 70.0),
    # nothing exceeds the layer below by more than 10: no cap
    ([80, 75, 70, 60], 0.4 * 80 + 0.3 * 75 + 0.2 * 70 + 0.1 * 60),
    # a weak quality layer caps everything above it
    ([40, 90, 90, 90], 0.4 * 40 + 0.3 * 50 + 0.2 * 60 + 0.1 * 70),
    # the cap compounds: speed is held by the capped dependability, not the raw one
    ([50, 100, 65, 0], 0.4 * 50 + 0.3 * 60 + 0.2 * 65 + 0.1 * 0),
]


@pytest.mark.parametrize(("layers", "expected"), WORKED)
def test_capped_index_on_worked_examples(layers: list[float], expected: float) -> None:
    index, plain = capped_index(np.array(layers, dtype=float), SandCone())
    assert index == pytest.approx(expected)
    assert plain == pytest.approx(np.dot(layers, [0.4, 0.3, 0.2, 0.1]))
    assert index <= plain + 1e-12


def test_no_margin_means_no_cap() -> None:
    index, plain = capped_index(np.array([40.0, 90, 90, 90]), SandCone(margin=None))
    assert index == plain == pytest.approx(0.4 * 40 + 0.3 * 90 + 0.2 * 90 + 0.1 * 90)


def test_weights_are_relative() -> None:
    doubled = SandCone(weights={"quality": 8, "dependability": 6, "speed": 4, "cost": 2})
    layers = np.array([70.0, 85, 60, 90])
    assert capped_index(layers, doubled)[0] == pytest.approx(capped_index(layers, SandCone())[0])


WORLD_SEEDS = range(1, 7)
"""Independent worlds pooled for coverage (see the coverage test for why one is not enough)."""


@pytest.fixture(scope="module")
def scored_world() -> dict[str, pd.DataFrame]:
    from surveys.world import WorldParameters, bundled_specs, generate_world

    specs = bundled_specs()
    results: dict[str, list[pd.DataFrame]] = {direction: [] for direction in specs}
    for seed in WORLD_SEEDS:
        world = generate_world(WorldParameters(seed=seed, sites=160, cycles=2), specs)
        long = world.answers_for_scoring()
        slugs = world.organisations.set_index("ref")["slug"]
        layers = world.truth[world.truth["scope"] == "layer"].assign(
            target=lambda t, slugs=slugs: t["target"].map(slugs)
        )
        truth = layers.pivot_table(index=["cycle", "target"], columns="key", values="value")
        true_index, _ = capped_index(
            truth[["quality", "dependability", "speed", "cost"]].to_numpy(), SandCone()
        )
        truth = truth.assign(true_index=true_index).reset_index()
        for direction, spec in specs.items():
            items = spec.item_table()
            rated = long[long["item"].isin(items.index[items["kind"] == "likert"])]
            coded = coded_answers(rated, items, spec.scale_points)
            scores = rater_dimension_scores(coded, items, spec.scale_points)
            indices = reliability_indices(scores, SandCone(), ci=0.90)
            merged = indices.merge(truth, on=["cycle", "target"], validate="one_to_one")
            results[direction].append(merged.assign(seed=seed))
    return {
        direction: pd.concat(frames, ignore_index=True) for direction, frames in results.items()
    }


@pytest.mark.slow
def test_ninety_percent_intervals_cover_the_true_index(
    scored_world: dict[str, pd.DataFrame],
) -> None:
    sites = scored_world["sponsor_rates_site"].dropna(subset=["reliability_index", "ri_low"])
    covered = (sites["ri_low"] <= sites["true_index"]) & (sites["true_index"] <= sites["ri_high"])
    assert 0.85 <= covered.mean() <= 0.95, (
        f"coverage {covered.mean():.3f} over {len(sites)} targets"
    )
    few = sites["n_raters"] <= 3
    assert few.sum() >= 50
    assert 0.85 <= covered[few].mean() <= 0.95, (
        f"coverage {covered[few].mean():.3f} with 2–3 raters"
    )


@pytest.mark.slow
def test_shrunk_index_ranks_targets_closer_to_the_truth(
    scored_world: dict[str, pd.DataFrame],
) -> None:
    from scipy.stats import spearmanr

    sites = scored_world["sponsor_rates_site"].dropna(subset=["reliability_index"])
    raw_error = ((sites["raw_index"] - sites["true_index"]) ** 2).mean()
    shrunk_error = ((sites["reliability_index"] - sites["true_index"]) ** 2).mean()
    assert shrunk_error < raw_error
    assert (
        spearmanr(sites["reliability_index"], sites["true_index"]).statistic
        > spearmanr(sites["raw_index"], sites["true_index"]).statistic
    )


def test_scores_stay_within_0_and_100(scored_world: dict[str, pd.DataFrame]) -> None:
    for table in scored_world.values():
        for column in ("reliability_index", "ri_low", "ri_high", "raw_index", "plain_score"):
            values = table[column].dropna()
            assert values.between(0, 100).all(), column
