"""Step 1 of the method: answers → reverse-coded item values → rater dimension scores.

The engine scores one instrument (one direction) at a time. Its input is a long table
of answers, one row per (cycle, rater, target, item), and a table describing the
instrument's items. Dimension keys are only unique within an instrument, which is why
the two directions are never mixed in one call.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

ANSWER_COLUMNS = ("cycle", "rater", "rater_org", "target", "item", "value")
"""Columns the engine reads from an answers table; `value` is NaN when missing or N/A."""
IMPORTANCE_POINTS = 5
"""Stated importance is asked on a 1–5 scale whatever the instrument's agreement scale."""
ITEM_COLUMNS = ("dimension", "layer", "reverse", "kind")
"""Columns of the item table, indexed by item key; `kind` is likert, overall, importance or text.

An optional `floor` column gives each item's dimension its 0–100 floor (escalation flags)."""


class AnswersError(ValueError):
    """Answers the instrument cannot have produced; the message names the row and column."""


def coded_answers(answers: pd.DataFrame, items: pd.DataFrame, scale_points: int) -> pd.DataFrame:
    """Return answered Likert items, reverse-coded, with their dimension and layer.

    Parameters
    ----------
    answers
        Long table with the columns of ANSWER_COLUMNS.
    items
        Indexed by item key, with the columns of ITEM_COLUMNS.
    scale_points
        A, the number of agreement points (answers run 1…A).

    Returns
    -------
    DataFrame
        cycle, rater, rater_org, target, item, dimension, layer, value; one row per
        answered Likert item, `value` on the 1…A scale with reverse-coded items turned
        round (A + 1 − answer), so a higher value is always better.

    Raises
    ------
    AnswersError
        For an item the instrument does not have, or a Likert answer outside 1…A
        (naming the first offending row, counted from 0 in `answers`).

    Examples
    --------
    >>> items = pd.DataFrame(
    ...     {"dimension": ["d", "d"], "layer": ["quality"] * 2,
    ...      "reverse": [False, True], "kind": ["likert"] * 2}, index=["i1", "i2"])
    >>> answers = pd.DataFrame({"cycle": "c", "rater": "r", "rater_org": "o", "target": "t",
    ...                         "item": ["i1", "i2"], "value": [5.0, 2.0]})
    >>> coded_answers(answers, items, 5)["value"].tolist()
    [5.0, 4.0]
    """
    missing = [c for c in ANSWER_COLUMNS if c not in answers.columns]
    if missing:
        raise AnswersError(f"answers lack the column(s) {', '.join(missing)}")
    # hash the item keys once; every lookup after that is by integer code
    codes, keys_seen = pd.factorize(answers["item"], sort=True)
    known = keys_seen.isin(items.index)
    if not known.all():
        row = int(np.flatnonzero(~known[codes])[0])
        raise AnswersError(
            f"row {row}, column item: {answers['item'].iloc[row]!r} "
            "is not an item of this instrument"
        )
    meta = items.reindex(keys_seen)
    is_likert = (meta["kind"] == "likert").to_numpy()[codes]
    values_all = answers["value"].to_numpy(dtype="float64")
    keep = is_likert & ~np.isnan(values_all)
    values = values_all[keep]
    bad = (values < 1) | (values > scale_points) | (values != np.round(values))
    if bad.any():
        row = int(np.flatnonzero(keep)[np.flatnonzero(bad)[0]])
        raise AnswersError(
            f"row {row}, column value: {values[bad][0]:g} "
            f"is not an answer on the 1–{scale_points} scale"
        )
    kept_codes = codes[keep]
    reverse = meta["reverse"].to_numpy(dtype=bool)[kept_codes]
    # every later step groups by these keys: as categories they group by integer codes;
    # factorising first never turns millions of (Arrow-held) strings into Python objects
    coded = pd.DataFrame(
        {
            column: _kept_categories(answers[column], keep)
            for column in ("cycle", "rater", "rater_org", "target")
        }
    )
    item_category = pd.CategoricalDtype(keys_seen)
    coded["item"] = pd.Categorical.from_codes(kept_codes, dtype=item_category)
    for column in ("dimension", "layer"):  # both are properties of the item: look them up by code
        per_item, names = pd.factorize(meta[column], sort=True)
        coded[column] = pd.Categorical.from_codes(
            per_item[kept_codes], dtype=pd.CategoricalDtype(names)
        )
    coded["value"] = np.where(reverse, scale_points + 1 - values, values)
    return coded


def _kept_categories(column: pd.Series, keep: np.ndarray) -> pd.Categorical:
    """Return the kept rows of a text column as a categorical of the values they use, sorted."""
    codes, uniques = pd.factorize(column, sort=True)
    kept = pd.Categorical.from_codes(codes[keep], categories=pd.Index(uniques, dtype=object))
    return kept.remove_unused_categories()


def to_percent(
    value: np.ndarray | pd.Series | float, scale_points: int
) -> np.ndarray | pd.Series | float:
    """Rescale a 1…A value to 0–100: (x − 1) / (A − 1) × 100 (DESIGN.md §3.1)."""
    return (value - 1) / (scale_points - 1) * 100


def rater_dimension_scores(
    coded: pd.DataFrame, items: pd.DataFrame, scale_points: int
) -> pd.DataFrame:
    """Return each rater's 0–100 score per dimension, where they answered at least half its items.

    Notes
    -----
    score = (x̄ − 1) / (A − 1) × 100, x̄ the mean of the rater's answered, reverse-coded
    items of the dimension. With k items in a dimension the rater needs ⌈k/2⌉ answers;
    otherwise the rater has no score on it (and does not count towards its n).

    Examples
    --------
    >>> items = pd.DataFrame({"dimension": ["d"] * 3, "layer": ["speed"] * 3,
    ...                       "reverse": [False] * 3, "kind": ["likert"] * 3},
    ...                      index=["a", "b", "c"])
    >>> coded = pd.DataFrame({"cycle": "c", "rater": ["r1", "r1", "r2"], "rater_org": "o",
    ...                       "target": "t", "item": ["a", "b", "a"], "dimension": "d",
    ...                       "layer": "speed", "value": [4.0, 5.0, 2.0]})
    >>> rater_dimension_scores(coded, items, 5)[["rater", "score"]].values.tolist()
    [['r1', 87.5]]
    """
    keys = ["cycle", "target", "rater", "rater_org", "dimension", "layer"]
    grouped = (
        coded.groupby(keys, sort=True, observed=True)["value"].agg(["mean", "count"]).reset_index()
    )
    needed = grouped["dimension"].astype(object).map(items_needed(items)).to_numpy(dtype=float)
    enough = grouped["count"].to_numpy() >= needed
    scores = grouped[enough].rename(columns={"count": "n_items"})
    scores["score"] = to_percent(scores["mean"].to_numpy(), scale_points)
    return scores.drop(columns="mean").reset_index(drop=True)


def items_needed(items: pd.DataFrame) -> pd.Series:
    """Return, per dimension, the answered items a rater needs for a score: ⌈k/2⌉ of k."""
    likert = items[items["kind"] == "likert"]
    return likert.groupby("dimension").size().map(lambda k: math.ceil(k / 2))


def scored_answers(coded: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Return the answers behind raters' dimension scores, without those of raters who have none.

    A rater who answered too few of a dimension's items is not among its n raters, so
    their answers must not move what is shown beside that n (top-box share, rwg): a
    lone answer would otherwise show through by difference.
    """
    keys = ["cycle", "target", "rater", "dimension"]
    answered = coded.groupby(keys, sort=False, observed=True)["value"].transform("size")
    needed = coded["dimension"].astype(object).map(items_needed(items)).to_numpy(dtype=float)
    return coded[answered.to_numpy() >= needed]
