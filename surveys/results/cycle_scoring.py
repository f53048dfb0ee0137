"""`rapport score --cycle`: a closed cycle's answers from the database, scored and stored.

A direction with no submitted answers this cycle (the sponsors answered, the sites did
not) is left out and named in the run's summary; the other is scored alone, without
perception gaps (they need both sides) and, if the sponsors did not answer, without tiers.
The engine (`scoring.engine`) computes; this module loads what it needs (the cycle and
the earlier cycles its trend and tier history need, the response rates), and stores
the run in one transaction: pooled scores, each organisation's view of its partners,
importance, escalation flags, perception gaps, and the tiers sponsors give their sites.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from scoring.config import ScoringConfig
from scoring.engine import ScoreResult, score, score_views
from scoring.gaps import perception_gaps
from surveys.cycles.cycle import Cycle, CycleRecord, CycleStatus, check_transition, cycle_by_key
from surveys.cycles.invitations import Invitation
from surveys.directory import audit
from surveys.infra.database import writing_transaction
from surveys.infra.errors import RapportError
from surveys.instruments import Direction
from surveys.instruments.questionnaires import instrument_rows
from surveys.responses.answers import submitted_answers
from surveys.results.run_store import VIEW_BY, RunStore, Scored
from surveys.results.score_runs import (
    RunStatus,
    ScoreRun,
)
from surveys.results.tier_assignments import TierAssignment, TierSummary, record_computed_tiers


class ScoringError(RapportError):
    """A cycle cannot be scored; the message says why."""


@dataclass(frozen=True)
class RunSummary:
    """What `score_cycle` stored."""

    run_id: int
    cycle: str
    targets: dict[str, int]
    """Targets scored per direction."""
    views: dict[str, int]
    """Organisation-to-partner views scored per direction."""
    answers: int
    tiers: TierSummary
    flags: int
    gaps: int
    unanswered: tuple[str, ...] = ()
    """Directions with no submitted answers this cycle, so not scored."""


async def instrument_items(instrument_id: int) -> tuple[pd.DataFrame, int, str, str]:
    """Return an instrument's item table (as the engine reads it), scale, direction and key."""
    rows = await instrument_rows(instrument_id)
    dimensions = {dimension["id"]: dimension for dimension in rows.dimensions}
    none: dict[str, Any] = {"key": None, "layer": None, "floor": None}
    items = (
        pd.DataFrame(
            [
                (
                    item["key"],
                    item["kind"],
                    bool(item["reverse"]),
                    dimensions.get(item["dimension"], none)["key"],
                    dimensions.get(item["dimension"], none)["layer"],
                    dimensions.get(item["dimension"], none)["floor"],
                )
                for item in rows.items
            ],
            columns=["key", "kind", "reverse", "dimension", "layer", "floor"],
        )
        .set_index("key")
        .astype({"floor": "float64"})
    )
    instrument = rows.instrument
    return items, int(instrument["scale_points"]), instrument["direction"], instrument["key"]


async def score_cycle(
    cycle_key: str,
    config: ScoringConfig,
    code_version: str,
    actor: str = "system",
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Score a closed (or re-score a scored) cycle and store the run, all in one transaction.

    Earlier closed cycles are loaded too: they give this cycle its trend, predictability
    and tier history. Only this cycle's results are stored; running it again stores a
    new run with the same numbers, and brings the cycle's tiers up to date without
    touching a person's override.
    """

    def say(step: str) -> None:
        if progress is not None:
            progress(f"{cycle_key}: {step}")

    cycle = await cycle_by_key(cycle_key, ScoringError)
    check_transition(cycle.status, CycleStatus.scored)
    history = await _history(cycle_key)
    started = dt.datetime.now(dt.UTC)
    results = {
        direction: await _scored_direction(instrument_id, cycle_key, history, config, say)
        for direction, instrument_id in (
            (Direction.site_rates_sponsor, cycle.site_instrument),
            (Direction.sponsor_rates_site, cycle.sponsor_instrument),
        )
    }
    scored = [one for one in results.values() if one is not None]
    unanswered = tuple(str(d) for d, one in results.items() if one is None)
    if not scored:
        raise ScoringError(f"cycle {cycle_key} has no submitted answers to score, either way")
    say("storing the run")
    gaps = _gaps(scored, cycle_key)
    current_rates = {
        by: await response_rates([cycle_key], by=by)
        for by in (None, *sorted(set(VIEW_BY.values())))
    }
    async with writing_transaction(ScoreRun._meta.db):
        run = ScoreRun(
            cycle=cycle.id,
            status=RunStatus.done.value,
            config=config.as_dict(),
            code_version=code_version,
            input_digest=hashlib.sha256("".join(one.digest for one in scored).encode()).hexdigest(),
            notes=scored[0].pooled.notes,
            started_at=started,
            finished_at=dt.datetime.now(dt.UTC),
        )
        await run.save()
        store = RunStore(int(run.id), int(cycle.id), cycle_key)
        flags = await store.run_rows(scored, gaps, current_rates)
        tiers = await _record_tiers(store, scored, actor)
        await _mark_scored(cycle, cycle_key, started)
        counts = {one.direction: _scored_in(one.pooled, cycle_key) for one in scored}
        for direction in unanswered:
            counts[direction] = 0
        await audit.record(
            actor,
            "cycle.score",
            "score_run",
            run.id,
            {
                "cycle": cycle_key,
                **counts,
                "tiers": tiers.computed,
                "overrides_kept": tiers.overrides_kept,
                "unanswered": list(unanswered),
            },
        )
    return RunSummary(
        run_id=int(run.id),
        cycle=cycle_key,
        targets=counts,
        views={one.direction: _scored_in(one.views, cycle_key) for one in scored},
        answers=sum(one.answers for one in scored),
        tiers=tiers,
        flags=flags,
        gaps=len(gaps),
        unanswered=unanswered,
    )


def _scored_in(result: ScoreResult, cycle_key: str) -> int:
    """Targets (or views) of `result` scored in this cycle, not in its history."""
    return int((result.targets["cycle"] == cycle_key).sum())


async def _history(cycle_key: str) -> list[str]:
    """The cycle and every closed, scored or published one before it: the trend, the
    predictability and the tiers' hysteresis look back over them."""
    return [
        row["key"]
        for row in await Cycle.select(Cycle.key).where(
            (Cycle.key <= cycle_key) & Cycle.status.is_in(["closed", "scored", "published"])
        )
    ]


async def _scored_direction(
    instrument_id: int,
    cycle_key: str,
    history: list[str],
    config: ScoringConfig,
    say: Callable[[str], None],
) -> Scored | None:
    """One instrument's answers over the history, scored pooled and by each organisation's
    view; None if the cycle has none."""
    items, scale, direction, key = await instrument_items(instrument_id)
    say(f"loading {direction} answers")
    answers = await submitted_answers(history, instrument_key=key)
    answers = answers[answers["item"].isin(items.index)]
    if answers.empty or not (answers["cycle"] == cycle_key).any():
        say(f"no submitted {direction} answers: not scored")
        return None
    say(f"scoring {len(answers):,} {direction} answers")
    rates = await response_rates(history, instrument_key=key)
    pooled = score(answers, items, scale, direction, config, rates)
    say(f"scoring each organisation's view ({direction})")
    overrides = await tier_overrides(history) if direction == Direction.sponsor_rates_site else None
    view_by = VIEW_BY[Direction(direction)]
    views = score_views(answers, items, scale, direction, config, pooled, view_by, overrides)
    ordered = answers.sort_values(["cycle", "rater", "target", "item"])
    return Scored(
        instrument_id=instrument_id,
        direction=direction,
        pooled=pooled,
        views=views,
        mirrors=await mirror_keys(instrument_id),
        digest=hashlib.sha256(ordered.to_csv(index=False).encode()).hexdigest(),
        answers=len(answers),
    )


async def _record_tiers(store: RunStore, scored: list[Scored], actor: str) -> TierSummary:
    """The tiers sponsors give their sites this cycle, from their views, recorded beside any
    reviewer's override (none when the sponsors gave no answers)."""
    sponsors = next((one for one in scored if one.direction == Direction.sponsor_rates_site), None)
    if sponsors is None:
        return TierSummary(computed=0, overrides_kept=0)
    decisions = sponsors.views.targets
    decisions = decisions[decisions["cycle"] == store.cycle_key].rename(
        columns={sponsors.view_by: "assessor"}
    )
    return await record_computed_tiers(
        store.run_id, store.cycle_id, decisions, store.org_ids, actor
    )


async def _mark_scored(cycle: CycleRecord, cycle_key: str, started: dt.datetime) -> None:
    """Move the cycle to scored, or ScoringError (undoing the run) if its status changed
    while its answers were scored: a cycle published meanwhile must not be scored again."""
    moved = (
        await Cycle.update(
            {Cycle.status: CycleStatus.scored.value, Cycle.status_changed_at: started}
        )
        .where((Cycle.id == cycle.id) & (Cycle.status == cycle.status))
        .returning(Cycle.id)
    )
    if not moved:
        raise ScoringError(
            f"cycle {cycle_key} changed status while it was scored; nothing was stored"
        )


async def score_closed_cycles(
    config: ScoringConfig,
    code_version: str,
    actor: str = "system",
    progress: Callable[[str], None] | None = None,
) -> list[RunSummary]:
    """Score every closed cycle not yet scored, oldest first (each one's history is scored)."""
    closed = await Cycle.select(Cycle.key).where(Cycle.status == CycleStatus.closed.value)
    return [
        await score_cycle(key, config, code_version, actor, progress)
        for key in sorted(row["key"] for row in closed)
    ]


async def tier_overrides(cycle_keys: list[str]) -> pd.DataFrame:
    """Return reviewers' tier overrides in these cycles: cycle, sponsor, target, tier.

    The engine starts each next cycle's hysteresis from the tier that was in force.
    """
    rows = await TierAssignment.select(
        TierAssignment.cycle.key.as_alias("cycle"),
        TierAssignment.assessor.slug.as_alias(VIEW_BY[Direction.sponsor_rates_site]),
        TierAssignment.target.slug.as_alias("target"),
        TierAssignment.override_tier.as_alias("tier"),
    ).where(TierAssignment.cycle.key.is_in(cycle_keys) & TierAssignment.override_tier.is_not_null())
    return pd.DataFrame(
        rows, columns=["cycle", VIEW_BY[Direction.sponsor_rates_site], "target", "tier"]
    )


async def response_rates(
    cycle_keys: list[str], instrument_key: str | None = None, by: str | None = None
) -> pd.DataFrame:
    """Return the share of invitations submitted: cycle, target, response_rate.

    With `by` (a VIEW_BY column), per view too: `rater_org` is the invited person's
    organisation, `sponsor` the relationship's sponsor (its CRO's people rate on its
    behalf), so a view's scorecard states the rate of the invitations behind its raters.
    """
    query = Invitation.select(
        Invitation.cycle.key.as_alias("cycle"),
        Invitation.target.slug.as_alias("target"),
        Invitation.respondent._.organisation._.slug.as_alias("rater_org"),
        Invitation.relationship._.sponsor._.slug.as_alias("sponsor"),
        Invitation.status,
    ).where(Invitation.cycle.key.is_in(cycle_keys))
    if instrument_key is not None:
        query = query.where(Invitation.instrument.key == instrument_key)
    table = pd.DataFrame(await query, columns=["cycle", "target", "rater_org", "sponsor", "status"])
    submitted = table.assign(response_rate=(table["status"] == "submitted").astype(float))
    keys = ["cycle", "target"] if by is None else ["cycle", by, "target"]
    return submitted.groupby(keys, as_index=False)["response_rate"].mean()


async def mirror_keys(instrument_id: int) -> pd.Series:
    """Return dimension key → mirror key for an instrument's mirror dimensions."""
    dimensions = (await instrument_rows(instrument_id)).dimensions
    return pd.Series(
        {row["key"]: row["mirror_key"] for row in dimensions if row["mirror_key"]}, dtype=object
    )


_GAP_KEYS = ["cycle", "site", "partner", "mirror"]


def _gaps(scored: list[Scored], cycle_key: str) -> pd.DataFrame:
    """Return this cycle's perception gaps, shown only where both sides' cells are (none
    when one side was not scored)."""
    sides = {one.direction: one for one in scored}
    if len(sides) < 2:
        return pd.DataFrame(columns=[*_GAP_KEYS, "site_view", "partner_view", "gap", "shown"])
    site, sponsor = sides[Direction.site_rates_sponsor], sides[Direction.sponsor_rates_site]
    site_view = site.views.dimensions[site.views.dimensions["cycle"] == cycle_key]
    sponsor_view = sponsor.views.dimensions[sponsor.views.dimensions["cycle"] == cycle_key]
    sponsor_view = sponsor_view.rename(columns={VIEW_BY[Direction.sponsor_rates_site]: "rater_org"})
    gaps = perception_gaps(site_view, sponsor_view, site.mirrors, sponsor.mirrors)
    site_shown = site_view.assign(mirror=site_view["dimension"].map(site.mirrors)).rename(
        columns={"rater_org": "site", "target": "partner", "shown": "site_shown"}
    )
    partner_shown = sponsor_view.assign(
        mirror=sponsor_view["dimension"].map(sponsor.mirrors)
    ).rename(columns={"rater_org": "partner", "target": "site", "shown": "partner_shown"})
    keys = ["cycle", "site", "partner", "mirror"]
    gaps = gaps.merge(site_shown[[*keys, "site_shown"]], on=keys, how="left").merge(
        partner_shown[[*keys, "partner_shown"]], on=keys, how="left"
    )
    gaps["shown"] = gaps["site_shown"].eq(True) & gaps["partner_shown"].eq(True)
    return gaps
