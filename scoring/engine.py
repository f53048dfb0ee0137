"""The whole method for one instrument: answers in, the tables of a score run out.

`score` runs steps 1–8, 10 and 12 of DESIGN.md §3 over every cycle in the answers
(earlier cycles give later ones their trend and tier history) and marks every cell
with whether the rated party may see it (§4). Both `rapport score-file` and
`rapport score` call it; neither computes anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scoring.anonymity import disclosable_subgroups, minimum_commenters, minimum_raters
from scoring.config import ScoringConfig
from scoring.gaps import derived_importance, escalation_flags, fix_first
from scoring.indices import rwg, shrunk_scores, target_scores, top_box_share
from scoring.items import AnswersError, coded_answers, rater_dimension_scores, to_percent
from scoring.reliability import dimension_alphas
from scoring.sand_cone import reliability_indices
from scoring.tiers import NAMES, assign_tiers
from scoring.trends import nps, predictability, trends

TARGET_COLUMNS = (
    "cycle", "target", "n_raters", "reliability_index", "ri_low", "ri_high", "raw_index",
    "plain_score", "quality", "dependability", "speed", "cost", "lambda", "predictability",
    "trend_slope", "trend_p", "nps", "tier", "tier_trace", "shown",
    "comments_shown", "provisional",
)  # fmt: skip
"""targets.csv's columns: the issue's list, then whether comments may be shown and whether
the tier is provisional (data too thin for a confident tier)."""
DIMENSION_COLUMNS = (
    "cycle", "target", "dimension", "n_raters", "mean", "low", "high", "top_box", "rwg", "shown",
    "shrunk",
)  # fmt: skip
"""dimensions.csv's columns: the issue's list, then the mean shrunk as the index's layers are."""
RELIABILITY_COLUMNS = ("cycle", "dimension", "alpha", "alpha_low", "alpha_high", "n_raters")
IMPORTANCE_COLUMNS = (
    "cycle", "target", "dimension", "mean", "stated_importance", "derived_importance",
    "importance", "quadrant", "fix_first", "shown",
)  # fmt: skip
FLAG_COLUMNS = ("cycle", "target", "flag", "dimension", "detail", "shown")
IMPORTANCE_POINTS = 5
"""Stated importance is asked on a 1–5 scale whatever the instrument's agreement scale."""


@dataclass(frozen=True)
class ScoreResult:
    """The tables of one score run, and why any value in them is missing."""

    targets: pd.DataFrame
    """One row per cycle and target (TARGET_COLUMNS); `tier` is the tier's name."""
    dimensions: pd.DataFrame
    """One row per cycle, target and dimension (DIMENSION_COLUMNS)."""
    reliability: pd.DataFrame
    """Cronbach's alpha per cycle and dimension (RELIABILITY_COLUMNS)."""
    importance: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=IMPORTANCE_COLUMNS)
    )
    """Importance against performance per cycle, target and dimension (IMPORTANCE_COLUMNS)."""
    flags: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FLAG_COLUMNS))
    """Escalation flags, one row per flag (FLAG_COLUMNS)."""
    notes: dict[str, str] = field(default_factory=dict)
    """Column name → why its empty cells are empty."""


def score(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    scale_points: int,
    direction: str,
    config: ScoringConfig,
    response_rates: pd.DataFrame | None = None,
    overrides: pd.DataFrame | None = None,
) -> ScoreResult:
    """Return the score run's tables for one instrument's answers (every cycle in them).

    `response_rates` (cycle, target, response_rate), when invitations are known, lets a
    collapse in responses raise a flag. `overrides` (cycle, target, tier: 1–4) are
    reviewers' overrides of earlier cycles' tiers: the tier in force that the next
    cycle's hysteresis starts from; the `tier` column stays the computed one. Raises
    AnswersError for answers the instrument cannot have produced; thin data (one rater,
    one target, one item answered) gives empty cells explained in `notes`.
    """
    k = minimum_raters(direction, config)
    coded = coded_answers(answers, items, scale_points)
    if coded.empty:
        raise AnswersError("no Likert answers to score")
    dimension_scores = rater_dimension_scores(coded, items, scale_points)
    dims = _dimension_table(coded, dimension_scores, scale_points, k, config)
    targets = _target_table(answers, items, dimension_scores, dims, k, config, overrides)
    targets["comments_shown"] = targets["n_raters"] >= minimum_commenters(direction, config)
    targets = targets[list(TARGET_COLUMNS)]
    alphas = dimension_alphas(coded, config.alpha_ci)[list(RELIABILITY_COLUMNS)]
    importance = _importance_table(answers, items, dimension_scores, dims)
    flags = _flag_table(targets, dims, items, response_rates)
    notes = {
        "ri_low": "empty where the index has no interval (a layer without any rater score)",
        "reliability_index": "empty where a target lacks a score on one of the four layers",
        "lambda": "empty where every target has a single rater (no within-target variance)",
        "trend_slope": f"empty before {config.trend.min_cycles} scored cycles",
        "trend_p": f"empty before {config.trend.min_cycles} scored cycles",
        "predictability": "empty without a trend or without two raters to measure agreement",
        "nps": "empty where nobody answered the overall 0–10 item",
        "low": "empty with a single rater (no interval from one score)",
        "rwg": "empty with a single rater (agreement needs two)",
        "alpha": "empty with fewer than two responses or two items",
        "comments_shown": "comments need more raters than numbers (DESIGN.md §4)",
        "stated_importance": "empty where nobody rated the dimension's importance",
        "derived_importance": "empty with fewer than three raters answering the overall item",
        "quadrant": "empty where the dimension's importance is unknown",
    }
    return ScoreResult(
        targets=targets, dimensions=dims, reliability=alphas, importance=importance,
        flags=flags, notes=notes,
    )  # fmt: skip


VIEW_SEPARATOR = "\x1f"
"""Joins a view's organisation and target into one key while the view is scored."""


def score_views(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    scale_points: int,
    direction: str,
    config: ScoringConfig,
    pooled: ScoreResult,
    by: str = "rater_org",
    overrides: pd.DataFrame | None = None,
) -> ScoreResult:
    """Return each target as seen by one group of its raters: one site's view of a sponsor.

    Parameters
    ----------
    answers, items, scale_points, direction, config
        As for `score`; `answers` also has the column `by`.
    pooled
        `score` of the same answers: every view is a sub-group of its pooled target.
    by
        The column naming whose view a rating belongs to: `rater_org` for a
        relationship seen by one organisation's raters, or an assessor (the sponsor a
        CRO rates on behalf of, a site's network). Rows without one are left out.
    overrides
        As for `score`, with the column `by` naming whose tier was overridden.

    Notes
    -----
    Each (view, target) pair is scored as a target of its own, by the same method:
    shrunk towards the other pairs, with its own trend and tier history (the tier the
    assessor gives). `shown` adds to the pooled rule the one against disclosure by
    difference (`scoring.anonymity.disclosable_subgroups`), so a view never reveals
    the raters outside it; `comments_shown` likewise.

    Returns
    -------
    ScoreResult
        targets and dimensions with the column `by` first; reliability as `score`'s.
    """
    viewed = answers.dropna(subset=[by])
    viewed = viewed.assign(
        target=viewed[by].astype(str) + VIEW_SEPARATOR + viewed["target"].astype(str)
    )
    if overrides is not None:
        overrides = overrides.assign(
            target=overrides[by].astype(str) + VIEW_SEPARATOR + overrides["target"].astype(str)
        )
    result = score(viewed, items, scale_points, direction, config, overrides=overrides)
    targets = _split_view(result.targets, by)
    dims = _split_view(result.dimensions, by)
    k = minimum_raters(direction, config)
    group = ["cycle", "target"]
    targets = targets.merge(
        pooled.targets[[*group, "n_raters"]].rename(columns={"n_raters": "group_n"}), on=group
    )
    targets["shown"] = disclosable_subgroups(targets, group, "n_raters", "group_n", "shown", k)
    targets["comments_shown"] = disclosable_subgroups(
        targets, group, "n_raters", "group_n", "comments_shown",
        minimum_commenters(direction, config),
    )  # fmt: skip
    group = ["cycle", "target", "dimension"]
    dims = dims.merge(
        pooled.dimensions[[*group, "n_raters"]].rename(columns={"n_raters": "group_n"}), on=group
    )
    dims["shown"] = disclosable_subgroups(dims, group, "n_raters", "group_n", "shown", k)
    cell = ["cycle", by, "target", "dimension"]
    importance = _split_view(result.importance, by).drop(columns="shown")
    importance = importance.merge(dims[[*cell, "shown"]], on=cell, how="left")
    flags = _split_view(result.flags, by).drop(columns="shown")
    flags = flags.merge(dims[[*cell, "shown"]], on=cell, how="left").merge(
        targets[["cycle", by, "target", "shown"]].rename(columns={"shown": "row_shown"}),
        on=["cycle", by, "target"], how="left",
    )  # fmt: skip
    # a flag is shown when what it quotes is: the dimension's cell, or the target's row
    flags["shown"] = flags["shown"].fillna(flags["row_shown"]).fillna(False).astype(bool)
    return ScoreResult(
        targets=targets[[by, *TARGET_COLUMNS]],
        dimensions=dims[[by, *DIMENSION_COLUMNS]],
        reliability=result.reliability,
        importance=importance[[by, *IMPORTANCE_COLUMNS]],
        flags=flags[[by, *FLAG_COLUMNS]],
        notes=result.notes,
    )


def _split_view(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Return a view's table with its joined key split back into `by` and target."""
    if table.empty:
        return table.assign(**{by: pd.Series(dtype=object)})
    parts = table["target"].str.split(VIEW_SEPARATOR, n=1, expand=True)
    return table.assign(**{by: parts[0], "target": parts[1]})


def _as_text(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Return `table` with its key columns as plain text.

    The steps group by categorical codes (`coded_answers`); the engine's tables leave
    them as text, so cycles compare as text and tables from different steps merge.
    """
    return table.assign(**{key: table[key].astype(str) for key in keys})


def _importance_table(
    answers: pd.DataFrame, items: pd.DataFrame, scores: pd.DataFrame, dims: pd.DataFrame
) -> pd.DataFrame:
    """Step 11: stated and derived importance beside performance, and what to fix first.

    Stated importance is the mean of raters' 1–5 importance answers on 0–100; derived
    importance the correlation of dimension scores with the overall item, over all
    targets of the cycle. A target's dimensions are ranked on stated importance where
    its raters gave any, else on derived importance (the two are not on one scale).
    """
    kinds = answers["item"].map(items["kind"])
    stated = answers[(kinds == "importance").to_numpy()].dropna(subset=["value"])
    values = stated["value"]
    bad = (values < 1) | (values > IMPORTANCE_POINTS) | (values != np.round(values))
    if bad.any():
        row = int(answers.index.get_loc(values.index[bad.to_numpy()][0]))
        raise AnswersError(
            f"row {row}, column value: {values[bad].iloc[0]:g} is not an importance on the "
            f"1–{IMPORTANCE_POINTS} scale"
        )
    keys = ["cycle", "target", "dimension"]
    stated_mean = (
        stated.assign(dimension=stated["item"].map(items["dimension"]))
        .groupby(keys)["value"]
        .mean()
        .map(lambda x: to_percent(x, IMPORTANCE_POINTS))
        .rename("stated_importance")
        .reset_index()
    )
    overall = answers[(kinds == "overall").to_numpy()][["cycle", "rater", "target", "value"]]
    derived = derived_importance(
        _as_text(scores, ["cycle", "rater", "target", "dimension"]), overall
    )
    table = dims[[*keys, "mean", "shown"]].merge(_as_text(stated_mean, keys), on=keys, how="left")
    table = table.merge(
        _as_text(derived, ["cycle", "dimension"]), on=["cycle", "dimension"], how="left"
    )
    any_stated = table.groupby(["cycle", "target"])["stated_importance"].transform("count") > 0
    table["importance"] = np.where(
        any_stated, table["stated_importance"], table["derived_importance"]
    )
    ranked = fix_first(table.drop(columns="importance"), table[[*keys, "importance"]])
    ranked["quadrant"] = ranked["quadrant"].where(ranked["importance"].notna(), None)
    return ranked[list(IMPORTANCE_COLUMNS)]


def _flag_table(
    targets: pd.DataFrame, dims: pd.DataFrame, items: pd.DataFrame, rates: pd.DataFrame | None
) -> pd.DataFrame:
    """Step 13: escalation flags, each shown only where what it quotes may be shown."""
    floors = (
        items.dropna(subset=["dimension"]).groupby("dimension")["floor"].first()
        if "floor" in items.columns
        else pd.Series(dtype=float)
    )
    flags = escalation_flags(targets, dims, floors, rates)
    shown_row = targets.set_index(["cycle", "target"])["shown"]
    previous = (
        targets.sort_values(["target", "cycle"])
        .assign(before=lambda t: t.groupby("target")["shown"].shift(1))
        .set_index(["cycle", "target"])["before"]
    )
    shown_cell = dims.set_index(["cycle", "target", "dimension"])["shown"]
    row = pd.MultiIndex.from_frame(flags[["cycle", "target"]])
    cell = pd.MultiIndex.from_frame(flags[["cycle", "target", "dimension"]])
    cell_shown = shown_cell.reindex(cell).fillna(False).to_numpy(dtype=bool)
    both_rows_shown = shown_row.reindex(row).fillna(False) & previous.reindex(row).fillna(False)
    flags["shown"] = np.select(
        [flags["flag"] == "under_floor", flags["flag"] == "significant_drop"],
        [cell_shown, both_rows_shown.to_numpy(dtype=bool)],
        True,  # a response rate quotes no rating
    ).astype(bool)
    return flags[list(FLAG_COLUMNS)]


def _dimension_table(
    coded: pd.DataFrame, scores: pd.DataFrame, scale_points: int, k: int, config: ScoringConfig
) -> pd.DataFrame:
    keys = ["cycle", "target", "dimension"]
    table = _as_text(target_scores(scores, keys, ci=config.ci), keys)
    shrunk = shrunk_scores(scores, ["cycle", "dimension"])[[*keys, "shrunk"]]
    table = table.merge(_as_text(shrunk, keys), on=keys, how="left")
    for extra in (top_box_share(coded, keys, scale_points), rwg(coded, keys, scale_points)):
        table = table.merge(_as_text(extra, keys), on=keys, how="left")
    table["shown"] = table["n_raters"] >= k
    return table[list(DIMENSION_COLUMNS)]


def _in_force(decisions: pd.DataFrame, overrides: pd.DataFrame | None, cycle: str) -> pd.DataFrame:
    """Return a cycle's decisions with reviewers' overrides in place of the computed tier."""
    if overrides is None or overrides.empty:
        return decisions.assign(overridden=False)
    mine = overrides[overrides["cycle"].astype(str) == cycle].set_index("target")["tier"]
    override = decisions["target"].map(mine)
    return decisions.assign(
        tier=override.fillna(decisions["tier"]).astype(int), overridden=override.notna()
    )


def _target_table(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    scores: pd.DataFrame,
    dims: pd.DataFrame,
    k: int,
    config: ScoringConfig,
    overrides: pd.DataFrame | None,
) -> pd.DataFrame:
    indices = _as_text(
        reliability_indices(scores, config.sand_cone, ci=config.ci), ["cycle", "target"]
    )
    overall_items = items.index[items["kind"] == "overall"]
    overall = answers[answers["item"].isin(overall_items)]
    values = overall["value"].dropna()
    bad = (values < 0) | (values > 10) | (values != np.round(values))
    if bad.any():
        row = int(answers.index.get_loc(values.index[bad.to_numpy()][0]))
        raise AnswersError(
            f"row {row}, column value: {values[bad].iloc[0]:g} is not an answer on the 0–10 scale"
        )
    indices = indices.merge(nps(overall, ["cycle", "target"]), on=["cycle", "target"], how="left")
    agreement = dims.groupby(["cycle", "target"])["rwg"].mean().rename("agreement")
    indices = indices.join(agreement, on=["cycle", "target"])

    rows, previous = [], None
    for cycle in sorted(indices["cycle"].unique()):
        history = indices[indices["cycle"] <= cycle]
        trend = trends(
            history[["target", "cycle", "reliability_index"]],
            min_cycles=config.trend.min_cycles,
            significance=config.trend.significance,
        ).set_index("target")
        now = indices[indices["cycle"] == cycle].set_index("target")
        now = now.join(trend[["trend_slope", "trend_p", "trend", "residual_sd"]])
        now["predictability"] = predictability(now["residual_sd"], now["agreement"])
        scored = history.dropna(subset=["reliability_index"]).groupby("target")["cycle"].nunique()
        evidence = pd.DataFrame(
            {
                "target": now.index,
                "index": now["reliability_index"].to_numpy(),
                "low": now["ri_low"].to_numpy(),
                "high": now["ri_high"].to_numpy(),
                "quality": now["quality"].to_numpy(),
                "predictability": now["predictability"].to_numpy(),
                "n_raters": now["n_raters"].to_numpy(),
                "scored_cycles": scored.reindex(now.index).fillna(0).to_numpy(),
                "declining": (now["trend"] == "declining").to_numpy(),
            }
        )
        decisions = assign_tiers(evidence, previous, config.tiers)
        # each target's last decision carries over cycles it was not rated in; a
        # reviewer's override of it is the tier that was in force
        latest = _in_force(decisions[["target", "tier", "candidate"]], overrides, cycle)
        previous = (
            latest
            if previous is None
            else pd.concat(
                [previous[~previous["target"].isin(latest["target"])], latest], ignore_index=True
            )
        )
        now = now.join(decisions.set_index("target")[["tier", "tier_trace", "provisional"]])
        now["tier"] = now["tier"].map(NAMES)
        rows.append(now.reset_index())
    table = pd.concat(rows, ignore_index=True)
    # every number in the row must stand on k raters: the thinnest layer and the NPS too
    overall_ok = table["n_overall"].isna() | (table["n_overall"] >= k)
    table["shown"] = (table["n_raters"] >= k) & (table["min_layer_raters"] >= k) & overall_ok
    return table
