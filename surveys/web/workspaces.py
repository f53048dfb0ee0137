"""The workspaces a signed-in person opens: their home, and a sponsor's portfolio.

Each handler asks the viewer's reach (surveys.accounts.policy) before it reads anything, and
passes that reach into the query: nothing out of reach is fetched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from surveys.accounts.policy import Reach, Viewer
from surveys.charts import (
    STYLES,
    HeatMap,
    LineChart,
    Sparkline,
    Spread,
    Values,
    heat_map,
    marker_path,
    sparkline,
    spread,
    trend_chart,
)
from surveys.cycles.cycle import CycleTransitionError
from surveys.directory.organisations import Organisation, OrgKind, organisation_with_slug
from surveys.results.tier_assignments import Tier
from surveys.results.tier_review import (
    TierReviewError,
    publish_cycle,
    review_in_cycle,
    set_override,
)
from surveys.web.auth import OutOfReach, required_viewer, safe_next
from surveys.web.contexts import network_context, site_context
from surveys.workspaces.institution_trends import (
    MOST_COMPARED,
    Member,
    Point,
    Scope,
    Series,
    Trends,
    scope_of,
    scope_trends,
)
from surveys.workspaces.portfolio import (
    Benchmark,
    Portfolio,
    PortfolioRow,
    peer_benchmark,
    portfolio,
)
from surveys.workspaces.site_view import network_sites, site_page

Any_Request = Request[Any, Any, Any]
SORTABLE = {
    "name": lambda r: r.name.lower(),
    "tier": lambda r: (r.tier is None, int(r.tier or 9)),
    "index": lambda r: (r.index is None, -(r.index or 0)),
    "change": lambda r: (r.index_change is None, -(r.index_change or 0)),
    "movement": lambda r: (r.movement is None, -(r.movement or 0)),
    "raters": lambda r: -r.raters,
    "response": lambda r: (r.response_rate is None, -(r.response_rate or 0)),
    "country": lambda r: r.country or "~",
    "network": lambda r: r.network or "~",
}
"""Columns the portfolio sorts by, each with missing values last."""
PER_PAGE = 100
"""Sites on one page of a portfolio; the CSV download has them all."""


@dataclass(frozen=True)
class Workspace:
    """A link on the home page."""

    title: str
    href: str
    kind: str


@dataclass(frozen=True)
class PortfolioPage:
    portfolio: Portfolio
    slug: str
    rows: tuple[PortfolioRow, ...]
    filters: dict[str, str]
    choices: dict[str, tuple[str, ...]]
    sort: str
    descending: bool
    benchmark: tuple[Benchmark, ...] = ()
    spreads: tuple[Spread | None, ...] = ()
    """One strip per benchmark measure (None with too few peers)."""
    tiers: tuple[Tier, ...] = tuple(Tier)
    unknown: dict[str, str] = field(default_factory=dict)
    """Filters given a value the portfolio does not have: ignored, and the page says so."""
    matching: int = 0
    """Sites that pass the filters, on every page."""
    page_number: int = 1
    pages: int = 1
    first: int = 1
    """The position of this page's first site among those matching."""
    scorecards: tuple[tuple[str, str], ...] = ()
    """The cycle's scorecards this viewer may open: (label, address)."""


@dataclass(frozen=True)
class TrendsPage:
    """The trends page: the figures, and the charts drawn from them."""

    trends: Trends
    charts: tuple[LineChart, ...]
    """One per compared organisation, in the same order."""
    partner_chart: LineChart | None
    rollup_lines: tuple[Sparkline, ...]
    """One per roll-up, in the same order."""
    heat: HeatMap | None
    legend: tuple[tuple[str, str, str, str, str], ...]
    """kind, label, dash pattern, marker shape and the marker's path in the key."""
    chosen: tuple[str, ...]
    """Slugs the viewer chose (empty: the page picked the biggest movers)."""
    query: str
    choices: tuple[Member, ...]
    """The organisations to tick: those chosen first, then those matching the query."""
    matches: int
    """Organisations that match the query, the chosen aside."""
    more: int
    """Matches left out of `choices`."""
    most: int = MOST_COMPARED


LINES = (
    ("index", "Reliability index"),
    ("quality", "Quality"),
    ("dependability", "Dependability"),
    ("speed", "Speed"),
    ("cost", "Cost"),
)
CHOICES_LISTED = 60
"""Organisations listed to tick at once; a search narrows the rest."""


def trends_page(found: Trends, query: str, chose: bool) -> TrendsPage:
    """Lay out a trends page's charts and the organisations to choose from."""
    cycles = found.cycles
    lines = tuple(
        sparkline(
            _along(r.points, cycles, "index"),
            _along(r.points, cycles, "low"),
            _along(r.points, cycles, "high"),
            cycles,
        )
        for r in found.rollups
    )
    heat = (
        heat_map(
            [h.member.name for h in found.heat], found.dimensions, [h.cells for h in found.heat]
        )
        if found.heat
        else None
    )
    chosen = tuple(s.member.slug for s in found.selected) if chose else ()
    needle = query.casefold()
    picked = [m for m in found.members if m.slug in chosen]
    matches = [m for m in found.members if m.slug not in chosen and needle in m.name.casefold()]
    room = max(CHOICES_LISTED - len(picked), 0)
    return TrendsPage(
        found,
        tuple(_series_chart(s, cycles) for s in found.selected),
        _series_chart(found.partner_view, cycles, 400) if found.partner_view else None,
        lines,
        heat,
        tuple(
            (kind, label, *STYLES[kind], marker_path(STYLES[kind][1], 22, 7))
            for kind, label in LINES
        ),
        chosen,
        query,
        tuple(picked + matches[:room]),
        len(matches),
        max(len(matches) - room, 0),
    )


def _along(points: tuple[Point, ...], cycles: tuple[str, ...], what: str) -> list[float | None]:
    """One figure of a series in every cycle shown (None where it was not scored or shown)."""
    by = {p.cycle: p for p in points}
    return [
        (getattr(by[c], what) if hasattr(by[c], what) else by[c].layers.get(what))
        if c in by
        else None
        for c in cycles
    ]


def _series_chart(series: Series, cycles: tuple[str, ...], width: int = 320) -> LineChart:
    def line(kind: str, label: str) -> Values:
        if kind != "index":
            return Values(label, kind, _along(series.points, cycles, kind))
        low, high = _along(series.points, cycles, "low"), _along(series.points, cycles, "high")
        return Values(label, kind, _along(series.points, cycles, "index"), low, high)

    lines = [line(k, label) for k, label in LINES]
    return trend_chart(series.member.name, cycles, lines, width, 180 if width <= 320 else 200)


class WorkspacesController(Controller):
    """Pages behind sign-in."""

    @get("/", name="home")
    async def home(self, request: Any_Request) -> Template:
        """The workspaces this person may open."""
        viewer = await required_viewer(request)
        return Template(
            "pages/workspaces.html",
            context={"page": {"viewer": viewer, "workspaces": await workspaces_of(viewer)}},
        )

    @get("/w/sponsors/{slug:str}", name="portfolio")
    async def portfolio(self, slug: FromPath[str], request: Any_Request) -> Template:
        """A sponsor's sites: tier, index and interval, trend, movement; filtered and sorted."""
        viewer = await required_viewer(request)
        sponsor = await in_reach(viewer, slug, OrgKind.sponsor, Reach.may_see_portfolio)
        sites = viewer.reach.portfolio_sites(sponsor)
        query = request.query_params
        found = await portfolio(sponsor, sites, query.get("cycle"))
        filters = {k: query.get(k, "") for k in ("network", "country", "area", "tier")}
        choices = {
            "network": tuple(sorted({r.network for r in found.rows if r.network})),
            "country": tuple(sorted({r.country for r in found.rows if r.country})),
            "area": tuple(sorted({a for r in found.rows for a in r.areas})),
            "tier": tuple(str(t.value) for t in Tier),
            "cycle": found.cycles,
        }
        unknown = {k: v for k, v in filters.items() if v and v not in choices[k]}
        if query.get("cycle") and query.get("cycle") not in found.cycles:
            unknown["cycle"] = query.get("cycle", "")
        filters.update({k: "" for k in unknown if k in filters})  # shown unfiltered, and said so
        rows = [r for r in found.rows if _matches(r, filters)]
        sort = query.get("sort", "tier") if query.get("sort") in SORTABLE else "tier"
        descending = query.get("order") == "desc"
        rows.sort(key=SORTABLE[sort], reverse=descending)
        pages = max(1, -(-len(rows) // PER_PAGE))
        asked = query.get("page", "1")
        number = int(asked) if asked.isdigit() and 1 <= int(asked) <= pages else 1
        if str(number) != asked:
            unknown["page"] = asked
        # how sites see the sponsor is the sponsor's own feedback: not for a CRO's users
        benchmark = await peer_benchmark(sponsor, found.run) if sites is None else ()
        spreads = tuple(
            spread(b.low, b.median, b.high, b.yours)
            if b.low is not None and b.median is not None and b.high is not None
            else None
            for b in benchmark
        )
        page = PortfolioPage(
            found,
            slug,
            tuple(rows[(number - 1) * PER_PAGE : number * PER_PAGE]),
            filters,
            choices,
            sort,
            descending,
            benchmark,
            spreads,
            unknown=unknown,
            matching=len(rows),
            page_number=number,
            pages=pages,
            first=(number - 1) * PER_PAGE + 1,
            scorecards=_portfolio_scorecards(viewer, found, slug),
        )
        return Template(
            "pages/portfolio.html",
            context={"page": page, "viewer": viewer},
            status_code=400 if unknown else 200,
        )

    @get("/w/sponsors/{slug:str}/tiers", name="tier-review")
    async def tiers(self, slug: FromPath[str], request: Any_Request) -> Template:
        """The computed tiers beside the previous ones, with their trace, to accept or override."""
        viewer, sponsor = await _in_reach(request, slug, OrgKind.sponsor, Reach.may_review_tiers)
        return await _review_page(viewer, sponsor, slug, request.query_params.get("cycle"))

    @post("/w/sponsors/{slug:str}/tiers/{site:str}", name="tier-override")
    async def override(
        self,
        slug: FromPath[str],
        site: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        request: Any_Request,
    ) -> Template | Redirect:
        """Override one site's tier with a reason, or return it to the computed tier."""
        viewer, sponsor = await _in_reach(request, slug, OrgKind.sponsor, Reach.may_review_tiers)
        site_id = await organisation_id(site, OrgKind.site)
        cycle = data.get("cycle", "")
        raw = data.get("tier", "")
        tier = Tier(int(raw)) if raw in {str(t.value) for t in Tier} else None
        kept = {site: {"tier": raw, "reason": data.get("reason", "")}}
        if raw and tier is None:
            errors = {site: "Choose one of the four tiers."}
            return await _review_page(viewer, sponsor, slug, cycle, errors, kept)
        try:
            await set_override(
                cycle,
                sponsor,
                site_id,
                tier,
                data.get("reason", ""),
                viewer.who.person_id,
                viewer.who.email,
                dt.datetime.now(dt.UTC),
            )
        except (TierReviewError, CycleTransitionError) as error:
            errors = {site: sentence(error)}
            return await _review_page(viewer, sponsor, slug, cycle, errors, kept)
        return Redirect(
            f"/w/sponsors/{slug}/tiers?cycle={quote(cycle)}#site-{site}", status_code=303
        )

    @post("/w/cycles/{key:str}/publish", name="publish")
    async def publish(
        self, key: FromPath[str], data: URLEncodedBody[dict[str, str]], request: Any_Request
    ) -> Redirect:
        """Publish a scored cycle (administrators): tiers freeze, scorecards become visible."""
        viewer = await required_viewer(request)
        if not viewer.reach.may_publish:
            raise OutOfReach(viewer, f"publishing {key}")
        back = safe_next(data.get("back"))
        try:
            await publish_cycle(
                key, viewer.who.person_id, viewer.who.email, dt.datetime.now(dt.UTC)
            )
        except (TierReviewError, CycleTransitionError) as error:
            raise ClientException(sentence(error)) from None
        return Redirect(back, status_code=303)

    @get("/w/sites/{slug:str}", name="site")
    async def site(self, slug: FromPath[str], request: Any_Request) -> Template:
        """How each sponsor rates this site, how it rates them, and where the views differ."""
        viewer, site_id = await _in_reach(request, slug, OrgKind.site, Reach.may_see_site)
        page = site_context(await site_page(site_id))
        return Template("pages/site.html", context={"page": page, "viewer": viewer})

    @get("/w/networks/{slug:str}", name="network")
    async def network(self, slug: FromPath[str], request: Any_Request) -> Template:
        """A network's sites side by side, and the network as a whole."""
        viewer, network_id = await _in_reach(request, slug, OrgKind.network, Reach.may_see_network)
        page = network_context(*await network_sites(network_id))
        return Template("pages/network.html", context={"page": page, "viewer": viewer})

    @get("/w/trends/{slug:str}", name="trends")
    async def trends(self, slug: FromPath[str], request: Any_Request) -> Template:
        """A managed organisation's sites over the cycles: roll-ups, movers, flags, side by side."""
        viewer = await required_viewer(request)
        scope = await trends_in_reach(viewer, slug)
        query = request.query_params
        chosen = tuple(dict.fromkeys(query.getall("org", [])))
        found = await scope_trends(scope, query.get("cycle"), chosen)
        page = trends_page(found, query.get("q", "").strip(), bool(chosen))
        return Template("pages/trends.html", context={"page": page, "viewer": viewer})


async def _review_page(
    viewer: Viewer,
    sponsor: int,
    slug: str,
    cycle_key: str | None,
    errors: dict[str, str] | None = None,
    kept: dict[str, dict[str, str]] | None = None,
) -> Template:
    """The review page; after a refused change, its message and what was typed, kept."""
    found = await review_in_cycle(sponsor, cycle_key, viewer.reach.portfolio_sites(sponsor))
    if found is None:
        raise NotFoundException("no cycle has been scored yet")
    review, cycles = found
    named = await Organisation.select(Organisation.name).where(Organisation.id == sponsor).first()
    name = named["name"] if named else "?"
    page = {
        "review": review,
        "sponsor": name,
        "slug": slug,
        "cycles": cycles,
        "errors": errors or {},
        "kept": kept or {},
        "tiers": tuple(Tier),
        "viewer": viewer,
    }
    return Template("pages/tiers.html", context={"page": page}, status_code=400 if errors else 200)


def _portfolio_scorecards(
    viewer: Viewer, found: Portfolio, slug: str
) -> tuple[tuple[str, str], ...]:
    """The portfolio's and the sponsor's own scorecards, for those who may read them."""
    if not found.cycle or not viewer.reach.may_review_tiers(found.sponsor_id):
        return ()
    base = f"/w/scorecards/{quote(found.cycle)}"
    return (
        ("the portfolio", f"{base}/portfolios/{slug}"),
        (f"how sites see {found.sponsor}", f"{base}/partners/{slug}"),
    )


def sentence(error: Exception) -> str:
    """A refusal's message as a sentence for a page: capital first, full stop last."""
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _matches(row: PortfolioRow, filters: dict[str, str]) -> bool:
    if filters["network"] and row.network != filters["network"]:
        return False
    if filters["country"] and row.country != filters["country"]:
        return False
    if filters["area"] and filters["area"] not in row.areas:
        return False
    return not (filters["tier"] and str(int(row.tier or 0)) != filters["tier"])


async def _in_reach(
    request: Any_Request, slug: str, kind: OrgKind, allowed: Callable[[Reach, int], bool]
) -> tuple[Viewer, int]:
    """The signed-in viewer and the organisation a page is about, if it is in reach."""
    viewer = await required_viewer(request)
    return viewer, await in_reach(viewer, slug, kind, allowed)


async def in_reach(
    viewer: Viewer, slug: str, kind: OrgKind, allowed: Callable[[Reach, int], bool]
) -> int:
    """The organisation a page or API route is about; OutOfReach (a logged 404) if the
    policy does not let this viewer open it."""
    organisation = await organisation_id(slug, kind)
    if not allowed(viewer.reach, organisation):
        raise OutOfReach(viewer, f"{kind.value} {slug}")
    return organisation


async def trends_in_reach(viewer: Viewer, slug: str) -> Scope:
    """The scope of a trends page or route, if the viewer manages it; else OutOfReach."""
    scope = await scope_of(slug)
    if scope is None or not viewer.reach.may_see_trends(scope.organisation_id):
        raise OutOfReach(viewer, f"trends of {slug}")
    return scope


async def relationship_in_reach(viewer: Viewer, sponsor: str, site: str) -> tuple[int, int]:
    """A relationship's sponsor and site ids, if either side of it is in reach."""
    ids = await organisation_id(sponsor, OrgKind.sponsor), await organisation_id(site, OrgKind.site)
    if not viewer.reach.may_see_relationship(*ids):
        raise OutOfReach(viewer, f"relationship {sponsor}/{site}")
    return ids


async def organisation_id(slug: str, kind: OrgKind) -> int:
    """The id of the organisation of this kind with this slug; 404 if there is none."""
    found = await organisation_with_slug(slug, kind)
    if found is None:
        raise NotFoundException("no such organisation")
    return found


async def workspaces_of(viewer: Viewer) -> list[Workspace]:
    """The portfolios, tier reviews, networks and sites a viewer may open, by name."""
    reach = viewer.reach
    scope = (
        Organisation.kind == OrgKind.sponsor.value
        if reach.administrator
        else Organisation.id.is_in(list(reach.portfolios) or [-1])
    )
    sponsors = (
        await Organisation.select(Organisation.id, Organisation.slug, Organisation.name)
        .where(scope)
        .order_by(Organisation.name)
    )
    found = []
    for s in sponsors:
        found.append(
            Workspace(f"{s['name']}: portfolio of sites", f"/w/sponsors/{s['slug']}", "portfolio")
        )
        if reach.may_see_trends(int(s["id"])):
            found.append(
                Workspace(
                    f"{s['name']}: trends across its sites", f"/w/trends/{s['slug']}", "trends"
                )
            )
        if reach.may_review_tiers(int(s["id"])):
            found.append(
                Workspace(f"{s['name']}: tier review", f"/w/sponsors/{s['slug']}/tiers", "tiers")
            )
    places = (
        await Organisation.select(
            Organisation.id, Organisation.slug, Organisation.name, Organisation.kind
        )
        .where(
            Organisation.kind.is_in([OrgKind.network.value, OrgKind.site.value])
            if reach.administrator
            else Organisation.id.is_in(list(reach.sites | reach.networks) or [-1])
        )
        .order_by(Organisation.kind, Organisation.name)
    )
    for place in places:
        if place["kind"] == OrgKind.network:
            href, title = f"/w/networks/{place['slug']}", f"{place['name']}: its sites side by side"
        else:
            href, title = f"/w/sites/{place['slug']}", f"{place['name']}: results"
        found.append(Workspace(title, href, str(place["kind"])))
        if place["kind"] == OrgKind.network and reach.may_see_trends(int(place["id"])):
            found.append(
                Workspace(
                    f"{place['name']}: trends across its sites",
                    f"/w/trends/{place['slug']}",
                    "trends",
                )
            )
    return found
