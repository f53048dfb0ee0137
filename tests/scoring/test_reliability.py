"""Cronbach's alpha and the one-way ANOVA against pingouin and the published example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from scoring.reliability import cronbach_alpha, one_way_components, pairwise_covariance

DATA = Path(__file__).resolve().parents[1] / "data"


def pingouin_alpha(matrix: np.ndarray) -> tuple[float, np.ndarray]:
    return pg.cronbach_alpha(pd.DataFrame(matrix))


@pytest.mark.parametrize("seed", range(8))
def test_alpha_matches_pingouin_on_random_data_with_gaps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = rng.integers(5, 60), rng.integers(2, 7)
    latent = rng.normal(0, 1, (n, 1))
    matrix = np.clip(np.rint(3 + latent + rng.normal(0, 0.8, (n, k))), 1, 5)
    matrix[rng.random((n, k)) < 0.1] = np.nan
    expected, interval = pingouin_alpha(matrix)
    result = cronbach_alpha(matrix)
    assert result.alpha == pytest.approx(expected, abs=1e-9)
    assert np.round([result.low, result.high], 3) == pytest.approx(interval, abs=1e-12)


@pytest.mark.parametrize("name", ["cronbach_alpha", "cronbach_wide_missing"])
def test_alpha_matches_pingouin_on_its_bundled_data(name: str) -> None:
    data = pg.read_dataset(name)
    if name == "cronbach_alpha":
        data = data.pivot(index="Subj", columns="Items", values="Scores")
    expected, interval = pg.cronbach_alpha(data)
    result = cronbach_alpha(data.to_numpy(dtype="float64"))
    assert result.alpha == pytest.approx(expected, abs=1e-9)
    assert np.round([result.low, result.high], 3) == pytest.approx(interval, abs=1e-12)


def test_pairwise_covariance_matches_pandas() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(30, 5))
    matrix[rng.random(matrix.shape) < 0.2] = np.nan
    expected = pd.DataFrame(matrix).cov().to_numpy()
    np.testing.assert_allclose(pairwise_covariance(matrix), expected, rtol=1e-12, atol=1e-12)


def test_alpha_is_not_computable_with_one_item_or_one_row() -> None:
    assert np.isnan(cronbach_alpha(np.array([[1.0], [2.0], [3.0]])).alpha)
    assert np.isnan(cronbach_alpha(np.array([[1.0, 2.0]])).alpha)


def shrout_fleiss() -> pd.DataFrame:
    return pd.read_csv(DATA / "shrout_fleiss_1979.csv").assign(set="all")


def test_one_way_iccs_reproduce_shrout_and_fleiss() -> None:
    [row] = one_way_components(shrout_fleiss(), ["set"], "target", "rating").to_dict("records")
    assert row["icc1"] == pytest.approx(0.17, abs=0.005)
    assert row["icck"] == pytest.approx(0.44, abs=0.005)


@pytest.mark.parametrize("seed", range(5))
def test_one_way_iccs_match_pingouin_on_balanced_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    targets, raters = rng.integers(3, 25), rng.integers(2, 9)
    truth = rng.normal(50, 10, targets)
    rows = [
        {"set": "s", "target": t, "rater": r, "score": truth[t] + rng.normal(0, 12)}
        for t in range(targets)
        for r in range(raters)
    ]
    data = pd.DataFrame(rows)
    reference = pg.intraclass_corr(data, targets="target", raters="rater", ratings="score")
    icc = reference.set_index("Type")["ICC"]
    [row] = one_way_components(data, ["set"], "target", "score").to_dict("records")
    assert row["icc1"] == pytest.approx(icc["ICC(1,1)"], abs=1e-9)
    assert row["icck"] == pytest.approx(icc["ICC(1,k)"], abs=1e-9)


def test_unbalanced_components_by_hand() -> None:
    # three targets with 1, 2 and 3 raters: x̄ = (10, 20, 33), N = 6, grand mean 23.5
    data = pd.DataFrame(
        {"set": "s", "target": ["a", "b", "b", "c", "c", "c"], "score": [10, 18, 22, 30, 33, 36]}
    )
    [row] = one_way_components(data, ["set"], "target", "score").to_dict("records")
    grand = 149 / 6
    msb = (1 * (10 - grand) ** 2 + 2 * (20 - grand) ** 2 + 3 * (33 - grand) ** 2) / 2
    msw = ((18 - 20) ** 2 + (22 - 20) ** 2 + (30 - 33) ** 2 + 0 + (36 - 33) ** 2) / 3
    n0 = (6 - (1 + 4 + 9) / 6) / 2
    assert row["msb"] == pytest.approx(msb, abs=1e-9)
    assert row["msw"] == pytest.approx(msw, abs=1e-9)
    assert row["n0"] == pytest.approx(n0, abs=1e-9)
    assert row["tau2"] == pytest.approx((msb - msw) / n0, abs=1e-9)


def test_single_target_has_no_between_variance() -> None:
    data = pd.DataFrame({"set": "s", "target": "a", "score": [10.0, 20.0, 30.0]})
    [row] = one_way_components(data, ["set"], "target", "score").to_dict("records")
    assert np.isnan(row["msb"])
    assert np.isnan(row["tau2"])
    assert row["sigma2"] == pytest.approx(100.0)
