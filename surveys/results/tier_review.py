"""Tier review: a person accepts the computed tiers or overrides one with a reason; publishing
freezes them.

Every override, every return to the computed tier and every publication is an event in
the tier's history and an entry in the audit log, written in the same transaction as the
change. Accepting a computed tier changes no tier, so it is no event in the history; it is
kept on the assignment (who, when) and audited, one entry per site. A published cycle's
tiers never change again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.custom_types import Combinable

from surveys.cycles.cycle import Cycle, CycleRecord, CycleStatus, check_transition, cycle_by_key
from surveys.directory.audit import Act, record
from surveys.directory.organisations import Organisation
from surveys.infra.database import lock_row, writing_transaction
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_
from surveys.results.score_runs import scored_cycles
from surveys.results.tier_assignments import Tier, TierAssignment, TierEvent, stored_tier

REASON_LIMIT = 2000
"""Characters an override's reason may have."""


class TierReviewError(RapportError, ValueError):
    """A review step that cannot be taken; the message says why."""


NOT_IN_REVIEW = N_("this site is not in this cycle's review")
"""The refusal of a change to a site the review does not hold, whether the site exists
elsewhere or not at all: the answer must not tell a reviewer which sites exist."""

NOT_SCORED = {
    CycleStatus.draft.value: N_(
        "cycle %(cycle)s is draft: only a scored cycle's tiers are reviewed"
    ),
    CycleStatus.open.value: N_("cycle %(cycle)s is open: only a scored cycle's tiers are reviewed"),
    CycleStatus.closed.value: N_(
        "cycle %(cycle)s is closed: only a scored cycle's tiers are reviewed"
    ),
}
"""The refusal of a review in a cycle not scored yet, one message for each status (so the
status is said in the reader's language)."""


@dataclass(frozen=True)
class ReviewRow:
    """One site's tier under review."""

    site_id: int
    slug: str
    name: str
    computed: Tier
    override: Tier | None
    reason: str | None
    overridden_by: str | None
    previous: Tier | None
    provisional: bool
    trace: str
    accepted_by: str | None = None
    """Who accepted the computed tier (None from a command, or not accepted)."""
    accepted_at: dt.datetime | None = None
    """When the computed tier was accepted; None: not accepted."""

    @property
    def in_force(self) -> Tier:
        return self.override or self.computed

    @property
    def accepted(self) -> bool:
        """A reviewer accepted the computed tier (an override, set later, supersedes it)."""
        return self.override is None and self.accepted_at is not None

    @property
    def reviewed(self) -> bool:
        """A reviewer accepted the computed tier or set another."""
        return self.override is not None or self.accepted


@dataclass(frozen=True)
class Review:
    """A cycle's tiers under review for one sponsor."""

    cycle: str
    status: str
    previous_cycle: str | None
    rows: tuple[ReviewRow, ...]

    @property
    def reviewed(self) -> int:
        """Sites whose tier a reviewer accepted or set."""
        return sum(1 for row in self.rows if row.reviewed)

    @property
    def unreviewed(self) -> tuple[ReviewRow, ...]:
        """The computed tiers no reviewer has accepted or overridden yet: what "accept all"
        accepts."""
        return tuple(row for row in self.rows if not row.reviewed)

    @property
    def frozen(self) -> bool:
        """A published cycle's tiers can no longer change."""
        return self.status == CycleStatus.published


async def tier_review(
    cycle_key: str, sponsor_id: int, previous_key: str | None, sites: frozenset[int] | None
) -> Review:
    """The tiers a sponsor gives its sites in a cycle, beside the previous cycle's in force."""
    cycle = await cycle_by_key(cycle_key, TierReviewError)
    scope = (TierAssignment.cycle == cycle.id) & (TierAssignment.assessor == sponsor_id)
    if sites is not None:
        scope &= TierAssignment.target.is_in(list(sites) or [-1])
    rows = (
        await TierAssignment.select(
            TierAssignment.target._.id.as_alias("site_id"),
            TierAssignment.target._.slug.as_alias("slug"),
            TierAssignment.target._.name.as_alias("name"),
            TierAssignment.computed_tier,
            TierAssignment.override_tier,
            TierAssignment.override_reason,
            TierAssignment.overridden_by._.name.as_alias("by"),
            TierAssignment.provisional,
            TierAssignment.rule_trace,
            TierAssignment.accepted_by._.name.as_alias("accepted_by"),
            TierAssignment.accepted_at,
        )
        .where(scope)
        .order_by(TierAssignment.target._.name)
    )
    before: dict[int, Tier] = {}
    if previous_key:
        for row in await TierAssignment.select(
            TierAssignment.target, TierAssignment.computed_tier, TierAssignment.override_tier
        ).where(
            (TierAssignment.cycle._.key == previous_key) & (TierAssignment.assessor == sponsor_id)
        ):
            before[row["target"]] = stored_tier(row)
    return Review(
        cycle_key,
        cycle.status,
        previous_key,
        tuple(
            ReviewRow(
                r["site_id"],
                r["slug"],
                r["name"],
                Tier(r["computed_tier"]),
                Tier(r["override_tier"]) if r["override_tier"] else None,
                r["override_reason"],
                r["by"],
                before.get(r["site_id"]),
                bool(r["provisional"]),
                r["rule_trace"],
                r["accepted_by"],
                r["accepted_at"],
            )
            for r in rows
        ),
    )


async def set_override(
    cycle_key: str,
    sponsor_id: int,
    site_id: int,
    tier: Tier | None,
    reason: str,
    act: Act,
) -> None:
    """Override a computed tier with a written reason, or (tier None) return to the computed one."""
    reason = reason.strip()
    if tier is not None and not reason:
        raise TierReviewError(
            N_("an override needs a reason: say why this tier and not the computed one")
        )
    if len(reason) > REASON_LIMIT:
        raise TierReviewError(
            N_("please keep the reason under %(limit)s characters"), limit=REASON_LIMIT
        )
    async with writing_transaction(TierAssignment._meta.db):
        cycle = await _unpublished(cycle_key)
        assignment = (
            await TierAssignment.select(
                TierAssignment.id, TierAssignment.computed_tier, TierAssignment.override_tier
            )
            .where(
                (TierAssignment.cycle == cycle.id)
                & (TierAssignment.assessor == sponsor_id)
                & (TierAssignment.target == site_id)
            )
            .first()
        )
        if assignment is None:
            raise TierReviewError(NOT_IN_REVIEW)
        await lock_row(TierAssignment, assignment["id"])
        await TierAssignment.update(
            {
                TierAssignment.override_tier: int(tier) if tier else None,
                TierAssignment.override_reason: reason if tier else None,
                TierAssignment.overridden_by: act.person_id if tier else None,
                TierAssignment.overridden_at: act.at if tier else None,
                # returning to the computed tier is accepting it; an override supersedes
                TierAssignment.accepted_by: None if tier else act.person_id,
                TierAssignment.accepted_at: None if tier else act.at,
            }
        ).where(TierAssignment.id == assignment["id"])
        kind = "override" if tier else "cleared"
        await TierEvent.insert(
            TierEvent(
                assignment=assignment["id"],
                at=act.at,
                kind=kind,
                tier=int(tier) if tier else assignment["computed_tier"],
                reason=reason or None,
                actor=act.actor,
            )
        )
        site = (
            await Organisation.select(Organisation.slug).where(Organisation.id == site_id).first()
        )
        await record(
            act.actor,
            f"tier.{kind}",
            "tier_assignment",
            assignment["id"],
            {
                "cycle": cycle_key,
                "site": site["slug"] if site else site_id,
                "computed": assignment["computed_tier"],
                "tier": int(tier) if tier else None,
                "was": assignment["override_tier"],
                "reason": reason or None,
            },
            act.person_id,
        )


async def accept_tier(cycle_key: str, sponsor_id: int, site_id: int, act: Act) -> int:
    """Accept one site's computed tier as it stands; returns 1, or 0 if it was accepted
    already (a second click changes nothing and audits nothing)."""
    async with writing_transaction(TierAssignment._meta.db):
        cycle = await _unpublished(cycle_key)
        found = await _acceptable(
            (TierAssignment.cycle == cycle.id)
            & (TierAssignment.assessor == sponsor_id)
            & (TierAssignment.target == site_id)
        )
        if not found:
            raise TierReviewError(NOT_IN_REVIEW)
        (row,) = found
        if row["override_tier"] is not None:
            raise TierReviewError(
                N_(
                    "%(site)s's tier is overridden: to accept the computed tier, choose it and save"
                ),
                site=row["name"],
            )
        if row["accepted_at"] is not None:
            return 0
        return await _accept(cycle_key, found, act)


async def accept_all(
    cycle_key: str, sponsor_id: int, sites: frozenset[int] | None, expected: int | None, act: Act
) -> int:
    """Accept every computed tier of the sponsor's `sites` (None: all) that no reviewer has
    accepted or overridden; returns how many. One transaction, one audit entry per site.

    `expected` is the count the reviewer confirmed: if the review changed since (another
    reviewer, a re-scoring), nothing is accepted, so no one accepts tiers they did not see.
    """
    async with writing_transaction(TierAssignment._meta.db):
        cycle = await _unpublished(cycle_key)
        scope = (TierAssignment.cycle == cycle.id) & (TierAssignment.assessor == sponsor_id)
        if sites is not None:
            scope &= TierAssignment.target.is_in(list(sites) or [-1])
        found = [
            row
            for row in await _acceptable(scope)
            if row["override_tier"] is None and row["accepted_at"] is None
        ]
        if expected is not None and len(found) != expected:
            raise TierReviewError(
                N_(
                    "the review changed since you looked: %(now)s tier(s) await review now, "
                    "not %(expected)s; nothing was accepted"
                ),
                now=len(found),
                expected=expected,
            )
        return await _accept(cycle_key, found, act)


async def _acceptable(scope: Combinable) -> list[dict[str, Any]]:
    """The assignments in scope, with what accepting them needs to know and to audit."""
    rows: list[dict[str, Any]] = await TierAssignment.select(
        TierAssignment.id,
        TierAssignment.target._.slug.as_alias("site"),
        TierAssignment.target._.name.as_alias("name"),
        TierAssignment.computed_tier,
        TierAssignment.override_tier,
        TierAssignment.accepted_at,
    ).where(scope)
    return rows


async def _accept(cycle_key: str, rows: list[dict[str, Any]], act: Act) -> int:
    """Mark the assignments accepted by `act` and audit each; inside the caller's transaction."""
    for row in rows:
        await lock_row(TierAssignment, row["id"])
    if rows:
        await TierAssignment.update(
            {TierAssignment.accepted_by: act.person_id, TierAssignment.accepted_at: act.at}
        ).where(TierAssignment.id.is_in([row["id"] for row in rows]))
    for row in rows:
        await record(
            act.actor,
            "tier.accept",
            "tier_assignment",
            row["id"],
            {"cycle": cycle_key, "site": row["site"], "computed": row["computed_tier"]},
            act.person_id,
        )
    return len(rows)


async def review_in_cycle(
    sponsor_id: int, cycle_key: str | None, sites: frozenset[int] | None
) -> tuple[Review, tuple[str, ...]] | None:
    """A sponsor's tier review in a scored cycle (the latest if the key is not one), beside
    the cycle before it; with every scored cycle's key, newest first. None before any."""
    cycles = tuple(str(c["key"]) for c in await scored_cycles())
    if not cycles:
        return None
    key = cycle_key if cycle_key in cycles else cycles[0]
    at = cycles.index(key)
    previous = cycles[at + 1] if at + 1 < len(cycles) else None
    return await tier_review(key, sponsor_id, previous, sites), cycles


@dataclass(frozen=True)
class AssessorTiers:
    """The tiers one assessor (a sponsor, or a network) gives in a cycle, as publishing
    would freeze them."""

    assessor: str
    slug: str
    kind: str
    tiers: int
    overridden: int
    """Tiers a reviewer set by hand (the rest freeze as computed)."""
    provisional: int


@dataclass(frozen=True)
class PublicationPreview:
    """What publishing a cycle would freeze, and for whom: the confirmation's words."""

    cycle: str
    status: str
    assessors: tuple[AssessorTiers, ...]

    @property
    def tiers(self) -> int:
        """Tiers in all."""
        return sum(a.tiers for a in self.assessors)


async def publication_preview(cycle_key: str) -> PublicationPreview:
    """Every assessor's tiers a publication of the cycle would freeze, by name."""
    cycle = await cycle_by_key(cycle_key, TierReviewError)
    rows = await TierAssignment.select(
        TierAssignment.assessor._.name.as_alias("assessor"),
        TierAssignment.assessor._.slug.as_alias("slug"),
        TierAssignment.assessor._.kind.as_alias("kind"),
        TierAssignment.override_tier,
        TierAssignment.provisional,
    ).where(TierAssignment.cycle == cycle.id)
    found: dict[tuple[str, str, str], list[int]] = {}
    for row in rows:
        counts = found.setdefault((row["assessor"], row["slug"], row["kind"]), [0, 0, 0])
        counts[0] += 1
        counts[1] += row["override_tier"] is not None
        counts[2] += bool(row["provisional"])
    return PublicationPreview(
        cycle_key,
        cycle.status,
        tuple(
            AssessorTiers(name, slug, kind, *counts)
            for (name, slug, kind), counts in sorted(found.items())
        ),
    )


async def publish_cycle(cycle_key: str, act: Act) -> int:
    """Publish a scored cycle: its tiers freeze and its scorecards become visible. Returns
    how many tiers were published."""
    async with writing_transaction(Cycle._meta.db):
        cycle = await cycle_by_key(cycle_key, TierReviewError)
        await lock_row(Cycle, cycle.id)
        check_transition(cycle.status, CycleStatus.published)
        await Cycle.update(
            {Cycle.status: CycleStatus.published.value, Cycle.status_changed_at: act.at}
        ).where(Cycle.id == cycle.id)
        assignments = await TierAssignment.select(
            TierAssignment.id, TierAssignment.computed_tier, TierAssignment.override_tier
        ).where(TierAssignment.cycle == cycle.id)
        for row in assignments:
            await TierEvent.insert(
                TierEvent(
                    assignment=row["id"],
                    at=act.at,
                    kind="published",
                    tier=int(stored_tier(row)),
                    actor=act.actor,
                )
            )
        await record(
            act.actor,
            "cycle.publish",
            "cycle",
            cycle.id,
            {"cycle": cycle_key, "tiers": len(assignments)},
            act.person_id,
        )
    return len(assignments)


async def _unpublished(cycle_key: str) -> CycleRecord:
    cycle = await cycle_by_key(cycle_key, TierReviewError)
    await lock_row(Cycle, cycle.id, shared=True)
    current = await Cycle.select(Cycle.status).where(Cycle.id == cycle.id).first()
    status = current["status"] if current else None  # read again under the lock
    if status == CycleStatus.published:
        raise TierReviewError(
            N_("cycle %(cycle)s is published: its tiers are final"), cycle=cycle_key
        )
    if status != CycleStatus.scored:
        raise TierReviewError(
            NOT_SCORED.get(
                str(status),
                N_("cycle %(cycle)s is %(status)s: only a scored cycle's tiers are reviewed"),
            ),
            cycle=cycle_key,
            status=status,
        )
    return cycle


async def publish_all_but_latest(actor: str, now: dt.datetime) -> list[str]:
    """Publish every scored cycle but the latest, oldest first; returns their keys.

    The demo's starting point: sites have published results and review meetings to
    look at, and the latest cycle waits for its tier review.
    """
    waiting = [str(c["key"]) for c in await scored_cycles((CycleStatus.scored.value,))]
    latest = await scored_cycles()
    keys = [k for k in reversed(waiting) if latest and k != latest[0]["key"]]
    for key in keys:
        await publish_cycle(key, Act(actor, now))
    return keys
