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
from scoring.config import LAYERS, ScoringConfig
from scoring.gaps import derived_importance, escalation_flags, fix_first, fix_standards
from scoring.indices import rwg, shrunk_scores, target_scores, top_box_share
from scoring.items import (
    IMPORTANCE_POINTS,
    AnswersError,
    coded_answers,
    rater_dimension_scores,
    scored_answers,
    to_percent,
)
from scoring.reliability import dimension_alphas
from scoring.sand_cone import reliability_indices
from scoring.tiers import NAMES, assign_tiers
from scoring.trends import WINDOW, TrendLabel, nps, predictability, trends

TARGET_COLUMNS = (
    "cycle",
    "target",
    "n_raters",
    "reliability_index",
    "ri_low",
    "ri_high",
    "raw_index",
    "plain_score",
    "quality",
    "dependability",
    "speed",
    "cost",
    "lambda",
    "predictability",
    "trend_slope",
    "trend_p",
    "nps",
    "tier",
    "tier_trace",
    "shown",
    "comments_shown",
    "provisional",
    "trend_shown",
)
"""targets.csv's columns: the issue's list, then whether comments may be shown, whether the
tier is provisional (data too thin for a confident tier), and whether the trend and
predictability may be shown (every cycle in the trend's window was shown: a trend over
a hidden cycle would give that cycle's index away)."""
COUNT_COLUMNS = ("cycle", "target", "n_raters", *(f"n_{layer}" for layer in LAYERS), "n_overall")
"""The raters behind each number of a targets row: all, per layer, and the overall item."""
DIMENSION_COLUMNS = (
    "cycle",
    "target",
    "dimension",
    "n_raters",
    "mean",
    "low",
    "high",
    "top_box",
    "rwg",
    "shown",
    "shrunk",
)
"""dimensions.csv's columns: the issue's list, then the mean shrunk as the index's layers are."""
RELIABILITY_COLUMNS = (
    "cycle",
    "dimension",
    "alpha",
    "alpha_low",
    "alpha_high",
    "n_raters",
    "low_alpha",
)
IMPORTANCE_COLUMNS = (
    "cycle",
    "target",
    "dimension",
    "mean",
    "n_stated",
    "stated_importance",
    "derived_importance",
    "importance",
    "standard",
    "standard_kind",
    "quadrant",
    "fix_first",
    "shown",
)
FLAG_COLUMNS = ("cycle", "target", "flag", "dimension", "detail", "shown")


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
    counts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COUNT_COLUMNS))
    """The raters behind each targets row's numbers (COUNT_COLUMNS), for anonymity checks."""
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
    standards: pd.DataFrame | None = None,
) -> ScoreResult:
    """Return the score run's tables for one instrument's answers (every cycle in them).

    `response_rates` (cycle, target, response_rate), when invitations are known, lets a
    collapse in responses raise a flag. `overrides` (cycle, target, tier: 1–4) are
    reviewers' overrides of earlier cycles' tiers: the tier in force that the next
    cycle's hysteresis starts from; the `tier` column stays the computed one.
    `standards` (`scoring.gaps.fix_standards`) are what performance is judged against for
    "fix first"; by default worked out from these answers' targets (views take their
    pooled targets'). Raises
    AnswersError for answers the instrument cannot have produced; thin data (one rater,
    one target, one item answered) gives empty cells explained in `notes`.
    """
    k = minimum_raters(direction, config)
    coded = coded_answers(answers, items, scale_points)
    if coded.empty:
        raise AnswersError("no Likert answers to score")
    dimension_scores = rater_dimension_scores(coded, items, scale_points)
    dims = _dimension_table(scored_answers(coded, items), dimension_scores, scale_points, k, config)
    targets = _target_table(answers, items, dimension_scores, dims, k, config, overrides)
    targets["comments_shown"] = targets["n_raters"] >= minimum_commenters(direction, config)
    targets["trend_shown"] = _trend_shown(targets, ["target"])
    counts = targets[list(COUNT_COLUMNS)].fillna({"n_overall": 0})
    targets = targets[list(TARGET_COLUMNS)]
    alphas = dimension_alphas(coded, config.alpha_ci)[list(RELIABILITY_COLUMNS)]
    if standards is None:
        standards = fix_standards(dims, _floors(items), config.anonymity.peers)
    importance = _importance_table(answers, items, dimension_scores, dims, k, standards)
    flags = _flag_table(targets, dims, items, response_rates)
    flags["shown"] = _flag_shown(flags, targets, dims, ["target"])
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
        "standard": "the peers' median, else the dimension's floor; empty without either",
    }
    return ScoreResult(
        targets=targets,
        dimensions=dims,
        reliability=alphas,
        importance=importance,
        flags=flags,
        counts=counts,
        notes=notes,
    )


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
    standards = pooled.importance[["cycle", "dimension", "standard", "standard_kind"]]
    result = score(
        viewed,
        items,
        scale_points,
        direction,
        config,
        overrides=overrides,
        standards=standards.drop_duplicates(["cycle", "dimension"]),
    )
    k = minimum_raters(direction, config)
    keys = [by, "target"]
    targets = _view_targets(result, pooled, by, direction, config)
    dims = _view_dimensions(result, pooled, by, k)
    importance = _view_importance(result, pooled, dims, by, k)
    flags = _split_view(result.flags, by)
    flags["shown"] = _flag_shown(flags, targets, dims, keys)
    return ScoreResult(
        targets=targets[[by, *TARGET_COLUMNS]],
        dimensions=dims[[by, *DIMENSION_COLUMNS]],
        reliability=result.reliability,
        importance=importance[[by, *IMPORTANCE_COLUMNS]],
        flags=flags[[by, *FLAG_COLUMNS]],
        counts=_split_view(result.counts, by)[[by, *COUNT_COLUMNS]],
        notes=result.notes,
    )


def _view_targets(
    result: ScoreResult, pooled: ScoreResult, by: str, direction: str, config: ScoringConfig
) -> pd.DataFrame:
    """The views' target rows, shown only where no number in the row, nor the comments,
    lets a reader work out the raters outside the view by difference."""
    k = minimum_raters(direction, config)
    row = ["cycle", "target"]
    targets = _split_view(result.targets, by)
    counts = _split_view(result.counts, by).merge(pooled.counts, on=row, suffixes=("", "_group"))
    eligible = targets["shown"].to_numpy(dtype=bool)
    # every number in the row stands on its own raters: each count gets its own check
    for column in COUNT_COLUMNS[2:]:
        cells = counts[row].assign(
            n=counts[column].to_numpy(), group_n=counts[f"{column}_group"].to_numpy(), ok=eligible
        )
        nothing = cells["n"].to_numpy() == 0  # no number in the row rests on this count
        targets["shown"] &= nothing | disclosable_subgroups(cells, row, "n", "group_n", "ok", k)
    targets["comments_shown"] = disclosable_subgroups(
        targets.assign(group_n=counts["n_raters_group"].to_numpy()),
        row,
        "n_raters",
        "group_n",
        "comments_shown",
        minimum_commenters(direction, config),
    )
    targets["trend_shown"] = _trend_shown(targets, [by, "target"])
    return targets


def _view_dimensions(result: ScoreResult, pooled: ScoreResult, by: str, k: int) -> pd.DataFrame:
    """The views' dimension cells, each a sub-group of its pooled cell."""
    cell = ["cycle", "target", "dimension"]
    dims = _split_view(result.dimensions, by).merge(
        pooled.dimensions[[*cell, "n_raters"]].rename(columns={"n_raters": "group_n"}), on=cell
    )
    dims["shown"] = disclosable_subgroups(dims, cell, "n_raters", "group_n", "shown", k)
    return dims


def _view_importance(
    result: ScoreResult, pooled: ScoreResult, dims: pd.DataFrame, by: str, k: int
) -> pd.DataFrame:
    """The views' importance rows: shown with their dimension cell, and stated importance
    only where its own raters are a disclosable sub-group too."""
    cell = ["cycle", "target", "dimension"]
    importance = _split_view(result.importance, by).drop(columns="shown")
    importance = importance.merge(dims[["cycle", by, "target", "dimension", "shown"]], how="left")
    importance = importance.merge(
        pooled.importance[[*cell, "n_stated"]].rename(columns={"n_stated": "group_n"}), on=cell
    )
    cell_shown = importance["shown"].eq(True)
    # stated importance has raters of its own, and a view of them is a sub-group too
    stated_shown = disclosable_subgroups(
        importance.assign(ok=cell_shown & (importance["n_stated"] >= k)),
        cell,
        "n_stated",
        "group_n",
        "ok",
        k,
    )
    importance["shown"] = cell_shown & ((importance["n_stated"] == 0) | stated_shown)
    return importance


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
    answers: pd.DataFrame,
    items: pd.DataFrame,
    scores: pd.DataFrame,
    dims: pd.DataFrame,
    k: int,
    standards: pd.DataFrame,
) -> pd.DataFrame:
    """Step 11: stated and derived importance beside performance, and what to fix first.

    Stated importance is the mean of raters' 1–5 importance answers on 0–100; derived
    importance the correlation of dimension scores with the overall item, over all
    targets of the cycle. A target's dimensions are ranked on stated importance where
    its raters gave any, else on derived importance (the two are not on one scale). A
    row is shown with its dimension's cell, unless stated importance rests on 1…k − 1
    raters of its own.
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
        .agg(n_stated="count", stated_importance="mean")
        .reset_index()
    )
    stated_mean["stated_importance"] = to_percent(
        stated_mean["stated_importance"], IMPORTANCE_POINTS
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
    ranked = fix_first(
        table.drop(columns="importance"),
        table[[*keys, "importance"]],
        _as_text(standards, ["cycle", "dimension"]),
    )
    ranked["quadrant"] = ranked["quadrant"].where(ranked["importance"].notna(), None)
    ranked["n_stated"] = ranked["n_stated"].fillna(0).astype(int)
    ranked["shown"] = ranked["shown"] & ((ranked["n_stated"] == 0) | (ranked["n_stated"] >= k))
    return ranked[list(IMPORTANCE_COLUMNS)]


def _flag_table(
    targets: pd.DataFrame, dims: pd.DataFrame, items: pd.DataFrame, rates: pd.DataFrame | None
) -> pd.DataFrame:
    """Step 13: escalation flags, each shown only where what it quotes may be shown."""
    return escalation_flags(targets, dims, _floors(items), rates)


def _floors(items: pd.DataFrame) -> pd.Series:
    """Dimension → the floor its instrument sets (flags, and "fix first" without peers)."""
    if "floor" not in items.columns:
        return pd.Series(dtype=float)
    return items.dropna(subset=["dimension"]).groupby("dimension")["floor"].first()


def _flag_shown(
    flags: pd.DataFrame, targets: pd.DataFrame, dims: pd.DataFrame, keys: list[str]
) -> np.ndarray:
    """Return whether each flag may be shown: only where what it quotes may be.

    A floor flag quotes its dimension's cell; a drop quotes this cycle's and the
    previous cycle's index, so both rows must be shown; a response rate quotes no rating.
    """
    ordered = targets.sort_values([*keys, "cycle"])
    before = ordered.groupby(keys, sort=False)["shown"].shift(1).eq(True)
    both = ordered[["cycle", *keys]].assign(ok=ordered["shown"].eq(True) & before)
    row = flags[["cycle", *keys]].merge(both, how="left")["ok"].eq(True).to_numpy()
    cell_keys = ["cycle", *keys, "dimension"]
    cell = flags[cell_keys].merge(dims[[*cell_keys, "shown"]], how="left")["shown"].eq(True)
    kind = flags["flag"].to_numpy()
    shown: np.ndarray = np.select(
        [kind == "under_floor", kind == "significant_drop"], [cell.to_numpy(), row], True
    ).astype(bool)
    return shown


def _trend_shown(targets: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Return, per row, whether every cycle in its trend's window was shown.

    A trend fitted over a hidden cycle would give that cycle's index away (with three
    cycles, y₁ = y₃ − 2·slope); cycles without an index take no part in the fit.
    """
    cycles = sorted(targets["cycle"].unique())
    ok = (targets["shown"].eq(True) | targets["reliability_index"].isna()).rename("ok")
    wide = (
        pd.concat([targets[[*keys, "cycle"]], ok], axis=1)
        .pivot_table(index=keys, columns="cycle", values="ok", aggfunc="min")
        .reindex(columns=cycles)
        .astype(float)
        .fillna(1.0)
    )
    windowed = wide.T.rolling(WINDOW, min_periods=1).min().T
    long = windowed.stack().rename("trend_ok").reset_index()
    merged = targets[[*keys, "cycle"]].merge(long, on=[*keys, "cycle"], how="left")
    shown: np.ndarray = merged["trend_ok"].eq(1.0).to_numpy()
    return shown


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
                "declining": (now["trend"] == TrendLabel.declining).to_numpy(),
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
