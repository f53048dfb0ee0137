"""Score runs: one reproducible computation over a cycle, its parameters beside its results.

Each result row carries `shown`: whether it may be shown to the rated party under the
anonymity rules (DESIGN.md §4), decided once by the engine so no view re-derives it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd
from piccolo.columns import (
    JSON,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check
from piccolo.table import Table

from scoring.config import ScoringConfig
from scoring.engine import ScoreResult, score
from surveys import audit
from surveys.cycles import Cycle, CycleStatus, check_transition
from surveys.database import db_value, writing_transaction
from surveys.errors import RapportError
from surveys.instruments import Dimension, Instrument, Item
from surveys.invitations import Invitation
from surveys.organisations import Organisation
from surveys.responses import submitted_answers


class RunStatus(StrEnum):
    """A run is running, done, or failed (its partial rows are then deleted with it)."""

    running = "running"
    done = "done"
    failed = "failed"


class ScoreRun(Table):
    """One scoring of one cycle, reproducible from its stored config and code version."""

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

    run = ForeignKey(ScoreRun, on_delete=OnDelete.cascade, null=False, index=True)
    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False, index=True)
    target = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    rater_organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True)
    """Null for the target's pooled score; set for one relationship's view."""
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

    target_index_raters_not_negative = Check("n_raters >= 0")
    target_index_index_in_range = Check(
        "reliability_index IS NULL OR (reliability_index >= 0 AND reliability_index <= 100)"
    )
    target_index_interval_ordered = Check("ri_low IS NULL OR ri_high IS NULL OR ri_low <= ri_high")
    target_index_nps_in_range = Check("nps IS NULL OR (nps >= -100 AND nps <= 100)")


class DimensionScore(Table):
    """A partner's score on one dimension, over all raters or one rater organisation."""

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
    shown = Boolean(default=False)

    dimension_score_raters_not_negative = Check("n_raters >= 0")
    dimension_score_mean_in_range = Check("mean IS NULL OR (mean >= 0 AND mean <= 100)")
    dimension_score_top_box_is_share = Check("top_box IS NULL OR (top_box >= 0 AND top_box <= 1)")


class InstrumentReliability(Table):
    """Cronbach's alpha of one dimension in one run, with its confidence interval."""

    run = ForeignKey(ScoreRun, on_delete=OnDelete.cascade, null=False, index=True)
    dimension = ForeignKey(Dimension, on_delete=OnDelete.restrict, null=False)
    n_raters = Integer()
    alpha = DoublePrecision(null=True, default=None)
    alpha_low = DoublePrecision(null=True, default=None)
    alpha_high = DoublePrecision(null=True, default=None)


class ScoringError(RapportError):
    """A cycle cannot be scored; the message says why."""


@dataclass(frozen=True)
class RunSummary:
    """What `score_cycle` stored."""

    run_id: int
    cycle: str
    targets: dict[str, int]
    """Targets scored per direction."""
    answers: int


async def instrument_items(instrument_id: int) -> tuple[pd.DataFrame, int, str, str]:
    """Return an instrument's item table (as the engine reads it), scale, direction and key."""
    instrument = (
        await Instrument.select(Instrument.key, Instrument.direction, Instrument.scale_points)
        .where(Instrument.id == instrument_id)
        .first()
    )
    rows = await Item.select(
        Item.key, Item.kind, Item.reverse,
        Item.dimension.key.as_alias("dimension"), Item.dimension.layer.as_alias("layer"),
        Item.dimension.floor.as_alias("floor"),
    ).where(Item.instrument == instrument_id)  # fmt: skip
    columns = ["key", "kind", "reverse", "dimension", "layer", "floor"]
    items = pd.DataFrame(rows, columns=columns).set_index("key").astype({"floor": "float64"})
    items["reverse"] = items["reverse"].astype(bool)
    return items, int(instrument["scale_points"]), instrument["direction"], instrument["key"]


async def score_cycle(
    cycle_key: str, config: ScoringConfig, code_version: str, actor: str = "system",
    progress: Callable[[str], None] | None = None,
) -> RunSummary:  # fmt: skip
    """Score a closed (or re-score a scored) cycle and store the run, all in one transaction.

    Earlier closed cycles are loaded too: they give this cycle its trend, predictability
    and tier history. Only this cycle's results are stored; running it again stores a
    new run with the same numbers.
    """
    say = progress or (lambda _step: None)
    cycle = await Cycle.select().where(Cycle.key == cycle_key).first()
    if cycle is None:
        known = [row["key"] for row in await Cycle.select(Cycle.key).order_by(Cycle.key)]
        raise ScoringError(f"no cycle {cycle_key!r}; cycles: {', '.join(known) or 'none'}")
    check_transition(cycle["status"], CycleStatus.scored)
    history = [
        row["key"]
        for row in await Cycle.select(Cycle.key).where(
            (Cycle.key <= cycle_key) & Cycle.status.is_in(["closed", "scored", "published"])
        )
    ]
    started = dt.datetime.now(dt.UTC)
    results, digests, counts, total = [], [], {}, 0
    for instrument_id in (cycle["site_instrument"], cycle["sponsor_instrument"]):
        items, scale, direction, key = await instrument_items(instrument_id)
        say(f"loading {direction} answers")
        answers = await submitted_answers(history, instrument_key=key)
        answers = answers[answers["item"].isin(items.index)]
        if answers.empty or not (answers["cycle"] == cycle_key).any():
            raise ScoringError(f"cycle {cycle_key} has no submitted {direction} answers to score")
        say(f"scoring {len(answers):,} {direction} answers")
        result = score(answers, items, scale, direction, config)
        ordered = answers.sort_values(["cycle", "rater", "target", "item"])
        digests.append(hashlib.sha256(ordered.to_csv(index=False).encode()).hexdigest())
        results.append((instrument_id, result))
        counts[direction] = int((result.targets["cycle"] == cycle_key).sum())
        total += len(answers)
    say("storing the run")
    rates = await _response_rates(cycle["id"])
    async with writing_transaction(ScoreRun._meta.db):
        run = ScoreRun(
            cycle=cycle["id"], status=RunStatus.done.value, config=config.as_dict(),
            code_version=code_version,
            input_digest=hashlib.sha256("".join(digests).encode()).hexdigest(),
            notes=results[0][1].notes, started_at=started, finished_at=dt.datetime.now(dt.UTC),
        )  # fmt: skip
        await run.save()
        for instrument_id, result in results:
            await _store(run.id, cycle["id"], cycle_key, instrument_id, result, rates)
        await Cycle.update(
            {Cycle.status: CycleStatus.scored.value, Cycle.status_changed_at: started}
        ).where(Cycle.id == cycle["id"])
        await audit.record(
            actor, "cycle.score", "score_run", run.id, {"cycle": cycle_key, **counts}
        )
    return RunSummary(run_id=int(run.id), cycle=cycle_key, targets=counts, answers=total)


async def _response_rates(cycle_id: int) -> dict[str, float]:
    rows = await Invitation.select(
        Invitation.target.slug.as_alias("target"), Invitation.status
    ).where(Invitation.cycle == cycle_id)
    table = pd.DataFrame(rows, columns=["target", "status"])
    if table.empty:
        return {}
    rate = (table["status"] == "submitted").groupby(table["target"]).mean()
    return {str(k): float(v) for k, v in rate.items()}


async def _store(
    run_id: int, cycle_id: int, cycle_key: str, instrument_id: int, result: ScoreResult,
    rates: dict[str, float],
) -> None:  # fmt: skip
    # "lambda" is a Python keyword, which itertuples would rename to a position
    targets = result.targets[result.targets["cycle"] == cycle_key].rename(
        columns={"lambda": "shrinkage"}
    )
    slugs = set(targets["target"]) | set(result.dimensions["target"])
    org_ids = {
        row["slug"]: row["id"]
        for row in await Organisation.select(Organisation.id, Organisation.slug).where(
            Organisation.slug.is_in(sorted(slugs))
        )
    }
    await TargetIndex.insert(
        *(
            TargetIndex(
                run=run_id,
                cycle=cycle_id,
                target=org_ids[row.target],
                n_raters=int(row.n_raters),
                reliability_index=db_value(row.reliability_index),
                ri_low=db_value(row.ri_low),
                ri_high=db_value(row.ri_high),
                raw_index=db_value(row.raw_index),
                plain_score=db_value(row.plain_score),
                quality=db_value(row.quality),
                dependability=db_value(row.dependability),
                speed=db_value(row.speed),
                cost=db_value(row.cost),
                shrinkage=db_value(row.shrinkage),
                predictability=db_value(row.predictability),
                trend_slope=db_value(row.trend_slope),
                trend_p=db_value(row.trend_p),
                nps=db_value(row.nps),
                response_rate=rates.get(row.target),
                shown=bool(row.shown),
            )
            for row in targets.itertuples()
        )
    )
    dimension_ids = {
        row["key"]: row["id"]
        for row in await Dimension.select(Dimension.id, Dimension.key).where(
            Dimension.instrument == instrument_id
        )
    }
    dims = result.dimensions[result.dimensions["cycle"] == cycle_key]
    await DimensionScore.insert(
        *(
            DimensionScore(
                run=run_id,
                cycle=cycle_id,
                target=org_ids[row.target],
                dimension=dimension_ids[row.dimension],
                n_raters=int(row.n_raters),
                mean=db_value(row.mean),
                low=db_value(row.low),
                high=db_value(row.high),
                top_box=db_value(row.top_box),
                rwg=db_value(row.rwg),
                shown=bool(row.shown),
            )
            for row in dims.itertuples()
        )
    )
    alphas = result.reliability[result.reliability["cycle"] == cycle_key]
    await InstrumentReliability.insert(
        *(
            InstrumentReliability(
                run=run_id,
                dimension=dimension_ids[row.dimension],
                n_raters=int(row.n_raters),
                alpha=db_value(row.alpha),
                alpha_low=db_value(row.alpha_low),
                alpha_high=db_value(row.alpha_high),
            )
            for row in alphas.itertuples()
        )
    )
