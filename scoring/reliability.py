"""Steps 2 and 4 of the method: how reliable the instrument and the target means are.

Cronbach's alpha says whether a dimension's items measure one thing; the one-way
random-effects ANOVA of raters nested in targets says how much of the spread in rater
scores is real difference between targets (τ²) and how much is rater noise (σ²), which
sets how far each target's mean is shrunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import f as f_dist

ALPHA_FLOOR = 0.70
"""Dimensions whose alpha is below this are flagged (DESIGN.md §3.2)."""


@dataclass(frozen=True)
class Alpha:
    """Cronbach's alpha with its confidence interval, or NaN where it is not computable."""

    alpha: float
    low: float
    high: float
    n: int
    """Rows (responses) the alpha is computed over."""
    k: int
    """Items."""


def cronbach_alpha(matrix: np.ndarray, ci: float = 0.95) -> Alpha:
    """Return Cronbach's alpha of an n × k matrix (NaN = unanswered), with its CI.

    Parameters
    ----------
    matrix
        One row per response, one column per item, reverse-coded.
    ci
        Confidence level of the interval.

    Notes
    -----
    α = k / (k − 1) × (1 − tr(C) / ΣC), C the item covariance matrix computed pairwise
    (each pair of items over the rows answering both, ddof = 1). The interval is
    Feldt's: 1 − (1 − α) F(1 ∓ ci / 2; n − 1, (n − 1)(k − 1)). Matches
    `pingouin.cronbach_alpha(nan_policy="pairwise")`, which rounds the interval to three
    decimals and counts every row given in n; R `psych::alpha` gives the same α.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson
    reliability coefficient twenty.

    Examples
    --------
    >>> m = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [2, 2, 3.0]])
    >>> round(cronbach_alpha(m).alpha, 4)  # pingouin.cronbach_alpha gives the same
    0.9744
    """
    n, k = matrix.shape
    if n < 2 or k < 2:
        return Alpha(np.nan, np.nan, np.nan, n, k)
    cov = pairwise_covariance(matrix)
    total = cov.sum()
    if not np.isfinite(total) or total == 0:
        return Alpha(np.nan, np.nan, np.nan, n, k)
    alpha = k / (k - 1) * (1 - np.trace(cov) / total)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - ci) / 2
    low = 1 - (1 - alpha) * f_dist.isf(tail, df1, df2)
    high = 1 - (1 - alpha) * f_dist.isf(1 - tail, df1, df2)
    return Alpha(float(alpha), float(low), float(high), n, k)


def pairwise_covariance(matrix: np.ndarray) -> np.ndarray:
    """Return the k × k covariance matrix with pairwise deletion, as pandas' `DataFrame.cov`.

    Each entry uses the rows where both columns are present, with means taken over those
    same rows (ddof = 1); an entry with fewer than two such rows is NaN.
    """
    present = ~np.isnan(matrix)
    values = np.where(present, matrix, 0.0)
    both = present.T.astype(float) @ present.astype(float)  # rows answering i and j
    sum_i = values.T @ present.astype(float)  # Σ x_i over rows answering j too
    sum_ij = values.T @ values
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (sum_ij - sum_i * sum_i.T / both) / (both - 1)
    cov[both < 2] = np.nan
    return np.asarray(cov)


def dimension_alphas(coded: pd.DataFrame, ci: float = 0.95) -> pd.DataFrame:
    """Return Cronbach's alpha per cycle and dimension over every response's item values.

    A response (one rater rating one target) is a row; its reverse-coded item values are
    the columns. Rows without any answer on the dimension are left out. The number of
    dimensions is small and fixed, so this loops over dimensions while every step inside
    is vectorised over responses.

    Returns
    -------
    DataFrame
        cycle, dimension, alpha, alpha_low, alpha_high, n_raters, low_alpha (alpha <
        ALPHA_FLOOR); alpha is NaN, with n_raters saying why, when fewer than two
        responses or items make it undefined.
    """
    rows = []
    for (cycle, dimension), group in coded.groupby(["cycle", "dimension"], sort=True):
        wide = group.pivot_table(
            index=["rater", "target"], columns="item", values="value", aggfunc="first"
        )
        result = cronbach_alpha(wide.to_numpy(dtype="float64"), ci)
        rows.append(
            {
                "cycle": cycle,
                "dimension": dimension,
                "alpha": result.alpha,
                "alpha_low": result.low,
                "alpha_high": result.high,
                "n_raters": result.n,
            }
        )
    table = pd.DataFrame(
        rows, columns=["cycle", "dimension", "alpha", "alpha_low", "alpha_high", "n_raters"]
    )
    table["low_alpha"] = table["alpha"] < ALPHA_FLOOR
    return table


def one_way_components(scores: pd.DataFrame, by: list[str], group: str, value: str) -> pd.DataFrame:
    """Return one-way random-effects variance components, per set of `by` keys.

    Within each set (e.g. one cycle and dimension), observations `value` (raters' scores)
    are nested in groups `group` (targets) of unequal sizes.

    Notes
    -----
    With k groups, N observations, group sizes nᵢ and means x̄ᵢ:
    MSB = Σ nᵢ (x̄ᵢ − x̄)² / (k − 1), MSW = Σ Σ (x − x̄ᵢ)² / (N − k),
    n0 = (N − Σ nᵢ² / N) / (k − 1) (Searle's average group size for unbalanced data),
    τ² = max(0, (MSB − MSW) / n0), σ² = MSW,
    ICC(1) = τ² / (τ² + σ²) computed as (MSB − MSW) / (MSB + (n0 − 1) MSW) before
    truncation, ICC(1,k) = (MSB − MSW) / MSB. With equal group sizes these are Shrout
    & Fleiss's ICC(1,1) and ICC(1,k), as `pingouin.intraclass_corr` reports them.

    References
    ----------
    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing
    rater reliability. Searle, S. R., Casella, G., & McCulloch, C. E. (1992). Variance
    Components, §3.6.

    Returns
    -------
    DataFrame
        The `by` keys, k (groups), N, msb, msw, n0, tau2, sigma2, icc1, icck. Values are
        NaN where undefined: one group (no between-group variance), or no group with two
        or more observations (no within-group variance).
    """
    per_group = (
        scores.groupby([*by, group], sort=True, observed=True)[value]
        .agg(n="count", total="sum", mean="mean", var="var")
        .reset_index()
    )
    per_group = per_group[per_group["n"] > 0]
    per_group["ss_within"] = per_group["var"].fillna(0.0) * (per_group["n"] - 1)
    per_group["n_squared"] = per_group["n"] ** 2
    sums = per_group.groupby(by, sort=True, observed=True).agg(
        k=("n", "size"),
        N=("n", "sum"),
        grand=("total", "sum"),
        ss_within=("ss_within", "sum"),
        n_squared=("n_squared", "sum"),
    )
    sums["grand"] = sums["grand"] / sums["N"]
    per_group = per_group.join(sums["grand"], on=by)
    per_group["ss_between"] = per_group["n"] * (per_group["mean"] - per_group["grand"]) ** 2
    sums["ss_between"] = per_group.groupby(by, sort=True, observed=True)["ss_between"].sum()
    k, n_total = sums["k"].astype(float), sums["N"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sums["msb"] = np.where(k > 1, sums["ss_between"] / (k - 1), np.nan)
        sums["msw"] = np.where(n_total > k, sums["ss_within"] / (n_total - k), np.nan)
        sums["n0"] = np.where(k > 1, (n_total - sums["n_squared"] / n_total) / (k - 1), np.nan)
        difference = sums["msb"] - sums["msw"]
        sums["tau2"] = np.maximum(difference / sums["n0"], 0.0)
        sums["sigma2"] = sums["msw"]
        sums["icc1"] = difference / (sums["msb"] + (sums["n0"] - 1) * sums["msw"])
        sums["icck"] = difference / sums["msb"]
    columns = ["k", "N", "msb", "msw", "n0", "tau2", "sigma2", "icc1", "icck"]
    return sums[columns].reset_index()
