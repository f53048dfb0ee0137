"""DESIGN.md §4 as arithmetic: which aggregates the rated party may see.

Sites fear a punitive response, so an aggregate of their ratings needs k distinct
raters, comments need more, and sub-groups shown beside their group (one site's view
of a sponsor beside all sites' view) must not reveal the few raters left over by
difference. The engine decides all of this once, per cell, so no view re-derives it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.config import ScoringConfig

PEERS_NEEDED = 3
"""Partners a benchmark needs before anything of their spread is shown (quartiles, a
percentile): fewer would all but name them."""


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
