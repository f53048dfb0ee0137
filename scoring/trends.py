"""Steps 7, 8 and 10 of the method: trend, predictability and NPS.

A partner's index over recent cycles gives a trend (is it getting better?) and a
predictability (can one plan on it?). The overall 0–10 item gives the NPS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist

STABILITY_SCALE = 20.0
"""Residual spread of the index (points) at which stability reaches 0."""


WINDOW = 4
"""Cycles a trend looks back over, the current one included."""


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
    improving = np.where(out["trend_slope"] > 0, "improving", "declining")
    label = pd.Series(np.where(out["trend_p"] < significance, improving, "stable"), index=m.index)
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
