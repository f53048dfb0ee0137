"""The workspace API's routes: each authorises with its page's reach helper, reads through
its page's domain function, and answers in the schemas of `_schemas`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal, TypeVar

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.params import FromPath, Parameter

from surveys.accounts.policy import Viewer
from surveys.infra.pagination import Page, PastLastPageError, page_of
from surveys.results.meetings import ActionItemError
from surveys.web.auth import API_VIEWER
from surveys.web.reach import (
    NoSuchPage,
    network_in_reach,
    portfolio_in_reach,
    relationship_in_reach,
    site_in_reach,
    tier_review_in_reach,
    trends_in_reach,
)
from surveys.web.workspace_api._csv import csv_download
from surveys.web.workspace_api._schemas import (
    ActionsPage,
    NetworkOut,
    PortfolioPage,
    SiteOut,
    TierReviewPage,
    TrendsOut,
    UntieredSite,
    action_row,
    benchmark_rows,
    network_out,
    portfolio_site,
    site_out,
    tier_row,
    trends_out,
)
from surveys.workspaces.institution_trends import scope_trends
from surveys.workspaces.meeting_pack import MeetingPack, meeting_pack
from surveys.workspaces.portfolio import portfolio
from surveys.workspaces.reviews import SponsorReview, sponsor_review
from surveys.workspaces.site_view import network_sites, site_page

T = TypeVar("T")
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


class WorkspaceAPI(Controller):
    """Read-only JSON and CSV of the workspaces, for BI tools."""

    path = "/api"
    tags = ("workspaces",)
    dependencies = {"viewer": API_VIEWER}  # noqa: RUF012 (Litestar reads, never changes, it)

    @get("/portfolios/{slug:str}", name="api-portfolio")
    async def portfolio(
        self,
        slug: FromPath[str],
        viewer: NamedDependency[Viewer],
        cycle: Cycle = None,
        page: PageNumber = 1,
        per_page: PerPage = 100,
    ) -> PortfolioPage:
        """A sponsor's portfolio of sites in a cycle, sorted by name."""
        sponsor = await portfolio_in_reach(viewer, slug)
        found = await portfolio(sponsor, viewer.reach.portfolio_sites(sponsor), cycle)
        return PortfolioPage(
            sponsor=found.sponsor,
            cycle=found.cycle,
            previous_cycle=found.previous_cycle,
            total=len(found.rows),
            page=page,
            per_page=per_page,
            sites=[portfolio_site(r) for r in _page(found.by_name, page, per_page).items],
            benchmark=benchmark_rows(found),
        )

    @get("/portfolios/{slug:str}/tiers", name="api-tiers")
    async def tiers(
        self,
        slug: FromPath[str],
        viewer: NamedDependency[Viewer],
        cycle: Cycle = None,
        page: PageNumber = 1,
        per_page: PerPage = 100,
    ) -> TierReviewPage:
        """The tiers a sponsor gives its sites in a cycle, beside the previous ones, with the
        rule trace (for those who review them)."""
        found = await _tier_review(viewer, slug, cycle)
        review = found.review
        return TierReviewPage(
            cycle=review.cycle,
            status=review.status,
            previous_cycle=review.previous_cycle,
            total=len(review.rows),
            page=page,
            per_page=per_page,
            sites=[tier_row(r) for r in _page(review.rows, page, per_page).items],
            untiered=[UntieredSite(u.slug, u.name, u.reason) for u in found.untiered],
        )

    @get("/portfolios/{slug:str}/tiers/csv", name="api-tiers-csv", media_type="text/csv")
    async def tiers_csv(
        self, slug: FromPath[str], viewer: NamedDependency[Viewer], cycle: Cycle = None
    ) -> Response[str]:
        """The tier review as CSV."""
        review = (await _tier_review(viewer, slug, cycle)).review
        return csv_download(f"tiers-{slug}-{review.cycle}", [tier_row(r) for r in review.rows])

    @get("/networks/{slug:str}", name="api-network")
    async def network(self, slug: FromPath[str], viewer: NamedDependency[Viewer]) -> NetworkOut:
        """A network's sites side by side, in the latest published cycle."""
        return network_out(*await network_sites(await network_in_reach(viewer, slug)))

    @get("/networks/{slug:str}/csv", name="api-network-csv", media_type="text/csv")
    async def network_csv(
        self, slug: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Response[str]:
        """A network's sites as CSV."""
        found = network_out(*await network_sites(await network_in_reach(viewer, slug)))
        return csv_download(f"network-{slug}-{found.cycle or 'none'}", found.sites)

    @get("/portfolios/{slug:str}/csv", name="api-portfolio-csv", media_type="text/csv")
    async def portfolio_csv(
        self, slug: FromPath[str], viewer: NamedDependency[Viewer], cycle: Cycle = None
    ) -> Response[str]:
        """The whole portfolio table as CSV."""
        sponsor = await portfolio_in_reach(viewer, slug)
        found = await portfolio(sponsor, viewer.reach.portfolio_sites(sponsor), cycle)
        rows = [portfolio_site(r) for r in found.by_name]
        return csv_download(f"portfolio-{slug}-{found.cycle or 'none'}", rows)

    @get("/trends/{slug:str}", name="api-trends")
    async def trends(
        self,
        slug: FromPath[str],
        viewer: NamedDependency[Viewer],
        cycle: Cycle = None,
        org: Orgs = None,
    ) -> TrendsOut:
        """Roll-ups, movers, escalation flags and the heat map across a managed organisation's
        sites."""
        return await _trends(viewer, slug, cycle, org)

    @get("/trends/{slug:str}/csv", name="api-trends-csv", media_type="text/csv")
    async def trends_csv(
        self,
        slug: FromPath[str],
        viewer: NamedDependency[Viewer],
        cycle: Cycle = None,
        org: Orgs = None,
        table: TrendsTable = "movers",
    ) -> Response[str]:
        """One of the trends page's tables as CSV: movers, roll-ups, flags or the heat map."""
        found = await _trends(viewer, slug, cycle, org)
        rows: dict[str, Sequence[msgspec.Struct]] = {
            "movers": [*found.improved, *found.declined],
            "rollups": found.rollups,
            "flags": found.flags,
            "heat": found.heat,
        }
        return csv_download(f"{table}-{slug}", rows[table])

    @get("/sites/{slug:str}", name="api-site")
    async def site(self, slug: FromPath[str], viewer: NamedDependency[Viewer]) -> SiteOut:
        """A site's published ratings: each sponsor's view of it and its view of each partner."""
        return site_out(await site_page(await site_in_reach(viewer, slug)))

    @get("/sites/{slug:str}/csv", name="api-site-csv", media_type="text/csv")
    async def site_csv(self, slug: FromPath[str], viewer: NamedDependency[Viewer]) -> Response[str]:
        """The site's ratings, both directions, as CSV."""
        found = site_out(await site_page(await site_in_reach(viewer, slug)))
        return csv_download(f"ratings-{slug}-{found.cycle or 'none'}", found.ratings)

    @get("/relationships/{sponsor:str}/{site:str}/actions", name="api-actions")
    async def actions(
        self,
        sponsor: FromPath[str],
        site: FromPath[str],
        viewer: NamedDependency[Viewer],
        page: PageNumber = 1,
        per_page: PerPage = 100,
    ) -> ActionsPage:
        """A relationship's action items, open ones first."""
        pack = await _pack(viewer, sponsor, site)
        return ActionsPage(
            sponsor=pack.sponsor,
            site=pack.site,
            cycle=pack.cycle,
            total=len(pack.actions),
            page=page,
            per_page=per_page,
            actions=[action_row(a) for a in _page(pack.actions, page, per_page).items],
        )

    @get(
        "/relationships/{sponsor:str}/{site:str}/actions/csv",
        name="api-actions-csv",
        media_type="text/csv",
    )
    async def actions_csv(
        self, sponsor: FromPath[str], site: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Response[str]:
        """A relationship's action items as CSV."""
        pack = await _pack(viewer, sponsor, site)
        return csv_download(f"actions-{sponsor}-{site}", [action_row(a) for a in pack.actions])


def _page(rows: Sequence[T], page: int, per_page: int) -> Page[T]:
    """One page of a list; a page past the last is the client's error (400), not an empty page."""
    try:
        return page_of(rows, page, per_page)
    except PastLastPageError as error:
        raise ClientException(str(error)) from None


async def _trends(viewer: Viewer, slug: str, cycle: str | None, org: list[str] | None) -> TrendsOut:
    """The trends of a scope in reach, as the API shows them."""
    scope = await trends_in_reach(viewer, slug)
    return trends_out(await scope_trends(scope, cycle, tuple(dict.fromkeys(org or ()))))


async def _tier_review(viewer: Viewer, slug: str, cycle: str | None) -> SponsorReview:
    """The tier review of a sponsor in reach; 404 before any cycle is scored."""
    sponsor = await tier_review_in_reach(viewer, slug)
    found = await sponsor_review(sponsor, viewer.reach.portfolio_sites(sponsor), cycle)
    if found is None:  # no cycle scored yet
        raise NoSuchPage()
    return found


async def _pack(viewer: Viewer, sponsor: str, site: str) -> MeetingPack:
    """The meeting pack of a relationship in reach, with the sites' view for those who may
    read it; 404 if the two have no relationship."""
    ids = await relationship_in_reach(viewer, sponsor, site)
    try:
        today = dt.datetime.now(dt.UTC).date()
        return await meeting_pack(*ids, today, viewer.reach.may_see_sites_view(*ids))
    except ActionItemError:  # the relationship went while the route was asked for
        raise NoSuchPage() from None
