"""The workspaces a signed-in person opens: their home, and a sponsor's portfolio.

Each handler asks the viewer's reach (surveys.policy) before it reads anything, and
passes that reach into the query: nothing out of reach is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from surveys.organisations import Organisation, OrgKind
from surveys.policy import Viewer
from surveys.portfolio import Portfolio, PortfolioRow, portfolio, scored_cycles
from surveys.tiers import Tier
from surveys.web.auth import required_viewer

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
    cycles: tuple[str, ...]
    tiers: tuple[Tier, ...] = tuple(Tier)


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
        sponsor = await _organisation(slug, OrgKind.sponsor)
        try:
            in_reach = viewer.reach.portfolio_sites(sponsor)
        except PermissionError:
            raise NotFoundException("no such portfolio") from None  # 404: existence not disclosed
        query = request.query_params
        found = await portfolio(sponsor, in_reach, query.get("cycle"))
        filters = {k: query.get(k, "") for k in ("network", "country", "area", "tier")}
        rows = [r for r in found.rows if _matches(r, filters)]
        sort = query.get("sort", "tier") if query.get("sort") in SORTABLE else "tier"
        descending = query.get("order") == "desc"
        rows.sort(key=SORTABLE[sort], reverse=descending)
        choices = {
            "network": tuple(sorted({r.network for r in found.rows if r.network})),
            "country": tuple(sorted({r.country for r in found.rows if r.country})),
            "area": tuple(sorted({a for r in found.rows for a in r.areas})),
        }
        cycles = tuple(str(c["key"]) for c in await scored_cycles())
        page = PortfolioPage(found, slug, tuple(rows), filters, choices, sort, descending, cycles)
        return Template("pages/portfolio.html", context={"page": page, "viewer": viewer})


def _matches(row: PortfolioRow, filters: dict[str, str]) -> bool:
    if filters["network"] and row.network != filters["network"]:
        return False
    if filters["country"] and row.country != filters["country"]:
        return False
    if filters["area"] and filters["area"] not in row.areas:
        return False
    return not (filters["tier"] and str(int(row.tier or 0)) != filters["tier"])


async def _organisation(slug: str, kind: OrgKind) -> int:
    row = await Organisation.select(Organisation.id).where(
        (Organisation.slug == slug) & (Organisation.kind == kind.value)
    ).first()  # fmt: skip
    if row is None:
        raise NotFoundException("no such organisation")
    return int(row["id"])


async def workspaces_of(viewer: Viewer) -> list[Workspace]:
    """The portfolios and sites a viewer may open, by name."""
    reach = viewer.reach
    if reach.administrator:
        sponsors = await Organisation.select(Organisation.slug, Organisation.name).where(
            Organisation.kind == OrgKind.sponsor.value
        ).order_by(Organisation.name)  # fmt: skip
    else:
        ids = list(reach.portfolios) or [-1]
        sponsors = await Organisation.select(Organisation.slug, Organisation.name).where(
            Organisation.id.is_in(ids)
        ).order_by(Organisation.name)  # fmt: skip
    return [
        Workspace(f"{s['name']}: portfolio of sites", f"/w/sponsors/{s['slug']}", "portfolio")
        for s in sponsors
    ]
