"""Trend against pingouin.linear_regression; NPS and predictability on worked cases; change
between cycles against simulated truth and pingouin's Welch test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy.stats import norm

from scoring.indices import target_scores
from scoring.trends import index_changes, mean_changes, nps, predictability, trends


def history(values: dict[str, list[float]]) -> pd.DataFrame:
    cycles = ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    return pd.DataFrame(
        [
            {"target": target, "cycle": cycles[i], "reliability_index": v}
            for target, series in values.items()
            for i, v in enumerate(series)
        ]
    )


@pytest.mark.parametrize("seed", range(6))
def test_slope_and_p_match_pingouin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    series = {f"t{i}": list(rng.normal(60, 8, rng.integers(3, 7))) for i in range(12)}
    out = trends(history(series), window=6).set_index("target")
    for target, values in series.items():
        reference = pg.linear_regression(np.arange(len(values), dtype=float), np.array(values))
        slope = reference.set_index("names").loc["x1"]
        assert out.at[target, "trend_slope"] == pytest.approx(slope["coef"], abs=1e-9)
        assert out.at[target, "trend_p"] == pytest.approx(slope["pval"], abs=1e-9)


def test_only_the_last_window_cycles_count() -> None:
    # a collapse long ago, then a steady climb over the last four cycles
    out = trends(history({"a": [90, 20, 50, 52, 54, 56]}), window=4).set_index("target")
    assert out.at["a", "n_cycles"] == 4
    assert out.at["a", "trend_slope"] == pytest.approx(2.0)
    assert out.at["a", "trend"] == "improving"


def test_labels_and_too_short_histories() -> None:
    out = trends(
        history(
            {
                "up": [50, 55, 60, 66],
                "down": [80, 70, 61, 50],
                "flat": [60, 70, 55, 65],
                "short": [50, 60],
            }
        )
    ).set_index("target")
    assert out["trend"].to_dict() == {
        "down": "declining",
        "flat": "stable",
        "short": None,
        "up": "improving",
    }
    assert np.isnan(out.at["short", "trend_slope"])


def test_a_perfect_line_is_certain() -> None:
    out = trends(history({"a": [50, 52, 54]})).set_index("target")
    assert out.at["a", "trend_p"] == 0.0
    assert out.at["a", "trend"] == "improving"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([9, 10, 10, 9], 100.0),
        ([0, 6, 3, 5], -100.0),
        ([7, 8, 7, 8], 0.0),
        ([10, 9, 8, 7, 6, 0, 9, 10, 3, 8], 10.0),
    ],
)
def test_nps(values: list[float], expected: float) -> None:
    result = nps(pd.DataFrame({"target": "t", "value": values}), ["target"])
    assert result["nps"].iloc[0] == pytest.approx(expected)
    assert result["n_overall"].iloc[0] == len(values)


def test_predictability_rewards_steadiness_and_agreement() -> None:
    steady = predictability(pd.Series([2.0]), pd.Series([0.9])).iloc[0]
    erratic = predictability(pd.Series([15.0]), pd.Series([0.9])).iloc[0]
    split = predictability(pd.Series([2.0]), pd.Series([0.2])).iloc[0]
    assert steady > erratic
    assert steady > split
    assert 0 <= min(steady, erratic, split) <= max(steady, erratic, split) <= 100


def test_a_skipped_cycle_counts_as_time() -> None:
    # rated in the 1st, 2nd and 4th of four cycles: x = 0, 1, 3
    data = history({"a": [60, 62, 0, 66], "b": [50, 50, 50, 50]})
    data = data[~((data["target"] == "a") & (data["cycle"] == "2025-Q4"))]
    out = trends(data, window=4).set_index("target")
    expected = pg.linear_regression(np.array([0.0, 1.0, 3.0]), np.array([60.0, 62.0, 66.0]))
    assert out.at["a", "trend_slope"] == pytest.approx(expected.set_index("names").at["x1", "coef"])


def normal_intervals(rng: np.random.Generator, truth: np.ndarray, se: float) -> pd.DataFrame:
    """Estimates of known truths, each with its 90% normal interval."""
    estimate = truth + rng.normal(0, se, truth.size)
    half = norm.ppf(0.95) * se
    return pd.DataFrame(
        {
            "target": np.arange(truth.size),
            "reliability_index": estimate,
            "ri_low": estimate - half,
            "ri_high": estimate + half,
        }
    )


def test_change_interval_covers_the_true_change_nine_times_in_ten() -> None:
    rng = np.random.default_rng(7)
    before_truth = rng.uniform(40, 80, 4000)
    true_change = rng.normal(0, 6, 4000)
    before = normal_intervals(rng, before_truth, se=4.0)
    now = normal_intervals(rng, before_truth + true_change, se=3.0)
    out = index_changes(now, before)
    covered = (out["change_low"] <= true_change) & (true_change <= out["change_high"])
    # 4,000 draws: the share's standard error is 0.5 points
    assert covered.mean() == pytest.approx(0.90, abs=0.015)


def test_a_target_that_did_not_move_is_called_significant_one_time_in_ten() -> None:
    rng = np.random.default_rng(11)
    truth = rng.uniform(40, 80, 4000)
    out = index_changes(normal_intervals(rng, truth, 5.0), normal_intervals(rng, truth, 5.0))
    assert out["significant"].mean() == pytest.approx(0.10, abs=0.015)
    # and p is uniform under no change, as a p-value should be
    assert np.quantile(out["p"], [0.25, 0.5, 0.75]) == pytest.approx([0.25, 0.5, 0.75], abs=0.03)


def test_a_large_true_change_is_found_almost_always() -> None:
    rng = np.random.default_rng(3)
    truth = rng.uniform(40, 70, 2000)
    out = index_changes(normal_intervals(rng, truth + 20, 4.0), normal_intervals(rng, truth, 4.0))
    # power of a z-test at 20 / (4√2) = 3.5 standard errors: 0.97
    assert out["significant"].mean() > 0.95
    assert (out["change"] > 0).all()


def test_targets_without_both_cycles_or_an_interval() -> None:
    now = pd.DataFrame(
        {
            "target": ["a", "b", "c"],
            "reliability_index": [50.0, 60.0, None],
            "ri_low": [40.0, None, None],
            "ri_high": [60.0, None, None],
        }
    )
    before = pd.DataFrame(
        {
            "target": ["a", "b", "c", "d"],
            "reliability_index": [50.0] * 4,
            "ri_low": [40.0] * 4,
            "ri_high": [60.0] * 4,
        }
    )
    out = index_changes(now, before).set_index("target")
    assert list(out.index) == ["a", "b"]  # c has no index now, d no row now
    assert out.at["a", "p"] == pytest.approx(1.0)
    assert out.at["b", "change"] == 10.0
    assert np.isnan(out.at["b", "p"]) and not out.at["b", "significant"]


@pytest.mark.parametrize("seed", range(4))
def test_mean_change_matches_pingouins_welch_test_from_the_stored_intervals(seed: int) -> None:
    rng = np.random.default_rng(seed)
    samples = {}
    for cycle in ("before", "now"):
        for target in range(25):
            n = int(rng.integers(2, 9))
            samples[(cycle, target)] = rng.normal(rng.uniform(35, 65), rng.uniform(4, 15), n)
    scores = pd.DataFrame(
        [{"cycle": c, "target": t, "score": v} for (c, t), xs in samples.items() for v in xs]
    )
    table = target_scores(scores, ["cycle", "target"])
    out = mean_changes(
        table[table["cycle"] == "now"], table[table["cycle"] == "before"], ["target"]
    ).set_index("target")
    for target in range(25):
        now, before = samples[("now", target)], samples[("before", target)]
        reference = pg.ttest(now, before, correction=True, confidence=0.90)
        assert out.at[target, "p"] == pytest.approx(reference["p_val"].iloc[0], rel=1e-6)
        assert out.at[target, "change"] == pytest.approx(now.mean() - before.mean())
        low, high = reference["CI90"].iloc[0]
        assert (out.at[target, "change_low"], out.at[target, "change_high"]) == pytest.approx(
            (low, high),
            abs=0.01,  # pingouin rounds its interval to 2 decimals
        )


def test_mean_change_needs_two_raters_on_each_side() -> None:
    one = pd.DataFrame(
        {"target": ["a"], "n_raters": [1], "mean": [80.0], "low": [np.nan], "high": [np.nan]}
    )
    two = pd.DataFrame(
        {"target": ["a"], "n_raters": [2], "mean": [60.0], "low": [40.0], "high": [80.0]}
    )
    out = mean_changes(one, two, ["target"]).iloc[0]
    assert out["change"] == 20.0 and np.isnan(out["p"]) and not out["significant"]
    wide = pd.DataFrame(
        {"target": ["a"], "n_raters": [2], "mean": [50.0], "low": [0.0], "high": [100.0]}
    )
    assert np.isnan(mean_changes(wide, two, ["target"]).iloc[0]["p"]), "spread lost to clipping"


def test_changes_without_any_interval_are_not_tested_rather_than_failing() -> None:
    # a cycle in which no interval could be computed (one rater each): None, not numbers
    now = pd.DataFrame(
        {
            "target": ["a", "b"],
            "reliability_index": [60.0, 70.0],
            "ri_low": [None, None],
            "ri_high": [None, None],
        }
    )
    before = pd.DataFrame(
        {
            "target": ["a", "b"],
            "reliability_index": [50.0, 70.0],
            "ri_low": [None, None],
            "ri_high": [None, None],
        }
    )
    out = index_changes(now, before).set_index("target")
    assert out.at["a", "change"] == 10.0 and np.isnan(out.at["a", "p"])
    assert not out["significant"].any()
    means = pd.DataFrame(
        {"key": [0], "n_raters": [1], "mean": [50.0], "low": [None], "high": [None]}
    )
    assert np.isnan(mean_changes(means, means, ["key"]).iloc[0]["p"])
