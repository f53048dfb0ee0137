"""Steps 9, 11 and 13 of the method: what to talk about at the next review meeting.

The perception gap sets the two sides of one relationship against each other on their
mirror dimensions; importance against performance names what to fix first; escalation
flags name what cannot wait for the meeting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.anonymity import peer_spread

FIX_FIRST = "fix first"
"""The quadrant of high importance and low performance: what to act on first (§3.11)."""


def perception_gaps(
    site_view: pd.DataFrame,
    sponsor_view: pd.DataFrame,
    site_mirrors: pd.Series,
    sponsor_mirrors: pd.Series,
) -> pd.DataFrame:
    """Return, per relationship and mirror key, the site's view minus the sponsor's view.

    Parameters
    ----------
    site_view
        Sites' scores of their partners: cycle, rater_org (the site), target (the
        sponsor or CRO), dimension, mean.
    sponsor_view
        Partners' scores of their sites: cycle, rater_org (the sponsor or CRO), target
        (the site), dimension, mean.
    site_mirrors, sponsor_mirrors
        Dimension → mirror key, for each instrument's mirror dimensions.

    Returns
    -------
    DataFrame
        cycle, site, partner, mirror, site_view, partner_view, gap (site_view −
        partner_view): a positive gap means the site rates the partner higher than the
        partner rates the site. Only relationships seen from both sides appear.

    Examples
    --------
    >>> site = pd.DataFrame({"cycle": "c", "rater_org": "s", "target": "p",
    ...                      "dimension": ["communication"], "mean": [80.0]})
    >>> partner = pd.DataFrame({"cycle": "c", "rater_org": "p", "target": "s",
    ...                         "dimension": ["site_communication"], "mean": [65.0]})
    >>> perception_gaps(site, partner, pd.Series({"communication": "communication"}),
    ...                 pd.Series({"site_communication": "communication"}))["gap"].tolist()
    [15.0]
    """
    left = site_view.assign(mirror=site_view["dimension"].map(site_mirrors)).dropna(
        subset=["mirror"]
    )
    right = sponsor_view.assign(mirror=sponsor_view["dimension"].map(sponsor_mirrors)).dropna(
        subset=["mirror"]
    )
    left = left.rename(columns={"rater_org": "site", "target": "partner", "mean": "site_view"})
    right = right.rename(columns={"rater_org": "partner", "target": "site", "mean": "partner_view"})
    keys = ["cycle", "site", "partner", "mirror"]
    merged = left[[*keys, "site_view"]].merge(right[[*keys, "partner_view"]], on=keys, how="inner")
    merged["gap"] = merged["site_view"] - merged["partner_view"]
    return merged.sort_values(keys, ignore_index=True)


def derived_importance(dimension_scores: pd.DataFrame, overall: pd.DataFrame) -> pd.DataFrame:
    """Return, per cycle and dimension, the correlation of raters' scores with their overall item.

    A dimension whose scores move with "would you work with them again" matters to the
    raters, whether or not they say so. Pearson correlation over every rater and target
    of the instrument in the cycle (a target has too few raters for its own); NaN with
    fewer than three pairs or no spread.
    """
    pairs = dimension_scores.merge(
        overall.rename(columns={"value": "overall"})[["cycle", "rater", "target", "overall"]],
        on=["cycle", "rater", "target"],
    ).dropna(subset=["overall"])

    def pearson(group: pd.DataFrame) -> float:
        if len(group) < 3 or group["score"].std() == 0 or group["overall"].std() == 0:
            return float("nan")
        return float(np.corrcoef(group["score"], group["overall"])[0, 1])

    if pairs.empty:
        return pd.DataFrame(columns=["cycle", "dimension", "derived_importance"])
    result = pairs.groupby(["cycle", "dimension"], sort=True)[["score", "overall"]].apply(pearson)
    return result.rename("derived_importance").reset_index()


PEERS_STANDARD = "peers"
"""A dimension's standard is its peers' median this cycle."""
FLOOR_STANDARD = "floor"
"""A dimension's standard is the floor its instrument sets."""


def fix_standards(cells: pd.DataFrame, floors: pd.Series, peers: int) -> pd.DataFrame:
    """Return, per cycle and dimension, the score below which an important dimension is
    "fix first", and which standard that is.

    Parameters
    ----------
    cells
        cycle, target, dimension, mean, shown: every target's cell in the cycle.
    floors
        Dimension → the floor its instrument sets (escalation flags use it too).
    peers
        Others each target must be compared with (`anonymity.peers`).

    Notes
    -----
    Low performance needs a standard a reader accepts: judged against the target's own
    other dimensions, a partner strong everywhere would still get one to "fix". The
    standard is the peers' median (`peer_spread`'s Harrell–Davis median of the shown
    cells, in whole points: the figure the scorecard's "against peers" ticks show), where
    enough targets have a shown cell; else the dimension's floor; else there is none, and
    nothing on that dimension is "fix first".

    Returns
    -------
    DataFrame
        cycle, dimension, standard, standard_kind (PEERS_STANDARD or FLOOR_STANDARD).

    Examples
    --------
    >>> cells = pd.DataFrame({"cycle": "c", "target": list("abcdefg"), "dimension": "d",
    ...                       "mean": [50.0, 60, 70, 80, 90, 65, 75], "shown": True})
    >>> found = fix_standards(cells, pd.Series({"d": 50.0}), 5)
    >>> found[["standard", "standard_kind"]].values.tolist()
    [[70.0, 'peers']]
    >>> fix_standards(cells.head(4), pd.Series({"d": 50.0}), 5)["standard_kind"].tolist()
    ['floor']
    """
    rows: list[tuple[object, object, float, str | None]] = []
    for (cycle, dimension), group in cells.groupby(["cycle", "dimension"], sort=True):
        values = group.loc[group["shown"].eq(True) & group["mean"].notna(), "mean"]
        spread = peer_spread(values.astype(float).tolist(), peers)
        floor = floors.get(dimension)
        if spread is not None:
            rows.append((cycle, dimension, spread.median, PEERS_STANDARD))
        elif floor is not None and not pd.isna(floor):
            rows.append((cycle, dimension, float(floor), FLOOR_STANDARD))
        else:
            rows.append((cycle, dimension, float("nan"), None))
    return pd.DataFrame(rows, columns=["cycle", "dimension", "standard", "standard_kind"])


def fix_first(
    performance: pd.DataFrame, importance: pd.DataFrame, standards: pd.DataFrame
) -> pd.DataFrame:
    """Mark each target's dimensions in the "high importance, low performance" quadrant.

    Performance is the target's dimension mean; importance its stated importance where
    raters gave one, else the derived importance. A dimension is "fix first" when its
    importance is above the median importance of the target's dimensions (what matters
    most to these raters is relative) and its performance, in whole points as printed,
    is below its standard (`fix_standards`: an absolute one, so "scores 61, below the
    peers' median of 74" is true as the scorecard prints it).

    Returns the rows of `performance` with importance, standard, standard_kind, quadrant
    and fix_first columns.
    """
    table = performance.merge(importance, on=["cycle", "target", "dimension"], how="left")
    table = table.merge(standards, on=["cycle", "dimension"], how="left")
    by = table.groupby(["cycle", "target"])
    high_importance = table["importance"] > by["importance"].transform("median")
    low_performance = np.round(table["mean"].astype(float)) < table["standard"]
    table["quadrant"] = np.select(
        [high_importance & low_performance, high_importance, low_performance],
        [FIX_FIRST, "keep up", "low priority"],
        "possible overkill",
    )
    table["fix_first"] = high_importance & low_performance
    return table


def escalation_flags(
    targets: pd.DataFrame,
    dimensions: pd.DataFrame,
    floors: pd.Series,
    response_rates: pd.DataFrame | None = None,
    collapse: float = 0.5,
) -> pd.DataFrame:
    """Return one row per flag: a significant drop, a dimension under its floor, fewer responses.

    Parameters
    ----------
    targets
        cycle, target, reliability_index, ri_low, ri_high (every scored cycle).
    dimensions
        cycle, target, dimension, mean, and optionally shrunk: where given, the shrunk
        mean decides, so one harsh rater of a thinly rated partner does not raise a flag
        the evidence does not support (the detail quotes both).
    floors
        Dimension → 0–100 floor from the instrument.
    response_rates
        cycle, target, response_rate (0–1), if invitations are known.
    collapse
        A response rate below this share of the previous cycle's is a collapse.

    Notes
    -----
    A drop is significant when this cycle's interval lies wholly below the previous
    cycle's (ri_high < previous ri_low): non-overlapping intervals, as DESIGN.md §3.13
    asks.

    Returns
    -------
    DataFrame
        cycle, target, flag (significant_drop, under_floor, response_collapse),
        dimension (for under_floor; else None), detail.
    """
    flags: list[tuple[object, object, str, object, str]] = []
    ordered = targets.sort_values(["target", "cycle"])
    previous = ordered.groupby("target")[["cycle", "reliability_index", "ri_low"]].shift(1)
    dropped = ordered["ri_high"] < previous["ri_low"]
    for row, before in zip(
        ordered[dropped].itertuples(), previous[dropped].itertuples(), strict=True
    ):
        detail = (
            f"RI {row.reliability_index:.0f} [{row.ri_low:.0f}–{row.ri_high:.0f}], "
            f"below {before.cycle}'s lower bound {before.ri_low:.0f}"
        )
        flags.append((row.cycle, row.target, "significant_drop", None, detail))
    floor = dimensions["dimension"].map(floors)
    shrunk = "shrunk" in dimensions.columns
    estimate = dimensions["shrunk"].fillna(dimensions["mean"]) if shrunk else dimensions["mean"]
    under = dimensions[estimate < floor]
    for row, value, limit in zip(
        under.itertuples(), estimate[under.index], floor[under.index], strict=True
    ):
        detail = f"{row.dimension} {value:.0f} < floor {limit:g}"
        if shrunk:
            detail += f" (shrunk estimate; raters' mean {row.mean:.0f})"
        flags.append((row.cycle, row.target, "under_floor", row.dimension, detail))
    if response_rates is not None:
        rates = response_rates.sort_values(["target", "cycle"])
        before = rates.groupby("target")["response_rate"].shift(1)
        fell = rates["response_rate"] < collapse * before
        for row, was in zip(rates[fell].itertuples(), before[fell], strict=True):
            detail = f"response rate {row.response_rate:.0%}, was {was:.0%}"
            flags.append((row.cycle, row.target, "response_collapse", None, detail))
    return pd.DataFrame(flags, columns=["cycle", "target", "flag", "dimension", "detail"])
