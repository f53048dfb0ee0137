"""What the workspace API answers: its msgspec schemas (named in the OpenAPI document, so
their names and docstrings are part of the API) and how each domain row becomes one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from surveys.results.tier_review import ReviewRow
from surveys.workspaces.institution_trends import IndexMover, Trends
from surveys.workspaces.meeting_pack import Action
from surveys.workspaces.portfolio import Portfolio, PortfolioRow
from surveys.workspaces.site_view import Rating, SitePage


class PortfolioSite(msgspec.Struct):
    slug: str
    name: str
    country: str | None
    network: str | None
    areas: list[str]
    tier: int | None
    previous_tier: int | None
    tier_reviewed: bool
    provisional: bool
    reliability_index: float | None
    """Null when the cell has too few responses to be shown."""
    ri_low: float | None
    ri_high: float | None
    raters: int
    previous_index: float | None
    index_change: int | None
    """The change since the previous cycle as every page prints it: the difference of the
    two indices, rounded once (`scoring.trends.shown_change`)."""
    trend: str
    response_rate: float | None


class BenchmarkRow(msgspec.Struct):
    """How sites see the sponsor on one measure, against its peers' spread: the whole
    group's quartiles in whole points, the median alone for a group too small for three
    figures, nothing (null) with fewer peers than the run's minimum
    (scoring.anonymity.peer_spread)."""

    measure: str
    yours: float | None
    peers_lower_quartile: float | None
    peers_median: float | None
    peers_upper_quartile: float | None
    peers: int


class PortfolioPage(msgspec.Struct):
    sponsor: str
    cycle: str | None
    previous_cycle: str | None
    total: int
    page: int
    per_page: int
    sites: list[PortfolioSite]
    benchmark: list[BenchmarkRow]
    """Empty for a CRO's users, as on the page."""


class TierRow(msgspec.Struct):
    slug: str
    name: str
    computed_tier: int
    previous_tier: int | None
    tier_in_force: int
    reviewed: bool
    """Accepted or overridden, as the page counts "with a reviewed tier"."""
    reason: str | None
    provisional: bool
    rule_trace: str
    overridden: bool
    accepted_by: str | None
    accepted_at: dt.datetime | None
    """When the computed tier was accepted; null: not accepted (or overridden)."""


class UntieredSite(msgspec.Struct):
    slug: str
    name: str
    reason: str


class TierReviewPage(msgspec.Struct):
    cycle: str
    status: str
    previous_cycle: str | None
    total: int
    page: int
    per_page: int
    sites: list[TierRow]
    untiered: list[UntieredSite]
    """The portfolio's sites without a computed tier this cycle, and why."""


class NetworkSite(msgspec.Struct):
    site: str
    reliability_index: float | None
    ri_low: float | None
    ri_high: float | None
    raters: int | None


class NetworkOut(msgspec.Struct):
    network: str
    cycle: str | None
    sites: list[NetworkSite]


class Mover(msgspec.Struct):
    slug: str
    name: str
    before: float
    now: float
    change: float
    change_low: float
    change_high: float
    significant: bool


class RollUpPoint(msgspec.Struct):
    group: str
    cycle: str
    sites: int
    mean_index: float | None
    low: float | None
    high: float | None


class FlagRow(msgspec.Struct):
    slug: str
    name: str
    significant_drops: list[str]
    response_collapses: list[str]
    dimensions_under_floor: list[str]


class HeatCell(msgspec.Struct):
    slug: str
    name: str
    dimension: str
    mean: float | None
    """Null where the cell has too few responses."""


class TrendsOut(msgspec.Struct):
    scope: str
    lens: str
    cycles: list[str]
    rollups: list[RollUpPoint]
    improved: list[Mover]
    declined: list[Mover]
    flags: list[FlagRow]
    heat: list[HeatCell]
    """Dimension × organisation for the organisations compared (`org`, else the movers)."""


class RatingRow(msgspec.Struct):
    direction: str
    """rated_by: a sponsor's view of the site; rates: the site's view of a partner."""
    partner: str
    reliability_index: float | None
    ri_low: float | None
    ri_high: float | None
    raters: int | None
    """Null where the cell is hidden, as the page prints "too few"."""
    tier: int | None


class SiteOut(msgspec.Struct):
    site: str
    cycle: str | None
    ratings: list[RatingRow]


class ActionRow(msgspec.Struct):
    id: int
    title: str
    owner: str
    side: str
    dimension: str | None
    due_on: dt.date | None
    status: str
    opened_in: str
    carried_over: bool
    overdue: bool
    effect: str | None


class ActionsPage(msgspec.Struct):
    sponsor: str
    site: str
    cycle: str | None
    total: int
    page: int
    per_page: int
    actions: list[ActionRow]


def portfolio_site(r: PortfolioRow) -> PortfolioSite:
    """A portfolio row as the API lists it: tiers as numbers, the trend as its code."""
    return PortfolioSite(
        r.slug,
        r.name,
        r.country,
        r.network,
        list(r.areas),
        int(r.tier) if r.tier else None,
        int(r.previous_tier) if r.previous_tier else None,
        r.overridden,
        r.provisional,
        r.index,
        r.low,
        r.high,
        r.raters,
        r.previous_index,
        r.index_change,
        r.trend.value,
        r.response_rate,
    )


def trends_out(found: Trends) -> TrendsOut:
    """A scope's trends as the API shows them: one row per roll-up point and heat cell."""

    def movers(rows: Iterable[IndexMover]) -> list[Mover]:
        return [
            Mover(
                m.member.slug,
                m.member.name,
                m.before,
                m.now,
                m.change,
                m.low,
                m.high,
                m.significant,
            )
            for m in rows
        ]

    return TrendsOut(
        found.scope.name,
        found.scope.lens,
        list(found.cycles),
        [
            RollUpPoint(r.name, p.cycle, p.raters, p.index, p.low, p.high)
            for r in found.rollups
            for p in r.points
        ],
        movers(found.improved),
        movers(found.declined),
        [
            FlagRow(
                f.member.slug, f.member.name, list(f.drops), list(f.collapses), list(f.under_floor)
            )
            for f in found.flags
        ],
        [
            HeatCell(h.member.slug, h.member.name, d, v)
            for h in found.heat
            for d, v in zip(found.dimensions, h.cells, strict=True)
        ],
    )


def tier_row(r: ReviewRow) -> TierRow:
    """A site's tier under review, tiers as numbers."""
    return TierRow(
        r.slug,
        r.name,
        int(r.computed),
        int(r.previous) if r.previous else None,
        int(r.in_force),
        r.reviewed,
        r.reason,
        r.provisional,
        r.trace,
        r.override is not None,
        r.accepted_by if r.accepted else None,
        r.accepted_at if r.accepted else None,
    )


def network_out(name: str, cycle: str | None, sites: tuple[Rating, ...]) -> NetworkOut:
    """A network's sites; a hidden cell's raters are null, as the page prints "too few"."""
    return NetworkOut(
        name,
        cycle,
        [
            NetworkSite(r.partner, r.index, r.low, r.high, r.raters if r.shown else None)
            for r in sites
        ],
    )


def site_out(found: SitePage) -> SiteOut:
    """A site's ratings in both directions, in one list; hidden cells' raters are null."""
    ratings = [
        RatingRow(
            direction,
            r.partner,
            r.index,
            r.low,
            r.high,
            r.raters if r.shown else None,
            int(r.tier) if r.tier else None,
        )
        for direction, rows in (("rated_by", found.rated_by), ("rates", found.rates))
        for r in rows
    ]
    return SiteOut(found.site, found.cycle, ratings)


def action_row(a: Action) -> ActionRow:
    """An action item, its side, status and effect as their codes."""
    return ActionRow(
        a.id,
        a.title,
        a.owner,
        a.side.value,
        a.dimension,
        a.due_on,
        a.status.value,
        a.opened_in,
        a.carried,
        a.overdue,
        a.effect.verdict if a.effect else None,
    )


def benchmark_rows(found: Portfolio) -> list[BenchmarkRow]:
    """How sites see the sponsor against its peers (empty for a CRO's users)."""
    return [
        BenchmarkRow(b.measure, b.yours, b.low, b.median, b.high, b.peers) for b in found.benchmark
    ]
