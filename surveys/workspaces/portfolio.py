"""A sponsor's portfolio: each site's tier, reliability index and movement, for one cycle.

The numbers are the sponsor's own view of each site (its raters, its CRO's included),
from the cycle's latest finished score run, beside the previous scored cycle's. Only
what the run marked as shown is read; a hidden cell stays empty and says why.
The sites are always those the policy put in reach: the query is scoped, never
filtered after the fact.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count
from piccolo.query.methods.select import Select

from scoring.anonymity import PEERS_NEEDED
from scoring.config import ScoringConfig
from surveys.cycles.invitations import Invitation
from surveys.directory.organisations import Organisation, Relationship, TherapeuticArea
from surveys.results.score_runs import (
    TargetIndex,
    TrendArrow,
    run_config,
    scored_cycles,
    trend_of,
)
from surveys.results.tier_assignments import Tier, TierAssignment, tier_in_force


@dataclass(frozen=True)
class PortfolioRow:
    """One site in a sponsor's portfolio."""

    site_id: int
    slug: str
    name: str
    country: str | None
    network: str | None
    areas: tuple[str, ...]
    tier: Tier | None
    """In force: a reviewer's override, else the computed tier."""
    previous_tier: Tier | None
    overridden: bool
    provisional: bool
    index: float | None
    low: float | None
    high: float | None
    raters: int
    shown: bool
    previous_index: float | None
    trend: TrendArrow
    response_rate: float | None

    @property
    def movement(self) -> int | None:
        """Tiers gained since the last cycle (positive is better), if both are known."""
        if self.tier is None or self.previous_tier is None:
            return None
        return int(self.previous_tier) - int(self.tier)

    @property
    def index_change(self) -> int | None:
        """Points gained since the last cycle, as shown (whole points), if both are shown."""
        if self.index is None or self.previous_index is None:
            return None
        return round(self.index) - round(self.previous_index)


@dataclass(frozen=True)
class Portfolio:
    sponsor_id: int
    sponsor: str
    cycle: str | None
    previous_cycle: str | None
    rows: tuple[PortfolioRow, ...]
    cycles: tuple[str, ...] = ()
    """Every scored cycle, newest first: the ones the page can switch to."""
    run: int | None = None
    """The score run the figures come from."""


async def portfolio(
    sponsor_id: int, sites: frozenset[int] | None, cycle_key: str | None
) -> Portfolio:
    """Return a sponsor's portfolio for a cycle (the latest scored one by default).

    `sites` are the sites in the viewer's reach (None: all of the sponsor's).
    """
    sponsor = (
        await Organisation.select(Organisation.name).where(Organisation.id == sponsor_id).first()
    )
    cycles = await scored_cycles()
    keys = [str(c["key"]) for c in cycles]
    at = keys.index(cycle_key) if cycle_key in keys else 0
    current = cycles[at] if cycles else None
    previous = cycles[at + 1] if current and at + 1 < len(cycles) else None
    scope = (Relationship.sponsor == sponsor_id) & Relationship.active.eq(True)
    if sites is not None:
        scope &= Relationship.site.is_in(list(sites) or [-1])
    relationships = await Relationship.select(
        Relationship.site.id.as_alias("id"),
        Relationship.site.slug.as_alias("slug"),
        Relationship.site.name.as_alias("name"),
        Relationship.site.country.as_alias("country"),
        Relationship.site.network.name.as_alias("network"),
    ).where(scope)
    # the sites in reach as a sub-select: a list of thousands of ids costs more to send
    site_ids = Relationship.select(Relationship.site).where(scope)
    areas: dict[int, list[str]] = {}
    area_rows = await TherapeuticArea.select(
        TherapeuticArea.organisation, TherapeuticArea.area
    ).where(TherapeuticArea.organisation.is_in(site_ids))
    for row in area_rows:
        areas.setdefault(row["organisation"], []).append(row["area"])
    now_index = await _indices(current, sponsor_id, site_ids)
    significance = (
        (await run_config(int(str(current["run"])))).trend.significance
        if current
        else ScoringConfig().trend.significance
    )
    then_index = await _indices(previous, sponsor_id, site_ids)
    now_tier = await _tiers(current, sponsor_id, site_ids)
    rates = await _response_rates(current, sponsor_id, site_ids)
    then_tier = await _tiers(previous, sponsor_id, site_ids)
    rows = []
    for site in relationships:
        index = now_index.get(site["id"], {})
        before = then_index.get(site["id"], {})
        tier = now_tier.get(site["id"], {})
        shown = bool(index.get("shown"))
        previous_tier = tier_in_force(then_tier.get(site["id"]))
        rows.append(
            PortfolioRow(
                site_id=site["id"],
                slug=site["slug"],
                name=site["name"],
                country=site["country"],
                network=site["network"],
                areas=tuple(sorted(areas.get(site["id"], []))),
                tier=tier_in_force(tier),
                previous_tier=previous_tier,
                overridden=tier.get("override_tier") is not None,
                provisional=bool(tier.get("provisional")),
                index=index.get("reliability_index") if shown else None,
                low=index.get("ri_low") if shown else None,
                high=index.get("ri_high") if shown else None,
                raters=int(index.get("n_raters") or 0),
                shown=shown,
                previous_index=before.get("reliability_index") if before.get("shown") else None,
                trend=_trend(index, significance) if shown else TrendArrow.unknown,
                response_rate=rates.get(site["id"]),
            )
        )
    return Portfolio(
        sponsor_id,
        sponsor["name"] if sponsor else "?",
        str(current["key"]) if current else None,
        str(previous["key"]) if previous else None,
        tuple(rows),
        tuple(keys),
        int(str(current["run"])) if current else None,
    )


async def _indices(
    cycle: dict[str, object] | None, sponsor_id: int, site_ids: Select
) -> dict[int, dict[str, object]]:
    if cycle is None:
        return {}
    rows = await TargetIndex.select(
        TargetIndex.target,
        TargetIndex.reliability_index,
        TargetIndex.ri_low,
        TargetIndex.ri_high,
        TargetIndex.n_raters,
        TargetIndex.shown,
        TargetIndex.trend_slope,
        TargetIndex.trend_p,
        TargetIndex.trend_shown,
    ).where(
        (TargetIndex.run == cycle["run"])
        & (TargetIndex.rater_organisation == sponsor_id)
        & TargetIndex.target.is_in(site_ids)
    )
    return {r["target"]: r for r in rows}


async def _tiers(
    cycle: dict[str, object] | None, sponsor_id: int, site_ids: Select
) -> dict[int, dict[str, object]]:
    if cycle is None:
        return {}
    rows = await TierAssignment.select(
        TierAssignment.target,
        TierAssignment.computed_tier,
        TierAssignment.override_tier,
        TierAssignment.provisional,
    ).where(
        (TierAssignment.cycle == cycle["id"])
        & (TierAssignment.assessor == sponsor_id)
        & TierAssignment.target.is_in(site_ids)
    )
    return {r["target"]: r for r in rows}


async def _response_rates(
    cycle: dict[str, object] | None, sponsor_id: int, site_ids: Select
) -> dict[int, float]:
    """Per site, the share of the sponsor's invited raters (its CRO's included) who submitted."""
    if cycle is None:
        return {}
    rows = (
        await Invitation.select(
            Invitation.target, Invitation.status, Count(Invitation.id, alias="n")
        )
        .where(
            (Invitation.cycle == cycle["id"])
            & (Invitation.relationship.sponsor == sponsor_id)
            & Invitation.target.is_in(site_ids)
        )
        .group_by(Invitation.target, Invitation.status)
    )
    invited: dict[int, int] = {}
    submitted: dict[int, int] = {}
    for row in rows:
        invited[row["target"]] = invited.get(row["target"], 0) + row["n"]
        if row["status"] == "submitted":
            submitted[row["target"]] = row["n"]
    return {site: submitted.get(site, 0) / n for site, n in invited.items()}


def _trend(index: dict[str, Any], significance: float) -> TrendArrow:
    """A stored index's trend, unknown where the run hid it."""
    if not index.get("trend_shown"):
        return TrendArrow.unknown
    return trend_of(index.get("trend_slope"), index.get("trend_p"), significance)


MEASURES = ("reliability_index", "quality", "dependability", "speed", "cost")


@dataclass(frozen=True)
class Benchmark:
    """One measure of how sites see a sponsor, against the spread of its peers."""

    measure: str
    yours: float | None
    low: float | None
    """Peers' lower quartile, median and upper quartile; None when too few peers."""
    median: float | None
    high: float | None
    peers: int


async def peer_benchmark(sponsor_id: int, run_id: int | None) -> tuple[Benchmark, ...]:
    """How all sites see this sponsor (pooled over its raters) in a run, against anonymised peers.

    Peers are the other sponsors and CROs whose pooled scores the run shows; they appear
    only as quartiles, never by name, and only when at least PEERS_NEEDED contribute.
    """
    if run_id is None:
        return ()
    rows = await TargetIndex.select(
        TargetIndex.target, TargetIndex.shown, *(getattr(TargetIndex, m) for m in MEASURES)
    ).where(
        (TargetIndex.run == run_id)
        & TargetIndex.rater_organisation.is_null()
        & TargetIndex.target.kind.is_in(["sponsor", "cro"])
    )
    own = next((r for r in rows if r["target"] == sponsor_id and r["shown"]), None)
    peers = [r for r in rows if r["target"] != sponsor_id and r["shown"]]
    found = []
    for measure in MEASURES:
        values = sorted(float(r[measure]) for r in peers if r[measure] is not None)
        enough = len(values) >= PEERS_NEEDED
        q = statistics.quantiles(values, n=4, method="inclusive") if enough else None
        yours = float(own[measure]) if own and own[measure] is not None else None
        low, median, high = (q[0], q[1], q[2]) if q else (None, None, None)
        found.append(Benchmark(measure, yours, low, median, high, len(values)))
    return tuple(found)
