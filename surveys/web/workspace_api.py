"""The workspaces as JSON for BI tools, and every table as CSV.

Each route asks the same policy as its page (surveys.accounts.policy) and reads through the same
domain function, so the API shows exactly what the page shows: hidden cells are null,
never estimated. A personal API token or the browser's session authenticates
(surveys.web.auth.api_viewer); lists are paginated; each `/csv` twin returns the whole
table as a download.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, Parameter

from surveys.accounts.policy import Reach
from surveys.directory.organisations import OrgKind
from surveys.results.meetings import ActionItemError, meeting_pack
from surveys.results.tier_review import review_in_cycle
from surveys.web.auth import api_viewer
from surveys.web.workspaces import in_reach, relationship_in_reach, trends_in_reach
from surveys.workspaces.institution_trends import scope_trends
from surveys.workspaces.portfolio import Portfolio, peer_benchmark, portfolio
from surveys.workspaces.site_view import network_sites, site_page

Any_Request = Request[Any, Any, Any]
PageNumber = Annotated[int, Parameter(ge=1, le=100_000, description="Page, from 1.")]
PerPage = Annotated[int, Parameter(ge=1, le=1000, description="Items per page (at most 1,000).")]
Cycle = Annotated[
    str | None, Parameter(description="A scored cycle's key; the latest if left out.")
]
Orgs = Annotated[
    list[str] | None, Parameter(description="Slugs of organisations to compare (at most 50).")
]
TrendsTable = Annotated[
    Literal["movers", "rollups", "flags", "heat"], Parameter(description="Which table.")
]


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
    trend: str
    response_rate: float | None


class BenchmarkRow(msgspec.Struct):
    """How sites see the sponsor on one measure, against peers shown only as quartiles."""

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
    reason: str | None
    provisional: bool
    rule_trace: str


class TierReviewPage(msgspec.Struct):
    cycle: str
    status: str
    previous_cycle: str | None
    total: int
    page: int
    per_page: int
    sites: list[TierRow]


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


class WorkspaceAPI(Controller):
    """Read-only JSON and CSV of the workspaces, for BI tools."""

    path = "/api"
    tags = ("workspaces",)

    @get("/portfolios/{slug:str}", name="api-portfolio")
    async def portfolio(
        self,
        slug: FromPath[str],
        request: Any_Request,
        cycle: Cycle = None,
        page: PageNumber = 1,
        per_page: PerPage = 100,
    ) -> PortfolioPage:
        """A sponsor's portfolio of sites in a cycle, sorted by name."""
        found, rows, whole = await _portfolio(request, slug, cycle)
        benchmark: list[BenchmarkRow] = []
        if whole:  # how sites see the sponsor is the sponsor's own: not for a CRO's users
            benchmark = [
                BenchmarkRow(b.measure, b.yours, b.low, b.median, b.high, b.peers)
                for b in await peer_benchmark(found.sponsor_id, found.run)
            ]
        return PortfolioPage(
            found.sponsor,
            found.cycle,
            found.previous_cycle,
            len(rows),
            page,
            per_page,
            _slice(rows, page, per_page),
            benchmark,
        )

    @get("/portfolios/{slug:str}/tiers", name="api-tiers")
    async def tiers(
        self,
        slug: FromPath[str],
        request: Any_Request,
        cycle: Cycle = None,
        page: PageNumber = 1,
        per_page: PerPage = 100,
    ) -> TierReviewPage:
        """The tiers a sponsor gives its sites in a cycle, beside the previous ones, with the
        rule trace (for those who review them)."""
        head, rows = await _tiers(request, slug, cycle)
        return TierReviewPage(*head, len(rows), page, per_page, _slice(rows, page, per_page))

    @get("/portfolios/{slug:str}/tiers/csv", name="api-tiers-csv", media_type="text/csv")
    async def tiers_csv(
        self, slug: FromPath[str], request: Any_Request, cycle: Cycle = None
    ) -> Response[str]:
        """The tier review as CSV."""
        head, rows = await _tiers(request, slug, cycle)
        return _csv(f"tiers-{slug}-{head[0]}", rows)

    @get("/networks/{slug:str}", name="api-network")
    async def network(self, slug: FromPath[str], request: Any_Request) -> NetworkOut:
        """A network's sites side by side, in the latest published cycle."""
        return await _network(request, slug)

    @get("/networks/{slug:str}/csv", name="api-network-csv", media_type="text/csv")
    async def network_csv(self, slug: FromPath[str], request: Any_Request) -> Response[str]:
        """A network's sites as CSV."""
        found = await _network(request, slug)
        return _csv(f"network-{slug}-{found.cycle or 'none'}", found.sites)

    @get("/portfolios/{slug:str}/csv", name="api-portfolio-csv", media_type="text/csv")
    async def portfolio_csv(
        self, slug: FromPath[str], request: Any_Request, cycle: Cycle = None
    ) -> Response[str]:
        """The whole portfolio table as CSV."""
        found, rows, _ = await _portfolio(request, slug, cycle)
        return _csv(f"portfolio-{slug}-{found.cycle or 'none'}", rows)

    @get("/trends/{slug:str}", name="api-trends")
    async def trends(
        self, slug: FromPath[str], request: Any_Request, cycle: Cycle = None, org: Orgs = None
    ) -> TrendsOut:
        """Roll-ups, movers, escalation flags and the heat map across a managed organisation's
        sites."""
        return await _trends(request, slug, cycle, org)

    @get("/trends/{slug:str}/csv", name="api-trends-csv", media_type="text/csv")
    async def trends_csv(
        self,
        slug: FromPath[str],
        request: Any_Request,
        cycle: Cycle = None,
        org: Orgs = None,
        table: TrendsTable = "movers",
    ) -> Response[str]:
        """One of the trends page's tables as CSV: movers, roll-ups, flags or the heat map."""
        found = await _trends(request, slug, cycle, org)
        rows: dict[str, Sequence[msgspec.Struct]] = {
            "movers": [*found.improved, *found.declined],
            "rollups": found.rollups,
            "flags": found.flags,
            "heat": found.heat,
        }
        return _csv(f"{table}-{slug}", rows[table])

    @get("/sites/{slug:str}", name="api-site")
    async def site(self, slug: FromPath[str], request: Any_Request) -> SiteOut:
        """A site's published ratings: each sponsor's view of it and its view of each partner."""
        return await _site(request, slug)

    @get("/sites/{slug:str}/csv", name="api-site-csv", media_type="text/csv")
    async def site_csv(self, slug: FromPath[str], request: Any_Request) -> Response[str]:
        """The site's ratings, both directions, as CSV."""
        found = await _site(request, slug)
        return _csv(f"ratings-{slug}-{found.cycle or 'none'}", found.ratings)

    @get("/relationships/{sponsor:str}/{site:str}/actions", name="api-actions")
    async def actions(
        self,
        sponsor: FromPath[str],
        site: FromPath[str],
        request: Any_Request,
        page: PageNumber = 1,
        per_page: PerPage = 100,
    ) -> ActionsPage:
        """A relationship's action items, open ones first."""
        head, rows = await _actions(request, sponsor, site)
        return ActionsPage(*head, len(rows), page, per_page, _slice(rows, page, per_page))

    @get(
        "/relationships/{sponsor:str}/{site:str}/actions/csv",
        name="api-actions-csv",
        media_type="text/csv",
    )
    async def actions_csv(
        self, sponsor: FromPath[str], site: FromPath[str], request: Any_Request
    ) -> Response[str]:
        """A relationship's action items as CSV."""
        _, rows = await _actions(request, sponsor, site)
        return _csv(f"actions-{sponsor}-{site}", rows)


async def _portfolio(
    request: Any_Request, slug: str, cycle: str | None
) -> tuple[Portfolio, list[PortfolioSite], bool]:
    """The portfolio, its rows for the API, and whether the viewer reaches all of it."""
    viewer = await api_viewer(request)
    sponsor = await in_reach(viewer, slug, OrgKind.sponsor, Reach.may_see_portfolio)
    sites = viewer.reach.portfolio_sites(sponsor)
    found = await portfolio(sponsor, sites, cycle)
    rows = [
        PortfolioSite(
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
            r.trend.value,
            r.response_rate,
        )
        for r in sorted(found.rows, key=lambda r: (r.name.lower(), r.slug))
    ]
    return found, rows, sites is None


async def _trends(
    request: Any_Request, slug: str, cycle: str | None, org: list[str] | None
) -> TrendsOut:
    scope = await trends_in_reach(await api_viewer(request), slug)
    found = await scope_trends(scope, cycle, tuple(dict.fromkeys(org or ())))

    def movers(rows: Iterable[Any]) -> list[Mover]:
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
        scope.name,
        scope.lens,
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


async def _tiers(
    request: Any_Request, slug: str, cycle: str | None
) -> tuple[tuple[str, str, str | None], list[TierRow]]:
    viewer = await api_viewer(request)
    sponsor = await in_reach(viewer, slug, OrgKind.sponsor, Reach.may_review_tiers)
    found = await review_in_cycle(sponsor, cycle, viewer.reach.portfolio_sites(sponsor))
    if found is None:
        raise NotFoundException("no cycle has been scored yet")
    review = found[0]
    rows = [
        TierRow(
            r.slug,
            r.name,
            int(r.computed),
            int(r.previous) if r.previous else None,
            int(r.in_force),
            r.override is not None,
            r.reason,
            r.provisional,
            r.trace,
        )
        for r in review.rows
    ]
    return (review.cycle, review.status, review.previous_cycle), rows


async def _network(request: Any_Request, slug: str) -> NetworkOut:
    viewer = await api_viewer(request)
    network = await in_reach(viewer, slug, OrgKind.network, Reach.may_see_network)
    name, cycle, sites = await network_sites(network)
    return NetworkOut(
        name,
        cycle,
        [
            NetworkSite(r.partner, r.index, r.low, r.high, r.raters if r.shown else None)
            for r in sites
        ],
    )


async def _site(request: Any_Request, slug: str) -> SiteOut:
    site_id = await in_reach(await api_viewer(request), slug, OrgKind.site, Reach.may_see_site)
    found = await site_page(site_id)
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


async def _actions(
    request: Any_Request, sponsor: str, site: str
) -> tuple[tuple[str, str, str | None], list[ActionRow]]:
    viewer = await api_viewer(request)
    ids = await relationship_in_reach(viewer, sponsor, site)
    try:
        today = dt.datetime.now(dt.UTC).date()
        pack = await meeting_pack(*ids, today, viewer.reach.may_see_sites_view(*ids))
    except ActionItemError:
        raise NotFoundException("no such page") from None
    rows = [
        ActionRow(
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
        for a in pack.actions
    ]
    return (pack.sponsor, pack.site, pack.cycle), rows


def _slice(rows: Sequence[Any], page: int, per_page: int) -> list[Any]:
    """One page of a list; a page past the last is a client error, not an empty page."""
    last = max(1, -(-len(rows) // per_page))
    if page > last:
        raise ClientException(f"page {page} is past the last page ({last} of {per_page} items)")
    return list(rows[(page - 1) * per_page : page * per_page])


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting so would run as a formula in a spreadsheet (CSV injection)."""


def _csv(name: str, rows: Sequence[msgspec.Struct]) -> Response[str]:
    """Rows as a CSV download; text that a spreadsheet would run as a formula is quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    if rows:
        fields = rows[0].__struct_fields__
        writer.writerow(fields)
        for row in rows:
            writer.writerow([_cell(getattr(row, f)) for f in fields])
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'},
    )


def _cell(value: object) -> object:
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value
