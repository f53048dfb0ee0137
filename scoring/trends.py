"""Steps 7, 8 and 10 of the method: trend, predictability and NPS; and change between cycles.

A partner's index over recent cycles gives a trend (is it getting better?) and a
predictability (can one plan on it?). The overall 0–10 item gives the NPS. Between two
cycles, a change is told from noise by the intervals both cycles stored: for the index
(movers) and for a dimension's mean (did an action item's dimension move?).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as t_dist

STABILITY_SCALE = 20.0
"""Residual spread of the index (points) at which stability reaches 0."""


WINDOW = 4
"""Cycles a trend looks back over, the current one included."""


class TrendLabel(StrEnum):
    """What a trend says: a significant rise or fall, or neither."""

    improving = "improving"
    stable = "stable"
    declining = "declining"


def trend_label(slope: float | None, p: float | None, significance: float) -> TrendLabel | None:
    """Return the label of one stored trend: the rule `trends` applies to every target.

    Improving or declining only when the slope is significant (p below `significance`),
    stable otherwise; None where no trend was computed.

    Examples
    --------
    >>> [str(trend_label(slope, p, 0.05)) for slope, p in [(1.5, 0.01), (-1.5, 0.01), (4.0, 0.2)]]
    ['improving', 'declining', 'stable']
    >>> trend_label(None, None, 0.05) is None
    True
    """
    if slope is None or p is None or slope != slope or p != p:
        return None
    if float(p) >= significance:
        return TrendLabel.stable
    return TrendLabel.improving if float(slope) > 0 else TrendLabel.declining


def trends(
    history: pd.DataFrame, min_cycles: int = 3, window: int = WINDOW, significance: float = 0.05
) -> pd.DataFrame:
    """Return each target's least-squares trend of its index over its last `window` cycles.

    Parameters
    ----------
    history
        target, cycle, reliability_index; cycles sort as text (2025-Q4 < 2026-Q1).

    Notes
    -----
    x is the cycle's position among all cycles of the history (so a skipped cycle
    counts), over the last `window` of them; y the target's index.
    slope = Sxy / Sxx, s² = Σ residual² / (m − 2), se = √(s² / Sxx),
    p = 2 P(T > |slope / se|), T ~ t(m − 2): the slope and p-value
    `pingouin.linear_regression` reports. Label: improving (p < significance, slope > 0),
    declining (p < significance, slope < 0), otherwise stable; with fewer than
    `min_cycles` cycles nothing is computed.

    Returns
    -------
    DataFrame
        target, n_cycles, trend_slope (points per cycle), trend_p, trend, residual_sd.
    """
    # x is the cycle's place among all cycles, so a gap counts as time passing, and the
    # window is the last `window` cycles of the history, not a target's last scores
    cycles = sorted(history["cycle"].unique())
    position = {cycle: float(i) for i, cycle in enumerate(cycles)}
    recent = history.dropna(subset=["reliability_index"]).sort_values(["target", "cycle"]).copy()
    recent["x"] = recent["cycle"].map(position)
    recent = recent[recent["x"] > len(cycles) - 1 - window]
    columns = ["target", "n_cycles", "trend_slope", "trend_p", "residual_sd", "trend"]
    if recent.empty:  # no computable index anywhere: nothing to fit
        return pd.DataFrame(columns=columns)
    grouped = recent.groupby("target", sort=True)
    m = grouped["x"].count().astype(float)
    x_mean, y_mean = grouped["x"].mean(), grouped["reliability_index"].mean()
    recent["dx"] = recent["x"] - recent["target"].map(x_mean)
    recent["dy"] = recent["reliability_index"] - recent["target"].map(y_mean)
    sxx = (recent["dx"] ** 2).groupby(recent["target"]).sum()
    sxy = (recent["dx"] * recent["dy"]).groupby(recent["target"]).sum()
    syy = (recent["dy"] ** 2).groupby(recent["target"]).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sxy / sxx
        residual = np.maximum(syy - slope * sxy, 0.0)
        s2 = residual / (m - 2)
        se = np.sqrt(s2 / sxx)
        statistic = slope / se
        p = 2 * t_dist.sf(np.abs(statistic), m - 2)
    # a perfect line has se = 0: its slope is certain
    p = np.where(se == 0, np.where(slope == 0, 1.0, 0.0), p)
    enough = m >= min_cycles
    out = pd.DataFrame(
        {
            "n_cycles": m.astype(int),
            "trend_slope": np.where(enough, slope, np.nan),
            "trend_p": np.where(enough, p, np.nan),
            "residual_sd": np.where(enough, np.sqrt(s2), np.nan),
        },
        index=m.index,
    )
    # the rule of trend_label, for every target at once
    improving = np.where(out["trend_slope"] > 0, TrendLabel.improving, TrendLabel.declining)
    label = pd.Series(
        np.where(out["trend_p"] < significance, improving, TrendLabel.stable), index=m.index
    )
    out["trend"] = label.astype(object).where(pd.Series(enough, index=m.index), None)
    return out.reset_index()


def predictability(residual_sd: pd.Series, agreement: pd.Series) -> pd.Series:
    """Return predictability (0–100) from the index's stability and the raters' agreement.

    Notes
    -----
    Rapport's definition (DESIGN.md §3.7 leaves the formula open): stability =
    max(0, 1 − residual_sd / STABILITY_SCALE), the spread of the index around its own
    trend (a steady improvement is predictable, a zigzag is not); agreement = the mean
    rwg over the target's dimensions in the latest cycle. predictability = 50 ×
    (stability + agreement). Not computable (NaN) without a trend or without rwg.

    Examples
    --------
    >>> predictability(pd.Series([0.0, 10.0, 30.0]), pd.Series([1.0, 0.8, 0.5])).tolist()
    [100.0, 65.0, 25.0]
    """
    stability = (1 - residual_sd / STABILITY_SCALE).clip(lower=0.0)
    return 50 * (stability + agreement)


def nps(overall: pd.DataFrame, by: list[str], value: str = "value") -> pd.DataFrame:
    """Return the Net Promoter Score from the 0–10 overall item: % 9–10 minus % 0–6.

    Examples
    --------
    >>> answers = pd.DataFrame({"target": "t", "value": [10, 9, 8, 7, 6, 0, 9, 10, 3, 8.0]})
    >>> float(nps(answers, ["target"])["nps"].iloc[0])
    10.0
    """
    answered = overall.dropna(subset=[value])
    promoters = (answered[value] >= 9).astype(float)
    detractors = (answered[value] <= 6).astype(float)
    table = answered.assign(score=100 * (promoters - detractors))
    return (
        table.groupby(by, sort=True, observed=True)["score"]
        .agg(nps="mean", n_overall="count")
        .reset_index()
    )


def shown_change(now: float | None, before: float | None) -> int | None:
    """Return a change between two stored figures as every page, file and scorecard prints
    it: their difference, rounded once to whole points; None unless both are known.

    One rule, so that a reader never meets two changes for one relationship. Rounding each
    figure first would be the other candidate, and it disagrees with this one by a point
    whenever the roundings fall apart: 71.6 → 76.4 is +5 here (the true 4.8, rounded) but
    +4 as 76 − 72. The rounded difference is the nearer to the truth, and it is what the
    change's interval is centred on, so it is the one printed; "72 → 76, +5" reads as a
    difference of rounded figures does in any report.

    Examples
    --------
    >>> shown_change(76.4, 71.6), shown_change(72.3, 72.6), shown_change(None, 70.0)
    (5, 0, None)
    """
    if now is None or before is None:
        return None
    return round(now - before)


def index_changes(now: pd.DataFrame, before: pd.DataFrame, level: float = 0.90) -> pd.DataFrame:
    """Return each target's change of index between two cycles, its interval and p-value.

    Parameters
    ----------
    now, before
        target, reliability_index, ri_low, ri_high: one row per target, each from its
        own cycle; a target missing from either has no change.
    level
        Confidence level of both given intervals, and of the change's interval.

    Notes
    -----
    Each interval is read as a normal one: se = (ri_high − ri_low) / (2 z), with
    z = Φ⁻¹(1 − (1 − level)/2). The two cycles' raters are independent samples, so
    se(change) = √(se_now² + se_before²), the change's interval is change ± z · se(change)
    and p = 2 (1 − Φ(|change| / se(change))). The change is significant when that
    interval leaves out 0 (p < 1 − level). This is less conservative than asking the two
    intervals not to overlap, which the escalation flag asks: a mover can be significant
    without raising a flag. An interval built from a t distribution (few raters) gives a
    wider se than the true one, so the test errs on the side of "not significant".

    Returns
    -------
    DataFrame
        target, before, now, change, change_low, change_high, p, significant; sorted by
        target. Targets without an interval in either cycle get change but NaN p and
        significant False.

    Examples
    --------
    >>> now = pd.DataFrame({"target": ["a", "b"], "reliability_index": [70.0, 62.0],
    ...                     "ri_low": [65.0, 52.0], "ri_high": [75.0, 72.0]})
    >>> before = pd.DataFrame({"target": ["a", "b"], "reliability_index": [60.0, 60.0],
    ...                        "ri_low": [55.0, 50.0], "ri_high": [65.0, 70.0]})
    >>> out = index_changes(now, before)
    >>> out[["target", "change", "significant"]].values.tolist()
    [['a', 10.0, True], ['b', 2.0, False]]
    >>> round(float(out["p"].iloc[0]), 3)
    0.02
    """
    columns = ["target", "reliability_index", "ri_low", "ri_high"]
    both = now[columns].merge(before[columns], on="target", suffixes=("_now", "_before"))
    numbers = [c for c in both.columns if c != "target"]
    # unknown intervals may arrive as None in an object column: make them NaN
    both[numbers] = both[numbers].apply(pd.to_numeric, errors="coerce").astype(float)
    both = both.dropna(subset=["reliability_index_now", "reliability_index_before"])
    z = float(norm.ppf(1 - (1 - level) / 2))
    se_now = (both["ri_high_now"] - both["ri_low_now"]) / (2 * z)
    se_before = (both["ri_high_before"] - both["ri_low_before"]) / (2 * z)
    se = np.sqrt(se_now**2 + se_before**2)
    change = both["reliability_index_now"] - both["reliability_index_before"]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * norm.sf(np.abs(change) / se)
    # an interval of zero width is certainty, not an error
    p = np.where(se == 0, np.where(change == 0, 1.0, 0.0), p)
    out = pd.DataFrame(
        {
            "target": both["target"],
            "before": both["reliability_index_before"],
            "now": both["reliability_index_now"],
            "change": change,
            "change_low": change - z * se,
            "change_high": change + z * se,
            "p": p,
        }
    )
    out["significant"] = (out["p"] < 1 - level).fillna(False).astype(bool)
    return out.sort_values("target").reset_index(drop=True)


def mean_changes(
    now: pd.DataFrame, before: pd.DataFrame, on: list[str], level: float = 0.90
) -> pd.DataFrame:
    """Return each group's change of raters' mean between two cycles, by Welch's t-test.

    Parameters
    ----------
    now, before
        `on` columns, n_raters, mean, low, high: the t-based intervals at `level` that
        `scoring.indices.target_scores` gives (a dimension's score for one partner).
    on
        Columns that match a row of `now` with its row of `before`.

    Notes
    -----
    The interval gives the raters' spread back: half = t(1 − (1 − level)/2, n − 1) · sd / √n,
    so sd = half · √n / t, taking the wider side as the half-width (an interval clipped
    at 0 or 100 is shortened on one side only; clipped on both, the spread is lost and
    the test is not computed). Then Welch's test: se² = s₁²/n₁ + s₂²/n₂,
    ν = se⁴ / Σ (sᵢ²/nᵢ)² / (nᵢ − 1), p = 2 P(T_ν > |mean₁ − mean₂| / se); the change's
    interval is change ± t(1 − (1 − level)/2, ν) · se. Matches `pingouin.ttest(x, y,
    correction=True)` on the raters' scores. Groups with fewer than 2 raters in either
    cycle get the change but NaN p and are not significant.

    Returns
    -------
    DataFrame
        `on` columns, before, now, change, change_low, change_high, p, significant.

    Examples
    --------
    >>> now = pd.DataFrame({"target": ["a"], "n_raters": [4], "mean": [80.0],
    ...                     "low": [70.0], "high": [90.0]})
    >>> before = pd.DataFrame({"target": ["a"], "n_raters": [4], "mean": [60.0],
    ...                        "low": [50.0], "high": [70.0]})
    >>> row = mean_changes(now, before, ["target"]).iloc[0]
    >>> float(row["change"]), round(float(row["p"]), 4), bool(row["significant"])
    (20.0, 0.0158, True)
    """
    columns = [*on, "n_raters", "mean", "low", "high"]
    both = now[columns].merge(before[columns], on=on, suffixes=("_now", "_before"))
    numbers = [c for c in both.columns if c not in on]
    both[numbers] = both[numbers].apply(pd.to_numeric, errors="coerce").astype(float)
    both = both.dropna(subset=["mean_now", "mean_before"])
    quantile = 1 - (1 - level) / 2
    variance = []
    for side in ("_now", "_before"):
        n = both["n_raters" + side].to_numpy(dtype=float)
        mean = both["mean" + side].to_numpy(dtype=float)
        half = np.fmax(both["high" + side] - mean, mean - both["low" + side]).to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = half * np.sqrt(n) / t_dist.ppf(quantile, n - 1)
        # clipped at both ends, the interval no longer tells the spread
        lost = (both["low" + side] <= 0).to_numpy() & (both["high" + side] >= 100).to_numpy()
        variance.append((np.where((n >= 2) & ~lost, sd, np.nan) ** 2 / n, n))
    (v1, n1), (v2, n2) = variance
    se = np.sqrt(v1 + v2)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        change = (both["mean_now"] - both["mean_before"]).to_numpy(dtype=float)
        p = 2 * t_dist.sf(np.abs(change) / se, df)
        half_change = t_dist.ppf(quantile, df) * se
    # raters who all agree in both cycles: no spread, the change is certain
    p = np.where(se == 0, np.where(change == 0, 1.0, 0.0), p)
    half_change = np.where(se == 0, 0.0, half_change)
    out = both[on].copy()
    out["before"], out["now"], out["change"] = both["mean_before"], both["mean_now"], change
    out["change_low"], out["change_high"] = change - half_change, change + half_change
    out["p"] = p
    out["significant"] = (out["p"] < 1 - level).fillna(False).astype(bool)
    return out.reset_index(drop=True)
