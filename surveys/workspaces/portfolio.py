"""A sponsor's portfolio: each site's tier, reliability index and movement, for one cycle.

The numbers are the sponsor's own view of each site (its raters, its CRO's included),
from the cycle's latest finished score run, beside the previous scored cycle's. Only
what the run marked as shown is read; a hidden cell stays empty and says why.
The sites are always those the policy put in reach: the query is scoped, never
filtered after the fact. The page's filters, sort and pages (surveys.workspaces.portfolio_view)
work on what was read here, so the page and its API twin show the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Count
from piccolo.query.methods.select import Select

from scoring.anonymity import peer_spread
from scoring.config import ScoringConfig
from scoring.trends import shown_change
from surveys.cycles.invitations import Invitation
from surveys.directory.organisations import Organisation, Relationship, TherapeuticArea
from surveys.results.score_runs import (
    TargetIndex,
    TrendArrow,
    run_config,
    shown_number,
    trend_of,
)
from surveys.results.tier_assignments import Tier, TierAssignment, tier_in_force
from surveys.workspaces.scored import CycleRun, cycle_runs

SiteIds = Select[Relationship]
"""The sites in reach, as a sub-select: a list of thousands of ids costs more to send."""


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
        """Points gained since the last cycle (`shown_change`), if both are shown."""
        return shown_change(self.index, self.previous_index)


MEASURES = ("reliability_index", "quality", "dependability", "speed", "cost")


@dataclass(frozen=True)
class Benchmark:
    """One measure of how sites see a sponsor, against the spread of its peers."""

    measure: str
    yours: float | None
    low: float | None
    """The group's lower quartile (`scoring.anonymity.peer_spread`); None when too few
    peers, or so few that only the median may be shown."""
    median: float | None
    """The group's median; None when too few peers."""
    high: float | None
    peers: int
    """Other sponsors and CROs with a shown value."""
    needed: int
    """Peers the run's configuration asks for before anything of their spread is shown."""


@dataclass(frozen=True)
class Portfolio:
    """A sponsor's sites in one scored cycle, as far as the viewer's reach goes."""

    sponsor_id: int
    sponsor: str
    """The sponsor's name."""
    cycle: str | None
    """The cycle shown; None before any cycle is scored."""
    previous_cycle: str | None
    rows: tuple[PortfolioRow, ...]
    """In the order the database returns them; `by_name` sorts them."""
    cycles: tuple[str, ...] = ()
    """Every scored cycle, newest first: the ones the page can switch to."""
    run: int | None = None
    """The score run the figures come from."""
    benchmark: tuple[Benchmark, ...] = ()
    """How sites see the sponsor against its peers; empty for a CRO's users, as it is the
    sponsor's own feedback."""

    @property
    def by_name(self) -> tuple[PortfolioRow, ...]:
        """The rows sorted by name (then slug), as the API lists them."""
        return tuple(sorted(self.rows, key=lambda r: (r.name.lower(), r.slug)))


@dataclass(frozen=True)
class _Site:
    """A site of the portfolio, as its relationship names it."""

    id: int
    slug: str
    name: str
    country: str | None
    network: str | None


@dataclass(frozen=True)
class _Index:
    """A site's stored index in one run, the sponsor's view of it."""

    reliability_index: float | None
    low: float | None
    high: float | None
    raters: int
    shown: bool
    trend_slope: float | None
    trend_p: float | None
    trend_shown: bool

    def trend(self, significance: float) -> TrendArrow:
        """The index's trend, unknown where the run hid it or the index itself."""
        if not self.shown or not self.trend_shown:
            return TrendArrow.unknown
        return trend_of(self.trend_slope, self.trend_p, significance)


@dataclass(frozen=True)
class _TierGiven:
    """The tier the sponsor gives a site in one cycle."""

    tier: Tier | None
    """In force: the override, else the computed tier."""
    overridden: bool
    provisional: bool


async def portfolio(
    sponsor_id: int, sites: frozenset[int] | None, cycle_key: str | None
) -> Portfolio:
    """Return a sponsor's portfolio for a cycle (the latest scored one by default).

    `sites` are the sites in the viewer's reach (None: all of the sponsor's, and then the
    peer benchmark too: how sites see the sponsor is for the sponsor's own people, not a
    CRO's, who reach part of the portfolio).
    """
    sponsor = (
        await Organisation.select(Organisation.name).where(Organisation.id == sponsor_id).first()
    )
    cycles = await cycle_runs()
    keys = [c.key for c in cycles]
    at = keys.index(cycle_key) if cycle_key in keys else 0
    current = cycles[at] if cycles else None
    previous = cycles[at + 1] if current and at + 1 < len(cycles) else None
    scope: Combinable = (Relationship.sponsor == sponsor_id) & Relationship.active.eq(True)
    if sites is not None:
        scope &= Relationship.site.is_in(list(sites) or [-1])
    site_ids = Relationship.select(Relationship.site).where(scope)
    rows = await _rows(scope, site_ids, sponsor_id, current, previous)
    run = current.run if current else None
    return Portfolio(
        sponsor_id,
        sponsor["name"] if sponsor else "?",
        current.key if current else None,
        previous.key if previous else None,
        rows,
        tuple(keys),
        run,
        await peer_benchmark(sponsor_id, run) if sites is None else (),
    )


async def _rows(
    scope: Combinable,
    site_ids: SiteIds,
    sponsor_id: int,
    current: CycleRun | None,
    previous: CycleRun | None,
) -> tuple[PortfolioRow, ...]:
    """Each site in scope with its figures in the current cycle, beside the previous one."""
    relationships = await _sites(scope)
    areas = await _areas(site_ids)
    now_index = await _indices(current, sponsor_id, site_ids)
    significance = (
        (await run_config(current.run)).trend.significance
        if current
        else ScoringConfig().trend.significance
    )
    then_index = await _indices(previous, sponsor_id, site_ids)
    now_tier = await _tiers(current, sponsor_id, site_ids)
    rates = await _response_rates(current, sponsor_id, site_ids)
    then_tier = await _tiers(previous, sponsor_id, site_ids)
    found = []
    for site in relationships:
        index = now_index.get(site.id)
        before = then_index.get(site.id)
        tier = now_tier.get(site.id)
        then = then_tier.get(site.id)
        shown = index is not None and index.shown
        found.append(
            PortfolioRow(
                site_id=site.id,
                slug=site.slug,
                name=site.name,
                country=site.country,
                network=site.network,
                areas=tuple(sorted(areas.get(site.id, []))),
                tier=tier.tier if tier else None,
                previous_tier=then.tier if then else None,
                overridden=tier is not None and tier.overridden,
                provisional=tier is not None and tier.provisional,
                index=index.reliability_index if index and shown else None,
                low=index.low if index and shown else None,
                high=index.high if index and shown else None,
                raters=index.raters if index else 0,
                shown=shown,
                previous_index=before.reliability_index if before and before.shown else None,
                trend=index.trend(significance) if index else TrendArrow.unknown,
                response_rate=rates.get(site.id),
            )
        )
    return tuple(found)


async def _sites(scope: Combinable) -> list[_Site]:
    """The sites of the relationships in scope, with their country and network."""
    rows = await Relationship.select(
        Relationship.site._.id.as_alias("id"),
        Relationship.site._.slug.as_alias("slug"),
        Relationship.site._.name.as_alias("name"),
        Relationship.site._.country.as_alias("country"),
        Relationship.site._.network._.name.as_alias("network"),
    ).where(scope)
    return [_Site(r["id"], r["slug"], r["name"], r["country"], r["network"]) for r in rows]


async def _areas(site_ids: SiteIds) -> dict[int, list[str]]:
    """Each site's therapeutic areas."""
    areas: dict[int, list[str]] = {}
    rows = await TherapeuticArea.select(TherapeuticArea.organisation, TherapeuticArea.area).where(
        TherapeuticArea.organisation.is_in(site_ids)
    )
    for row in rows:
        areas.setdefault(row["organisation"], []).append(row["area"])
    return areas


async def _indices(cycle: CycleRun | None, sponsor_id: int, site_ids: SiteIds) -> dict[int, _Index]:
    """Per site, the sponsor's view of it in the cycle's run (none before any cycle)."""
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
        (TargetIndex.run == cycle.run)
        & (TargetIndex.rater_organisation == sponsor_id)
        & TargetIndex.target.is_in(site_ids)
    )
    return {
        r["target"]: _Index(
            shown_number(r["reliability_index"]),
            shown_number(r["ri_low"]),
            shown_number(r["ri_high"]),
            int(r["n_raters"] or 0),
            bool(r["shown"]),
            shown_number(r["trend_slope"]),
            shown_number(r["trend_p"]),
            bool(r["trend_shown"]),
        )
        for r in rows
    }


async def _tiers(
    cycle: CycleRun | None, sponsor_id: int, site_ids: SiteIds
) -> dict[int, _TierGiven]:
    """Per site, the tier the sponsor gives it in the cycle (none before any cycle)."""
    if cycle is None:
        return {}
    rows = await TierAssignment.select(
        TierAssignment.target,
        TierAssignment.computed_tier,
        TierAssignment.override_tier,
        TierAssignment.provisional,
    ).where(
        (TierAssignment.cycle == cycle.id)
        & (TierAssignment.assessor == sponsor_id)
        & TierAssignment.target.is_in(site_ids)
    )
    return {
        r["target"]: _TierGiven(
            tier_in_force(r), r["override_tier"] is not None, bool(r["provisional"])
        )
        for r in rows
    }


async def _response_rates(
    cycle: CycleRun | None, sponsor_id: int, site_ids: SiteIds
) -> dict[int, float]:
    """Per site, the share of the sponsor's invited raters (its CRO's included) who submitted."""
    if cycle is None:
        return {}
    rows = (
        await Invitation.select(
            Invitation.target, Invitation.status, Count(Invitation.id, alias="n")
        )
        .where(
            (Invitation.cycle == cycle.id)
            & (Invitation.relationship._.sponsor == sponsor_id)
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


@dataclass(frozen=True)
class _Pooled:
    """A sponsor's or CRO's pooled scores in a run: how all its sites see it."""

    target: int
    shown: bool
    measures: dict[str, float | None]
    """Each of MEASURES."""


async def peer_benchmark(sponsor_id: int, run_id: int | None) -> tuple[Benchmark, ...]:
    """How all sites see this sponsor (pooled over its raters) in a run, against anonymised peers.

    Peers are the other sponsors and CROs whose pooled scores the run shows; never named,
    they appear only in the spread `peer_spread` allows, of the whole group (the sponsor
    among them), the same figures every member of the group reads.
    """
    if run_id is None:
        return ()
    needed = (await run_config(run_id)).anonymity.peers
    rows = await TargetIndex.select(
        TargetIndex.target, TargetIndex.shown, *(getattr(TargetIndex, m) for m in MEASURES)
    ).where(
        (TargetIndex.run == run_id)
        & TargetIndex.rater_organisation.is_null()
        & TargetIndex.target._.kind.is_in(["sponsor", "cro"])
    )
    pooled = [
        _Pooled(int(r["target"]), bool(r["shown"]), {m: shown_number(r[m]) for m in MEASURES})
        for r in rows
    ]
    group = [p for p in pooled if p.shown]
    own = next((p for p in group if p.target == sponsor_id), None)
    found = []
    for measure in MEASURES:
        values = [v for p in group if (v := p.measures[measure]) is not None]
        yours = own.measures[measure] if own else None
        spread = peer_spread(values, needed)
        found.append(
            Benchmark(
                measure=measure,
                yours=yours,
                low=spread.low if spread else None,
                median=spread.median if spread else None,
                high=spread.high if spread else None,
                peers=len(values) - (1 if yours is not None else 0),
                needed=needed,
            )
        )
    return tuple(found)
