"""Score runs: one reproducible computation over a cycle, its parameters beside its results.

`surveys.results.cycle_scoring` fills these tables; this module only says what they hold.

Each result row carries `shown`: whether it may be shown to the rated party under the
anonymity rules (DESIGN.md §4), decided once by the engine so no view re-derives it.
"""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    JSON,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check
from piccolo.table import Table

from scoring.config import ScoringConfig, config_from_dict
from scoring.gaps import PEERS_STANDARD
from scoring.trends import TrendLabel, trend_label
from surveys.cycles.cycle import Cycle
from surveys.directory.organisations import Organisation
from surveys.infra import i18n
from surveys.infra.i18n import N_
from surveys.instruments import Dimension


class RunStatus(StrEnum):
    """A run is running, done, or failed (its partial rows are then deleted with it)."""

    running = "running"
    done = "done"
    failed = "failed"


class ScoreRun(Table):
    """One scoring of one cycle, reproducible from its stored config and code version."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False, index=True)
    status = Varchar(length=8, choices=RunStatus, default="running")
    config = JSON()
    """The full scoring configuration used (weights, margins, thresholds)."""
    code_version = Varchar(length=60)
    input_digest = Varchar(length=64)
    """SHA-256 of the answers scored: same digest and config, same numbers."""
    notes = JSON()
    """Why any value is not computable, keyed by what it concerns."""
    started_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)

    score_run_status_is_known = Check("status IN ('running', 'done', 'failed')")


class TargetIndex(Table):
    """A partner's reliability index and layer scores, over all raters or one rater organisation."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    run = ForeignKey(ScoreRun, on_delete=OnDelete.cascade, null=False, index=True)
    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False, index=True)
    target = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    rater_organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True)
    """Null for the target's pooled score; set for one organisation's view of it: a site's
    view of a sponsor, or a sponsor's view of a site (its CRO's raters included)."""
    n_raters = Integer()
    reliability_index = DoublePrecision(null=True, default=None)
    ri_low = DoublePrecision(null=True, default=None)
    ri_high = DoublePrecision(null=True, default=None)
    raw_index = DoublePrecision(null=True, default=None)
    """The same Sand Cone composite from unshrunk layer scores."""
    plain_score = DoublePrecision(null=True, default=None)
    """Weighted mean of layer scores without the Sand Cone cap."""
    quality = DoublePrecision(null=True, default=None)
    dependability = DoublePrecision(null=True, default=None)
    speed = DoublePrecision(null=True, default=None)
    cost = DoublePrecision(null=True, default=None)
    shrinkage = DoublePrecision(null=True, default=None)
    """λ: reliability of this target's mean (ICC(1,k) at its n)."""
    predictability = DoublePrecision(null=True, default=None)
    trend_slope = DoublePrecision(null=True, default=None)
    trend_p = DoublePrecision(null=True, default=None)
    nps = DoublePrecision(null=True, default=None)
    response_rate = DoublePrecision(null=True, default=None)
    shown = Boolean(default=False)
    comments_shown = Boolean(default=False)
    """Enough raters for the group's comments to be shown (DESIGN.md §4)."""
    trend_shown = Boolean(default=False)
    """Trend and predictability may be shown: no cycle in their window was hidden."""

    target_index_raters_not_negative = Check("n_raters >= 0")
    target_index_index_in_range = Check(
        "reliability_index IS NULL OR (reliability_index >= 0 AND reliability_index <= 100)"
    )
    target_index_interval_ordered = Check("ri_low IS NULL OR ri_high IS NULL OR ri_low <= ri_high")
    target_index_nps_in_range = Check("nps IS NULL OR (nps >= -100 AND nps <= 100)")


class DimensionScore(Table):
    """A partner's score on one dimension, over all raters or one rater organisation."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    run = ForeignKey(ScoreRun, on_delete=OnDelete.cascade, null=False, index=True)
    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False, index=True)
    target = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    rater_organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True)
    dimension = ForeignKey(Dimension, on_delete=OnDelete.restrict, null=False)
    n_raters = Integer()
    mean = DoublePrecision(null=True, default=None)
    low = DoublePrecision(null=True, default=None)
    high = DoublePrecision(null=True, default=None)
    shrunk = DoublePrecision(null=True, default=None)
    top_box = DoublePrecision(null=True, default=None)
    rwg = DoublePrecision(null=True, default=None)
    stated_importance = DoublePrecision(null=True, default=None)
    derived_importance = DoublePrecision(null=True, default=None)
    importance = DoublePrecision(null=True, default=None)
    """What the quadrant ranks on: stated importance where raters gave any, else derived."""
    quadrant = Varchar(length=20, null=True, default=None)
    """fix first, keep up, low priority or possible overkill; null with no importance."""
    standard = DoublePrecision(null=True, default=None)
    """What performance is judged against for "fix first" (`scoring.gaps.fix_standards`):
    the peers' median or the dimension's floor; null without either (or before it)."""
    standard_kind = Varchar(length=8, null=True, default=None)
    """peers or floor: which standard `standard` is, as the scorecard says."""
    n_stated = Integer(default=0)
    """Raters who stated the dimension's importance."""
    importance_shown = Boolean(default=False)
    """Importance and quadrant may be shown (stated importance has k raters of its own)."""
    shown = Boolean(default=False)

    dimension_score_raters_not_negative = Check("n_raters >= 0")
    dimension_score_mean_in_range = Check("mean IS NULL OR (mean >= 0 AND mean <= 100)")
    dimension_score_top_box_is_share = Check("top_box IS NULL OR (top_box >= 0 AND top_box <= 1)")


class InstrumentReliability(Table):
    """Cronbach's alpha of one dimension in one run, with its confidence interval."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    run = ForeignKey(ScoreRun, on_delete=OnDelete.cascade, null=False, index=True)
    dimension = ForeignKey(Dimension, on_delete=OnDelete.restrict, null=False)
    n_raters = Integer()
    alpha = DoublePrecision(null=True, default=None)
    alpha_low = DoublePrecision(null=True, default=None)
    alpha_high = DoublePrecision(null=True, default=None)
    low_alpha = Boolean(default=False)
    """Alpha under `scoring.reliability.ALPHA_FLOOR`: the dimension's items may not
    measure one thing."""


class PerceptionGap(Table):
    """One relationship on one mirror dimension, seen from both sides (DESIGN.md §3.9)."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    run = ForeignKey(ScoreRun, on_delete=OnDelete.cascade, null=False, index=True)
    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False)
    site = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    partner = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    mirror = Varchar(length=60)
    site_view = DoublePrecision()
    """How the site's raters score the partner (0–100)."""
    partner_view = DoublePrecision()
    """How the partner's raters score the site (0–100)."""
    gap = DoublePrecision()
    """site_view − partner_view: positive when the site sees the partner more kindly."""
    shown = Boolean(default=False)
    """Both sides' cells may be shown, so the gap reveals no hidden view."""


class EscalationFlag(Table):
    """Something that cannot wait for the review meeting (DESIGN.md §3.13)."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    run = ForeignKey(ScoreRun, on_delete=OnDelete.cascade, null=False, index=True)
    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False)
    target = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    rater_organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True)
    """Null for the pooled view; set for one organisation's view, as in TargetIndex."""
    kind = Varchar(length=20)
    dimension = ForeignKey(Dimension, on_delete=OnDelete.restrict, null=True)
    detail = Text()
    shown = Boolean(default=False)
    """What the flag quotes may be shown to the flagged party."""

    escalation_flag_kind_is_known = Check(
        "kind IN ('significant_drop', 'under_floor', 'response_collapse')"
    )


class TrendArrow(StrEnum):
    """A stored trend as the pages and the API show it (the codes programs read)."""

    up = "up"
    down = "down"
    flat = "flat"
    unknown = "unknown"


_ARROWS = {
    TrendLabel.improving: TrendArrow.up,
    TrendLabel.declining: TrendArrow.down,
    TrendLabel.stable: TrendArrow.flat,
}


def trend_of(slope: float | None, p: float | None, significance: float) -> TrendArrow:
    """A stored slope's arrow at a run's significance, by the engine's rule
    (`scoring.trends.trend_label`): unknown where no trend was computed."""
    label = trend_label(slope, p, significance)
    return TrendArrow.unknown if label is None else _ARROWS[label]


async def run_config(run_id: int) -> ScoringConfig:
    """The scoring configuration a run used (the defaults for a run that stored none), so
    that what is read from its results follows the same rules it was scored by."""
    row = (
        await ScoreRun.select(ScoreRun.config)
        .where(ScoreRun.id == run_id)
        .output(load_json=True)
        .first()
    )
    stored = row["config"] if row else None
    return config_from_dict(stored) if isinstance(stored, dict) else ScoringConfig()


async def interval_level(run_id: int) -> float:
    """The confidence level of a run's intervals (its configuration's `ci`; 0.90 by default)."""
    return (await run_config(run_id)).ci


def shown_number(value: object, shown: bool = True) -> float | None:
    """A stored figure as a float; None where it is missing or its cell may not be shown."""
    return None if value is None or not shown else float(str(value))


SCORED = ("scored", "published")
"""Cycle states that have scores to look at."""


async def scored_cycles(statuses: tuple[str, ...] = SCORED) -> list[dict[str, object]]:
    """Cycles in `statuses` (scored or published), newest first, with their latest finished run."""
    cycles = (
        await Cycle.select(Cycle.id, Cycle.key, Cycle.status)
        .where(Cycle.status.is_in(list(statuses)))
        .order_by(Cycle.opens_at, ascending=False)
    )
    found = []
    for cycle in cycles:
        run = (
            await ScoreRun.select(ScoreRun.id)
            .where((ScoreRun.cycle == cycle["id"]) & (ScoreRun.status == RunStatus.done.value))
            .order_by(ScoreRun.id, ascending=False)
            .first()
        )
        if run:
            found.append({**cycle, "run": run["id"]})
    return found


def fix_first_reason(score: float, standard: float | None, kind: str | None) -> i18n.Text | None:
    """Why a dimension is "fix first", in words every surface prints the same way: the
    score as printed and the standard it falls below (`scoring.gaps.fix_standards`).
    None for a run stored before dimensions had a standard."""
    if standard is None or kind is None:
        return None
    values = {"score": round(score), "standard": round(standard)}
    if kind == PEERS_STANDARD:
        return i18n.Text(N_("scores %(score)s, below the peers' median of %(standard)s"), values)
    return i18n.Text(N_("scores %(score)s, below its floor of %(standard)s"), values)
