"""Trend against pingouin.linear_regression; NPS and predictability on worked cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from scoring.trends import nps, predictability, trends


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
