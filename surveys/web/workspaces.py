"""The workspaces a signed-in person opens: their home, a sponsor's portfolio and tier
review, a site, a network, and trends across institutions.

Each handler gets its viewer by injection, asks surveys.web.reach for what the page is
about (out of reach: 404) before it reads anything, and passes that reach into one
domain read (surveys.workspaces): nothing out of reach is fetched.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import MultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.cycles.cycle import CycleTransitionError
from surveys.directory.organisations import OrgKind, organisation_with_slug
from surveys.infra.i18n import N_, Text
from surveys.infra.numbers import whole_number
from surveys.results.tier_assignments import Tier
from surveys.results.tier_review import (
    NOT_IN_REVIEW,
    TierReviewError,
    accept_all,
    accept_tier,
    set_override,
)
from surveys.web.contexts import (
    ACCEPT_ALL,
    TypedOverride,
    WorkspacesContext,
    network_context,
    portfolio_context,
    site_context,
    tier_review_context,
    trends_context,
)
from surveys.web.contexts._forms import refusal
from surveys.web.languages import reader_language
from surveys.web.reach import (
    NoSuchPage,
    network_in_reach,
    portfolio_in_reach,
    site_in_reach,
    tier_review_in_reach,
    trends_in_reach,
)
from surveys.workspaces.institution_trends import scope_trends
from surveys.workspaces.places import workspaces_of
from surveys.workspaces.portfolio_view import PortfolioQuery, portfolio_view
from surveys.workspaces.reviews import sponsor_review
from surveys.workspaces.site_view import draft_scorecards, network_sites, site_page

Any_Request = Request[Any, Any, Any]


class WorkspacesController(Controller):
    """Pages behind sign-in."""

    @get("/", name="home")
    async def home(self, viewer: NamedDependency[Viewer]) -> Template:
        """The workspaces this person may open."""
        page = WorkspacesContext(viewer=viewer, workspaces=tuple(await workspaces_of(viewer.reach)))
        return Template("pages/workspaces.html", context={"page": page})

    @get("/w/sponsors/{slug:str}", name="portfolio")
    async def portfolio(
        self, slug: FromPath[str], viewer: NamedDependency[Viewer], request: Any_Request
    ) -> Template:
        """A sponsor's sites: tier, index and interval, trend, movement; filtered and sorted."""
        sponsor = await portfolio_in_reach(viewer, slug)
        found = await portfolio_view(
            sponsor, viewer.reach.portfolio_sites(sponsor), _portfolio_query(request.query_params)
        )
        page = portfolio_context(found, slug, viewer, await reader_language(request))
        return Template(
            "pages/portfolio.html",
            context={"page": page, "viewer": viewer},
            status_code=400 if found.unknown else 200,
        )

    @get("/w/sponsors/{slug:str}/tiers", name="tier-review")
    async def tiers(
        self, slug: FromPath[str], viewer: NamedDependency[Viewer], request: Any_Request
    ) -> Template:
        """The computed tiers beside the previous ones, with their trace, to accept or override."""
        sponsor = await tier_review_in_reach(viewer, slug)
        query = request.query_params
        confirming = query.get("confirm") == ACCEPT_ALL
        return await _review_page(
            viewer, sponsor, slug, query.get("cycle"), confirming=confirming, request=request
        )

    @post("/w/sponsors/{slug:str}/tiers/{site:str}/accept", name="tier-accept")
    async def accept(
        self,
        slug: FromPath[str],
        site: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        viewer: NamedDependency[Viewer],
    ) -> Template | Redirect:
        """Accept one site's computed tier: the review shows who accepted it, and when."""
        sponsor = await tier_review_in_reach(viewer, slug)
        cycle = data.get("cycle", "")
        try:
            site_id = await _site_to_review(site)
            await accept_tier(cycle, sponsor, site_id, viewer.who.acting(dt.datetime.now(dt.UTC)))
        except (TierReviewError, CycleTransitionError) as error:
            return await _review_page(viewer, sponsor, slug, cycle, {site: refusal(error)})
        return Redirect(
            f"/w/sponsors/{slug}/tiers?cycle={quote(cycle)}#site-{site}", status_code=303
        )

    @post("/w/sponsors/{slug:str}/tier-acceptance", name="tier-accept-all")
    async def accept_all(
        self,
        slug: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        viewer: NamedDependency[Viewer],
    ) -> Template | Redirect:
        """Accept every computed tier shown and not yet reviewed, as many as confirmed."""
        sponsor = await tier_review_in_reach(viewer, slug)
        cycle = data.get("cycle", "")
        confirmed = whole_number(data.get("expected"))
        try:
            if confirmed is None:  # the page's confirmation states a count: nothing else will do
                raise TierReviewError(N_("confirm how many tiers to accept, from the review page"))
            await accept_all(
                cycle,
                sponsor,
                viewer.reach.portfolio_sites(sponsor),
                confirmed,
                viewer.who.acting(dt.datetime.now(dt.UTC)),
            )
        except (TierReviewError, CycleTransitionError) as error:
            return await _review_page(viewer, sponsor, slug, cycle, {ACCEPT_ALL: refusal(error)})
        return Redirect(f"/w/sponsors/{slug}/tiers?cycle={quote(cycle)}", status_code=303)

    @post("/w/sponsors/{slug:str}/tiers/{site:str}", name="tier-override")
    async def override(
        self,
        slug: FromPath[str],
        site: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        viewer: NamedDependency[Viewer],
    ) -> Template | Redirect:
        """Override one site's tier with a reason, or return it to the computed tier."""
        sponsor = await tier_review_in_reach(viewer, slug)
        cycle = data.get("cycle", "")
        raw = data.get("tier", "")
        tier = Tier(int(raw)) if raw in {str(t.value) for t in Tier} else None
        kept = {site: TypedOverride(tier=raw, reason=data.get("reason", ""))}
        if raw and tier is None:
            errors: dict[str, str | Text] = {site: N_("Choose one of the four tiers.")}
            return await _review_page(viewer, sponsor, slug, cycle, errors, kept)
        try:
            site_id = await _site_to_review(site)
            await set_override(
                cycle,
                sponsor,
                site_id,
                tier,
                data.get("reason", ""),
                viewer.who.acting(dt.datetime.now(dt.UTC)),
            )
        except (TierReviewError, CycleTransitionError) as error:
            errors = {site: refusal(error)}
            return await _review_page(viewer, sponsor, slug, cycle, errors, kept)
        return Redirect(
            f"/w/sponsors/{slug}/tiers?cycle={quote(cycle)}#site-{site}", status_code=303
        )

    @get("/w/sites/{slug:str}", name="site")
    async def site(
        self, slug: FromPath[str], viewer: NamedDependency[Viewer], request: Any_Request
    ) -> Template:
        """How each sponsor rates this site, how it rates them, and where the views differ."""
        site_id = await site_in_reach(viewer, slug)
        own = viewer.reach.may_reply_to_scorecard(site_id)
        drafts = await draft_scorecards(site_id) if own else None
        language = await reader_language(request)
        page = site_context(await site_page(site_id, language), own, drafts, language)
        return Template("pages/site.html", context={"page": page, "viewer": viewer})

    @get("/w/networks/{slug:str}", name="network")
    async def network(
        self, slug: FromPath[str], viewer: NamedDependency[Viewer], request: Any_Request
    ) -> Template:
        """A network's sites side by side, and the network as a whole."""
        found = await network_sites(await network_in_reach(viewer, slug))
        page = network_context(*found, language=await reader_language(request))
        return Template("pages/network.html", context={"page": page, "viewer": viewer})

    @get("/w/trends/{slug:str}", name="trends")
    async def trends(
        self, slug: FromPath[str], viewer: NamedDependency[Viewer], request: Any_Request
    ) -> Template:
        """A managed organisation's sites over the cycles: roll-ups, movers, flags, side by side."""
        scope = await trends_in_reach(viewer, slug)
        query = request.query_params
        chosen = tuple(dict.fromkeys(query.getall("org", [])))
        language = await reader_language(request)
        search = query.get("q", "").strip()
        found = await scope_trends(scope, query.get("cycle"), chosen, search, language)
        page = trends_context(found, viewer.reach, language)
        return Template("pages/trends.html", context={"page": page, "viewer": viewer})


def _portfolio_query(query: MultiDict[str]) -> PortfolioQuery:
    """What a portfolio page's address asks for, as typed."""
    return PortfolioQuery(
        cycle=query.get("cycle"),
        network=query.get("network", ""),
        country=query.get("country", ""),
        area=query.get("area", ""),
        tier=query.get("tier", ""),
        sort=query.get("sort"),
        descending=query.get("order") == "desc",
        page=query.get("page", "1"),
    )


async def _site_to_review(slug: str) -> int:
    """The id of the site a tier change names; TierReviewError (NOT_IN_REVIEW) for a slug
    no site has, answered as for a site outside the review, so no hint that it exists."""
    site_id = await organisation_with_slug(slug, OrgKind.site)
    if site_id is None:
        raise TierReviewError(NOT_IN_REVIEW)
    return site_id


async def _review_page(
    viewer: Viewer,
    sponsor: int,
    slug: str,
    cycle_key: str | None,
    errors: dict[str, str | Text] | None = None,
    kept: dict[str, TypedOverride] | None = None,
    confirming: bool = False,
    request: Any_Request | None = None,
) -> Template:
    """The review page; after a refused change, its message and what was typed, kept; or
    asking to confirm "accept all" (dates in the reader's language, from `request`)."""
    found = await sponsor_review(sponsor, viewer.reach.portfolio_sites(sponsor), cycle_key)
    if found is None:  # no cycle scored yet
        raise NoSuchPage()
    language = viewer.who.language if request is None else await reader_language(request)
    page = tier_review_context(found, slug, viewer, errors, kept, confirming, language)
    return Template("pages/tiers.html", context={"page": page}, status_code=400 if errors else 200)
