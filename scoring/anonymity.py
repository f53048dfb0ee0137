"""DESIGN.md §4 as arithmetic: which aggregates the rated party may see.

Sites fear a punitive response, so an aggregate of their ratings needs k distinct
raters, comments need more, and sub-groups shown beside their group (one site's view
of a sponsor beside all sites' view) must not reveal the few raters left over by
difference. Benchmarks against unnamed peers show a group's spread only in figures that
no reader can solve for one member's value (`peer_spread`). Each rule lives here once,
so no view re-derives it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betainc, betaincc

from scoring.config import ScoringConfig

QUARTILE_MEMBERS = 5
"""Members a group needs before its three quartiles may be shown rather than its median
alone: a member reading them knows its own value, and three figures leave the others
undetermined only when at least four are unknown (`peer_spread`, Notes)."""

QUARTILES = (0.25, 0.5, 0.75)
"""The figures a benchmark shows of a large enough group: lower quartile, median, upper."""

SHOWN_STEP = 1.0
"""Points a benchmark figure is rounded to: what every page prints, and no finer."""


def minimum_raters(direction: str, config: ScoringConfig) -> int:
    """Return k, the raters an aggregate needs before the rated party may see it."""
    if direction == "site_rates_sponsor":
        return config.anonymity.site_rates_sponsor
    if direction == "sponsor_rates_site":
        return config.anonymity.sponsor_rates_site
    raise ValueError(f"unknown direction {direction!r}")


def minimum_commenters(direction: str, config: ScoringConfig) -> int:
    """Return the raters a group needs before its comments may be shown to the rated party.

    A comment can give its writer away by its wording, so site raters' comments need the
    comment threshold (and never fewer raters than the numbers need). A sponsor's remarks
    about a site speak for the sponsor (DESIGN.md §4), so they follow that direction's k.
    """
    k = minimum_raters(direction, config)
    if direction == "site_rates_sponsor":
        return max(k, config.anonymity.comments)
    return k


def disclosable_subgroups(
    cells: pd.DataFrame, group: list[str], n: str, group_n: str, eligible: str, k: int
) -> np.ndarray:
    """Return, per sub-group cell, whether it may be shown beside its group.

    Parameters
    ----------
    cells
        One row per sub-group cell (e.g. one site's view of one sponsor on one
        dimension), with its raters `n`, its group's raters `group_n` (all sites' view
        of that sponsor) and `eligible`: whether the cell may be shown on its own merits
        (k raters behind every number in it).
    group
        Columns naming the group a cell belongs to.
    n, group_n, eligible
        Column names, as above.
    k
        The smallest number of raters that may be seen, alone or by difference.

    Notes
    -----
    The sub-groups of a group partition its raters (a rater belongs to one
    organisation). If the raters of the hidden sub-groups number 1…k − 1, the shown
    ones subtracted from the group would reveal them; the smallest shown sub-group is
    then hidden too, which brings the hidden raters to at least k (it had k itself).

    Examples
    --------
    >>> cells = pd.DataFrame({"target": "p", "site": ["a", "b", "c"], "n": [3, 4, 1],
    ...                       "group_n": 8, "ok": [True, True, False]})
    >>> disclosable_subgroups(cells, ["target"], "n", "group_n", "ok", 3).tolist()
    [False, True, False]
    """
    counts = cells[n].to_numpy(dtype=float)
    shown: np.ndarray = cells[eligible].eq(True).to_numpy() & (counts >= k)
    if not len(cells):
        return shown
    codes = cells.groupby(group, sort=False, observed=True, dropna=False).ngroup().to_numpy()
    shown_raters = np.bincount(codes, weights=np.where(shown, counts, 0.0))
    group_raters = pd.Series(cells[group_n].to_numpy(dtype=float)).groupby(codes).max()
    hidden = np.maximum(group_raters.to_numpy() - shown_raters, 0)
    exposed = (hidden > 0) & (hidden < k)
    if exposed.any():
        candidates = pd.DataFrame({"code": codes, "n": counts, "row": np.arange(len(cells))})
        candidates = candidates[shown & exposed[codes]]
        smallest = candidates.sort_values(["code", "n", "row"]).drop_duplicates("code")["row"]
        shown[smallest.to_numpy()] = False
    return shown


@dataclass(frozen=True)
class PeerSpread:
    """What a benchmark may show of a group's values: their median, and their quartiles when
    the group is large enough; each a blend of every member's value, never one of them."""

    members: int
    """Values behind the figures (the reader's own among them when it is shown)."""
    median: float
    low: float | None
    """Lower quartile; None when the group is too small for more than the median."""
    high: float | None
    """Upper quartile; None with the lower one."""

    @property
    def quartiles(self) -> tuple[float, float, float] | None:
        """Lower quartile, median and upper quartile; None when only the median may be shown."""
        if self.low is None or self.high is None:
            return None
        return self.low, self.median, self.high


def quantile_weights(n: int, probabilities: Sequence[float] = QUARTILES) -> np.ndarray:
    """Return the Harrell–Davis weights: row j weighs the n order statistics into quantile j.

    Notes
    -----
    The p-quantile is Σᵢ wᵢ x₍ᵢ₎ with wᵢ = I_{i/n}(a, b) − I_{(i−1)/n}(a, b), where I is the
    regularised incomplete beta function, a = p(n + 1) and b = (1 − p)(n + 1): the expected
    p-th order statistic under the sample's distribution.

    References
    ----------
    Harrell, F. E. and Davis, C. E. (1982). A new distribution-free quantile estimator.
    Biometrika 69(3), 635–640. Matches `scipy.stats.mstats.hdquantiles` and R
    `Hmisc::hdquantile`.

    Examples
    --------
    >>> quantile_weights(4, [0.5]).round(4).tolist()
    [[0.1266, 0.3734, 0.3734, 0.1266]]
    """
    if n < 1:
        raise ValueError("quantile weights need at least one value")
    p = np.asarray(probabilities, dtype=float)[:, None]
    if ((p <= 0) | (p >= 1)).any():
        raise ValueError("quantile probabilities must lie strictly between 0 and 1")
    a, b, x = p * (n + 1), (1 - p) * (n + 1), np.arange(n + 1) / n
    below, above = betainc(a, b, x), betaincc(a, b, x)
    # differences of the upper tail's complement keep the far weights from cancelling to 0
    weights: np.ndarray = np.where(
        below[:, 1:] <= 0.5, np.diff(below, axis=1), -np.diff(above, axis=1)
    )
    return weights


def peer_spread(values: Sequence[float], minimum: int) -> PeerSpread | None:
    """Return what may be shown of a benchmark group's spread; None when it is too small.

    Parameters
    ----------
    values
        One shown value per member of the group (the partners of one kind in one view,
        on one measure), the reader's own among them when it is shown. Every member
        reads the same figures, so reading several members' benchmarks adds nothing.
    minimum
        Other members each member must be compared with (`anonymity.peers`, at least 3).

    Returns
    -------
    PeerSpread | None
        None with fewer than `minimum` + 1 members; the median alone with fewer than
        QUARTILE_MEMBERS; else the three quartiles. Harrell–Davis quantiles, in whole
        points (SHOWN_STEP).

    Notes
    -----
    The attack: a reader knows the method, the group's size, its own value and rank (its
    percentile), perhaps another member's value (a sponsor sees its own CRO by name), and
    the figures, and solves the system they make for the others' values. Sample quartiles
    (numpy's, `statistics.quantiles`) mix at most two order statistics each: three peers'
    quartiles solve for all three, and five peers' inclusive quartiles *are* three of
    their values. Means of windows of adjacent order statistics fall to a reader who
    knows one value in a window; figures that leave out each reader differ from reader to
    reader, so someone reading two members' benchmarks (a network, two of whose sites
    work with one sponsor) solves by difference.

    So the figures are the Harrell–Davis quantiles (`quantile_weights`) of the whole group,
    the same for every member, rounded to whole points:

    - every weight is positive: each figure blends every member's value, and is one of
      them only by coincidence;
    - the weights of the three quartiles form a strictly totally positive matrix (an
      exponential kernel in p and log(t / (1 − t)) integrated over ordered disjoint
      intervals; Karlin 1968, *Total Positivity*), so any three of its columns are
      independent: with u ≥ 4 values unknown to the reader, no combination of the
      figures gives any one of them, and each can still move. How tightly the figures
      bound one depends on what else the reader knows (one who knows every member but a
      few far from the quartiles all but reads the one near them), so the group must be
      large beside what one reader knows. A member knows its own value and may know one
      more (a sponsor sees its own CRO by name): the default of 5 peers leaves it at
      least four unknowns, and three figures always need QUARTILE_MEMBERS members; a
      group of 4 (possible with `anonymity.peers` = 3) shows its median alone;
    - exact figures could still bound a value *nearly* (a tight cluster of peers bounds
      itself through the lower quartile and the median, and the upper quartile then all
      but gives the one peer between the cluster and the reader), so the figures carry
      no more precision than a page prints: rounded, they leave the reader unsure of
      every other member's whole-point value (tests/security/test_peer_disclosure.py
      works the bounds out by linear programming over random groups).

    What stays visible is the spread itself, which is the point; where every member has
    the same value, every figure is that value, as for any average.

    Examples
    --------
    >>> peer_spread([61.0, 44.5, 70.2, 52.9, 58.4, 66.1], 5).quartiles
    (52.0, 60.0, 66.0)
    >>> peer_spread([61.0, 44.5, 70.2, 52.9, 58.4], 5) is None
    True
    >>> peer_spread([61.0, 44.5, 70.2, 52.9], 3)
    PeerSpread(members=4, median=57.0, low=None, high=None)
    """
    if minimum < 3:
        raise ValueError("a benchmark needs at least 3 peers (DESIGN.md §4)")
    ordered = np.sort(np.asarray(values, dtype=float))
    if not np.isfinite(ordered).all():
        raise ValueError("benchmark values must be finite numbers")
    n = len(ordered)
    if n - 1 < minimum:
        return None
    if n < QUARTILE_MEMBERS:
        (median,) = _shown(quantile_weights(n, [0.5]) @ ordered)
        return PeerSpread(n, median, None, None)
    low, median, high = _shown(quantile_weights(n) @ ordered)
    return PeerSpread(n, median, low, high)


def _shown(figures: np.ndarray) -> list[float]:
    """Figures as a benchmark may show them: in steps of SHOWN_STEP points."""
    return [float(SHOWN_STEP * v) for v in np.round(figures / SHOWN_STEP)]


def peer_percentile(values: Sequence[float], own: float | None, minimum: int) -> int | None:
    """Return the share of the other members below `own`, in percent; None with too few.

    `values` is the group as for `peer_spread`, `own` among them. The figure counts
    members below the reader: an order, not a value, so it lets a reader place itself
    but solve for no one (with the spread, it bounds the others; it never pins one).

    Examples
    --------
    >>> peer_percentile([40.0, 50.0, 60.0, 70.0, 80.0, 90.0], 70.0, 5)
    60
    >>> peer_percentile([40.0, 50.0, 60.0, 70.0, 80.0], 70.0, 5) is None
    True
    """
    if minimum < 3:
        raise ValueError("a benchmark needs at least 3 peers (DESIGN.md §4)")
    others = len(values) - 1
    if own is None or others < minimum:
        return None
    below = bisect_left(sorted(float(v) for v in values), float(own))
    return round(100 * below / others)
