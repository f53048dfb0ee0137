"""Steps 3–5 of the method: target scores, their shrinkage, and rater agreement.

A target's score on a dimension is the mean of its raters' scores, reported with a
t-based interval and the top-box share. Small samples must not top a ranking by luck,
so each mean is also shrunk towards the mean of all targets by its own reliability λ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist

from scoring.reliability import one_way_components

RWG_AGREEMENT = 0.70
"""rwg from which raters are said to agree well: the usual cut-off (LeBreton & Senter,
2008, "Answers to 20 questions about interrater reliability and interrater agreement")."""
DEFAULT_CI = 0.90
"""Confidence level of target intervals (DESIGN.md §3.3)."""


def target_scores(
    scores: pd.DataFrame, by: list[str], value: str = "score", ci: float = DEFAULT_CI
) -> pd.DataFrame:
    """Return n, mean, sd and the t-based interval of raters' scores for each `by` group.

    Notes
    -----
    mean ± t(1 − (1 − ci)/2, n − 1) · sd / √n, clipped to 0–100. With one rater the
    interval is not computable (NaN).

    Examples
    --------
    >>> s = pd.DataFrame({"target": ["a", "a", "a", "b"], "score": [50.0, 75.0, 100.0, 25.0]})
    >>> row = target_scores(s, ["target"]).iloc[0]
    >>> int(row["n_raters"]), float(row["mean"]), round(float(row["low"]), 2)
    (3, 75.0, 32.85)
    """
    table = (
        scores.groupby(by, sort=True, observed=True)[value]
        .agg(n_raters="count", mean="mean", sd="std")
        .reset_index()
    )
    n = table["n_raters"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = t_dist.ppf(1 - (1 - ci) / 2, n - 1) * table["sd"].to_numpy() / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    table["low"] = np.clip(table["mean"] - half, 0, 100)
    table["high"] = np.clip(table["mean"] + half, 0, 100)
    return table


def top_box_share(coded: pd.DataFrame, by: list[str], scale_points: int) -> pd.DataFrame:
    """Return the share of answered items at the top of the scale, per `by` group.

    The industry's "% excellent": answers of A (after reverse coding) over all answered
    Likert items of the group, so a reverse-coded item counts when strongly disagreed.
    """
    top = coded.assign(top_box=(coded["value"] == scale_points).astype(float))
    return top.groupby(by, sort=True, observed=True)["top_box"].mean().reset_index()


def rwg(coded: pd.DataFrame, by: list[str], scale_points: int) -> pd.DataFrame:
    """Return rwg(J), the raters' agreement on a multi-item dimension, per `by` group.

    Notes
    -----
    s̄² is the mean over the dimension's J items of the variance of raters' answers
    (ddof = 1), σ²_EU = (A² − 1) / 12 the variance of a uniform null on A options, and
    rwg(J) = J(1 − s̄²/σ²_EU) / (J(1 − s̄²/σ²_EU) + s̄²/σ²_EU). Where s̄² exceeds σ²_EU
    (less agreement than random answering) rwg is set to 0, the usual convention. Not
    computable with fewer than two raters.

    References
    ----------
    James, L. R., Demaree, R. G., & Wolf, G. (1984). Estimating within-group interrater
    reliability with and without response bias. Journal of Applied Psychology, 69(1).
    LeBreton, J. M., & Senter, J. L. (2008). Answers to 20 questions about interrater
    reliability and interrater agreement. Organizational Research Methods, 11(4).
    """
    null_variance = (scale_points**2 - 1) / 12
    per_item = (
        coded.groupby([*by, "item"], sort=True, observed=True)["value"]
        .agg(var="var", n="count")
        .reset_index()
    )
    per_item = per_item[per_item["n"] >= 2]
    grouped = per_item.groupby(by, sort=True, observed=True).agg(
        mean_var=("var", "mean"), items=("item", "size")
    )
    ratio = grouped["mean_var"] / null_variance
    j = grouped["items"]
    value = j * (1 - ratio) / (j * (1 - ratio) + ratio)
    grouped["rwg"] = np.where(ratio >= 1, 0.0, value)
    return grouped[["rwg"]].reset_index()


def shrunk_scores(
    scores: pd.DataFrame, by: list[str], target: str = "target", value: str = "score"
) -> pd.DataFrame:
    """Return each target's raw mean, λ and shrunk mean, per set of `by` keys.

    Notes
    -----
    From the one-way components of raters nested in targets (see
    `scoring.reliability.one_way_components`): λᵢ = τ² / (τ² + σ²/nᵢ), the reliability
    of target i's mean (its ICC(1,k) at k = nᵢ). The shrinkage centre μ is the
    precision-weighted mean of target means, weights 1 / (τ² + σ²/nᵢ). Then
    shrunk = μ + λᵢ (x̄ᵢ − μ), with posterior variance λᵢ σ²/nᵢ. When τ² = 0 every target
    is shrunk to μ; with no rater noise at all (σ² = 0) λ = 1; when σ² is not computable
    (every target has one rater) λ is NaN and the mean is left unshrunk.

    The posterior variance adds Morris's terms for the estimated centre and τ²:
    λσ²/nᵢ + B²/Σw + 2/(k − 3) · B²(x̄ᵢ − μ)², B = 1 − λᵢ, k targets (k − 3 floored at 1).

    References
    ----------
    Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications.
    Journal of the American Statistical Association, 78(381).

    Returns
    -------
    DataFrame
        The `by` keys, target, n_raters, mean, lambda, centre, shrunk, posterior_sd,
        tau2, sigma2.

    Examples
    --------
    >>> s = pd.DataFrame({"set": "s", "target": ["a", "b", "b", "c", "c", "c"],
    ...                   "score": [10.0, 18.0, 22.0, 30.0, 33.0, 36.0]})
    >>> out = shrunk_scores(s, ["set"])
    >>> [round(x, 3) for x in out["lambda"]]
    [0.934, 0.966, 0.977]
    """
    components = one_way_components(scores, by, target, value)
    means = (
        scores.groupby([*by, target], sort=True, observed=True)[value]
        .agg(n_raters="count", mean="mean")
        .reset_index()
        .merge(components[[*by, "tau2", "sigma2"]], on=by, how="left")
    )
    n = means["n_raters"].to_numpy(dtype=float)
    tau2, sigma2 = means["tau2"].to_numpy(), means["sigma2"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        error = sigma2 / n
        total = tau2 + error
        lam = np.where(error == 0, 1.0, tau2 / total)  # no rater noise: the mean is exact
        weight = np.where(total > 0, 1 / total, 1.0)  # all alike: weigh targets equally
    lam = np.where(np.isfinite(lam), lam, np.nan)
    means["lambda"] = lam
    means["weight"] = np.where(np.isfinite(weight), weight, np.nan)
    weighted = means.assign(wx=means["weight"] * means["mean"])
    centre = weighted.groupby(by, sort=True, observed=True)[["wx", "weight"]].sum()
    means = means.join((centre["wx"] / centre["weight"]).rename("centre"), on=by)
    means = means.join(centre["weight"].rename("total_weight"), on=by)
    means = means.join(
        means.groupby(by, sort=True, observed=True)[target].size().rename("k"), on=by
    )
    lam_known = means["lambda"].notna()
    means["shrunk"] = np.where(
        lam_known,
        means["centre"] + means["lambda"] * (means["mean"] - means["centre"]),
        means["mean"],
    )
    # Morris (1983): besides λσ²/n, the centre and τ² are estimated too; without these
    # terms intervals under-cover when there are few targets
    b = 1 - means["lambda"]
    spread = means["mean"] - means["centre"]
    extra_k = 2 / np.maximum(means["k"] - 3, 1)
    with np.errstate(invalid="ignore"):
        variance = (
            means["lambda"] * error + b**2 / means["total_weight"] + extra_k * b**2 * spread**2
        )
    means["posterior_sd"] = np.sqrt(variance)
    columns = [*by, target, "n_raters", "mean", "lambda", "centre", "shrunk", "posterior_sd"]
    return means[[*columns, "tau2", "sigma2"]]
