"""Partnership tiers: what a sponsor assigns to a site each cycle, computed or overridden.

The computed tier and a person's override are both kept; every change is an event in
the tier's history, so "who moved this site to Watch, and why" always has an answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import pandas as pd
from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from surveys.cycles.cycle import Cycle
from surveys.directory.organisations import Organisation, Person
from surveys.infra.database import bulk_insert
from surveys.results.score_runs import ScoreRun


class Tier(IntEnum):
    """Partnership tiers, best first (DESIGN.md §1)."""

    strategic = 1
    preferred = 2
    approved = 3
    watch = 4

    @property
    def label(self) -> str:
        """The tier's name as people say it."""
        return self.name.capitalize()


def tier_in_force(assignment: Mapping[str, Any] | None) -> Tier | None:
    """The tier an assignment gives: a reviewer's override where there is one, else the
    computed tier; None for no assignment."""
    if not assignment:
        return None
    value = assignment.get("override_tier") or assignment.get("computed_tier")
    return Tier(int(value)) if value else None


def stored_tier(assignment: Mapping[str, Any]) -> Tier:
    """The tier in force of a stored assignment, which always has its computed tier."""
    tier = tier_in_force(assignment)
    if tier is None:
        raise ValueError(f"tier assignment {assignment.get('id')} has no tier")
    return tier


class TierAssignment(Table):
    """The tier an assessor (a sponsor, or a network) gives a partner in one cycle."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False, index=True)
    run = ForeignKey(ScoreRun, on_delete=OnDelete.set_null, null=True)
    assessor = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    target = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    computed_tier = Integer()
    provisional = Boolean(default=False)
    """Data were insufficient for a confident tier (too few raters or cycles)."""
    rule_trace = Text()
    """Readable reasons, e.g. "Preferred: RI 74 [68–80]; lower bound 68 ≥ 65; …"."""
    override_tier = Integer(null=True, default=None)
    override_reason = Text(null=True, default=None)
    overridden_by = ForeignKey(Person, on_delete=OnDelete.set_null, null=True)
    overridden_at = Timestamptz(null=True, default=None)
    accepted_by = ForeignKey(Person, on_delete=OnDelete.set_null, null=True)
    """Who accepted the computed tier as it stands (None from a command, or once erased)."""
    accepted_at = Timestamptz(null=True, default=None)
    """When a reviewer accepted the computed tier; None: not accepted (or since re-computed
    to another tier, or overridden)."""
    created_at = Timestamptz()

    tier_assignment_one_per_cycle_assessor_target = Unique(["cycle", "assessor", "target"])
    tier_assignment_computed_is_a_tier = Check("computed_tier >= 1 AND computed_tier <= 4")
    tier_assignment_override_is_a_tier = Check(
        "override_tier IS NULL OR (override_tier >= 1 AND override_tier <= 4)"
    )
    tier_assignment_override_has_reason = Check(
        "override_tier IS NULL OR (override_reason IS NOT NULL AND length(override_reason) > 0)"
    )


class TierEvent(Table):
    """One change in a tier assignment's history: computed, overridden, cleared, published."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    assignment = ForeignKey(TierAssignment, on_delete=OnDelete.cascade, null=False, index=True)
    at = Timestamptz()
    kind = Varchar(length=12)
    tier = Integer(null=True, default=None)
    reason = Text(null=True, default=None)
    actor = Varchar(length=254)

    tier_event_kind_is_known = Check("kind IN ('computed', 'override', 'cleared', 'published')")


@dataclass(frozen=True)
class TierSummary:
    """What recording a run's tiers did."""

    computed: int
    """Assignments written or brought up to date."""
    overrides_kept: int
    """Assignments whose human override stays beside the newly computed tier."""


async def record_computed_tiers(
    run_id: int, cycle_id: int, decisions: pd.DataFrame, org_ids: dict[str, int], actor: str
) -> TierSummary:
    """Store a run's computed tiers in the tier history, keeping any human override.

    `decisions` holds one row per assessor and target: assessor, target (slugs), tier
    (its name), provisional, tier_trace. A first scoring of the cycle creates the
    assignments; a re-scoring updates their computed tier, trace and run, and leaves an
    override (tier, reason, who, when) where it was, to be shown beside the new computed
    tier; an acceptance stays only if the computed tier is the one accepted. Each one gets
    a `computed` event. Call inside the run's transaction.
    """
    now = dt.datetime.now(dt.UTC)
    existing = {
        (row["assessor"], row["target"]): row
        for row in await TierAssignment.select(
            TierAssignment.id,
            TierAssignment.assessor,
            TierAssignment.target,
            TierAssignment.computed_tier,
            TierAssignment.override_tier,
        ).where(TierAssignment.cycle == cycle_id)
    }
    rows = [
        (
            org_ids[d.assessor],
            org_ids[d.target],
            int(Tier[d.tier.lower()]),
            bool(d.provisional),
            d.tier_trace,
        )
        for d in decisions.itertuples()
    ]
    new = [row for row in rows if (row[0], row[1]) not in existing]
    await bulk_insert(
        TierAssignment,
        [
            "cycle",
            "run",
            "assessor",
            "target",
            "computed_tier",
            "provisional",
            "rule_trace",
            "created_at",
        ],
        [(cycle_id, run_id, *row, now) for row in new],
    )
    kept = 0
    for assessor, target, tier, provisional, trace in rows:
        before = existing.get((assessor, target))
        if before is None:
            continue
        kept += before["override_tier"] is not None
        changes: dict[Any, Any] = {
            TierAssignment.run: run_id,
            TierAssignment.computed_tier: tier,
            TierAssignment.provisional: provisional,
            TierAssignment.rule_trace: trace,
        }
        if before["computed_tier"] != tier:  # a reviewer accepted another tier than this one
            changes |= {TierAssignment.accepted_by: None, TierAssignment.accepted_at: None}
        await TierAssignment.update(changes).where(TierAssignment.id == before["id"])
    ids = {
        (row["assessor"], row["target"]): row["id"]
        for row in await TierAssignment.select(
            TierAssignment.id, TierAssignment.assessor, TierAssignment.target
        ).where(TierAssignment.cycle == cycle_id)
    }
    await bulk_insert(
        TierEvent,
        ["assignment", "at", "kind", "tier", "reason", "actor"],
        [(ids[(a, t)], now, "computed", tier, trace, actor) for a, t, tier, _, trace in rows],
    )
    return TierSummary(computed=len(rows), overrides_kept=kept)
