"""Step 12 of the method: partnership tiers, with hysteresis and a readable rule trace.

Tiers decide who wins business, so a tier moves only on evidence: a promotion must
hold for two consecutive cycles, and a demotion needs either a clear miss (the
estimate a margin below the threshold) or two misses in a row. Every decision carries
the sentence that explains it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from scoring.config import Tiers

STRATEGIC, PREFERRED, APPROVED, WATCH = 1, 2, 3, 4
NAMES = {STRATEGIC: "Strategic", PREFERRED: "Preferred", APPROVED: "Approved", WATCH: "Watch"}


@dataclass(frozen=True)
class TierEvidence:
    """What one cycle's scores say about a partner (0–100 scores; NaN = not computable)."""

    index: float
    low: float
    high: float
    quality: float
    predictability: float
    n_raters: int
    scored_cycles: int
    """Cycles with a computable index, this one included."""
    declining: bool
    """The trend is a significant decline."""


@dataclass(frozen=True)
class TierDecision:
    """The rules' verdict for one partner and cycle."""

    candidate: int | None
    """The tier this cycle's evidence alone supports; None without an index (no evidence)."""
    tier: int
    """The tier assigned after hysteresis."""
    provisional: bool
    trace: str


def _num(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0f}"


def candidate_tier(e: TierEvidence, rules: Tiers) -> tuple[int, bool, list[str]]:
    """Return (tier, provisional, reasons) from this cycle's evidence alone.

    No index at all gives a provisional Approved. Otherwise Watch is checked first (a
    partner can be Watch on quality alone, whatever its index), then Strategic, then
    Preferred; Approved is the default. Fewer raters than Strategic asks only withhold
    Strategic and mark the tier provisional: the interval already carries the
    uncertainty of a small sample.
    """
    reasons = [f"RI {_num(e.index)} [{_num(e.low)}–{_num(e.high)}]"]
    if math.isnan(e.index):
        return APPROVED, True, [*reasons, "provisional: no index"]
    few = e.n_raters < rules.strategic_raters
    if not math.isnan(e.high) and e.high < rules.watch_upper_bound:
        return WATCH, few, [*reasons, f"upper bound {_num(e.high)} < {rules.watch_upper_bound:g}"]
    if not math.isnan(e.quality) and e.quality < rules.watch_quality:
        return WATCH, few, [*reasons, f"quality {_num(e.quality)} < {rules.watch_quality:g}"]
    if e.declining and e.index < rules.watch_decline_index:
        decline = f"significant decline to {_num(e.index)} < {rules.watch_decline_index:g}"
        return WATCH, few, [*reasons, decline]
    missing = []
    if not e.low >= rules.strategic_lower_bound:
        missing.append(f"lower bound {_num(e.low)} < {rules.strategic_lower_bound:g}")
    if not e.quality >= rules.strategic_quality:
        missing.append(f"quality {_num(e.quality)} < {rules.strategic_quality:g}")
    if not e.predictability >= rules.strategic_predictability:
        missing.append(
            f"predictability {_num(e.predictability)} < {rules.strategic_predictability:g}"
        )
    if e.scored_cycles < rules.strategic_cycles:
        missing.append(f"{e.scored_cycles} scored cycle(s) < {rules.strategic_cycles}")
    if few:
        missing.append(f"{e.n_raters} rater(s) < {rules.strategic_raters}")
    if not missing:
        return (
            STRATEGIC,
            False,
            [*reasons, f"lower bound {_num(e.low)} ≥ {rules.strategic_lower_bound:g}"],
        )
    if e.low >= rules.preferred_lower_bound:
        return (
            PREFERRED,
            few,
            [
                *reasons,
                f"lower bound {_num(e.low)} ≥ {rules.preferred_lower_bound:g}",
                f"Strategic not met: {'; '.join(missing)}",
            ],
        )
    lower = f"Preferred not met: lower bound {_num(e.low)} < {rules.preferred_lower_bound:g}"
    return APPROVED, few, [*reasons, lower]


def _clear_miss(previous: int, e: TierEvidence, rules: Tiers) -> bool:
    """Whether the evidence falls at least the demotion margin short of the previous tier."""
    margin = rules.demotion_margin
    if previous == STRATEGIC:
        return (
            e.low < rules.strategic_lower_bound - margin
            or e.quality < rules.strategic_quality - margin
        )
    if previous == PREFERRED:
        return e.low < rules.preferred_lower_bound - margin
    # Approved → Watch: the Watch criterion itself must be missed by the margin
    return (
        e.high < rules.watch_upper_bound - margin
        or e.quality < rules.watch_quality - margin
        or (e.declining and e.index < rules.watch_decline_index - margin)
    )


def tier_for(
    evidence: TierEvidence,
    rules: Tiers,
    previous_tier: int | None = None,
    previous_candidate: int | None = None,
    previous_overridden: bool = False,
) -> TierDecision:
    """Return the tier for this cycle, given the last tier in force and last candidate.

    Hysteresis: a promotion (a better candidate than the previous tier) is granted only
    if the previous cycle's candidate was at least as good; a demotion only on a clear
    miss (`_clear_miss`) or if the previous candidate was also below the previous tier.
    A first assessment takes the candidate as it is. Promotions and demotions move as
    far as the evidence supports in one step; noise alone cannot do that twice in a row.

    A promotion goes to the better tier that both cycles support: Approved last cycle
    and Preferred now promotes a Watch partner to Approved.

    A reviewer's override (`previous_overridden`) is the tier that was in force, and it
    also stands for last cycle's evidence: the reviewer knew something the answers did
    not. So the next cycle's rules start from it as from a tier held for a cycle (a
    promotion away from it must hold two cycles, a demotion needs a clear or a second
    miss), and the trace says so. The override is not carried further: a reviewer who
    still disagrees overrides again, with a new reason.
    """
    if previous_overridden:
        previous_candidate = previous_tier
    candidate, provisional, reasons = candidate_tier(evidence, rules)
    recorded = None if math.isnan(evidence.index) else candidate  # no index: no evidence
    body = "; ".join(reasons)
    was = (
        ""
        if previous_tier is None
        else NAMES[previous_tier] + (" (a reviewer's override)" if previous_overridden else "")
    )

    def moves(note: str | None = None) -> TierDecision:
        label = f"{NAMES[candidate]}{' (provisional)' if provisional else ''}"
        return TierDecision(
            recorded, candidate, provisional, f"{label}: {body}" + (f"; {note}" if note else "")
        )

    def stays(tier: int, note: str) -> TierDecision:
        return TierDecision(recorded, tier, provisional, f"{NAMES[tier]}: {body}; {note}")

    if previous_tier is None:
        return moves()
    if recorded is None:  # nothing moves without evidence
        return stays(previous_tier, f"stays {was}: no index this cycle")
    if candidate == previous_tier:
        return moves(f"as before, {was}" if previous_overridden else None)
    if candidate < previous_tier:  # better
        held = None if previous_candidate is None else max(previous_candidate, candidate)
        if held is not None and held < previous_tier:
            note = f"promoted from {was}: held for two cycles"
            if held != candidate:
                note += f" ({NAMES[candidate]} must hold for two cycles too)"
            return TierDecision(recorded, held, provisional, f"{NAMES[held]}: {body}; {note}")
        note = f"stays {was}: a promotion must hold for two consecutive cycles"
        return stays(previous_tier, note)
    if _clear_miss(previous_tier, evidence, rules):
        return moves(f"demoted from {was}: missed by at least {rules.demotion_margin:g}")
    if previous_candidate is not None and previous_candidate > previous_tier:
        return moves(f"demoted from {was}: second consecutive miss")
    return stays(previous_tier, f"stays {was}: first narrow miss (a demotion needs two)")


def assign_tiers(
    current: pd.DataFrame, previous: pd.DataFrame | None, rules: Tiers
) -> pd.DataFrame:
    """Return tier decisions for every row of `current`, given last cycle's decisions.

    `current` has the TierEvidence fields as columns plus `target`; `previous` (or None)
    has target, tier, candidate: each target's last decision, however many cycles ago,
    and optionally `overridden`: whether that tier was a reviewer's override.
    Rules are a handful of comparisons per partner; they run per row because each
    decision also writes its sentence.
    """
    before = previous.set_index("target") if previous is not None else pd.DataFrame()
    rows = []
    for row in current.itertuples(index=False):
        evidence = TierEvidence(
            index=float(row.index),
            low=float(row.low),
            high=float(row.high),
            quality=float(row.quality),
            predictability=float(row.predictability),
            n_raters=int(row.n_raters),
            scored_cycles=int(row.scored_cycles),
            declining=bool(row.declining),
        )
        last = before.loc[row.target] if row.target in before.index else None
        last_candidate = (
            None if last is None or pd.isna(last["candidate"]) else int(last["candidate"])
        )
        overridden = last is not None and bool(last.get("overridden", False))
        decision = tier_for(
            evidence,
            rules,
            None if last is None else int(last["tier"]),
            last_candidate,
            overridden,
        )
        rows.append(
            {
                "target": row.target,
                "candidate": decision.candidate,
                "tier": decision.tier,
                "provisional": decision.provisional,
                "tier_trace": decision.trace,
            }
        )
    return pd.DataFrame(rows, columns=["target", "candidate", "tier", "provisional", "tier_trace"])
