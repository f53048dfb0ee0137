"""A portfolio as its page asks for it: filtered, sorted and cut into pages.

The filters, sort and page come from the page's address as typed; a value the portfolio
does not have is shown back unapplied (and said so) rather than refused. The API lists the
same rows (surveys.workspaces.portfolio) by name instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from surveys.infra.numbers import whole_number
from surveys.infra.pagination import Page, page_count, page_of
from surveys.results.tier_assignments import Tier
from surveys.workspaces.portfolio import Portfolio, PortfolioRow, portfolio

SORTABLE: dict[str, Callable[[PortfolioRow], Any]] = {
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
FILTERS = ("network", "country", "area", "tier")
"""What a portfolio page filters its sites by, in the order its address lists them."""


@dataclass(frozen=True)
class PortfolioQuery:
    """What a portfolio page's address asks for, as typed: a value the portfolio does not
    have is shown back unapplied rather than refused."""

    cycle: str | None = None
    """A scored cycle's key; the latest if left out."""
    network: str = ""
    country: str = ""
    area: str = ""
    tier: str = ""
    """Filters; empty: not filtered."""
    sort: str | None = None
    """A column of SORTABLE; by tier otherwise."""
    descending: bool = False
    page: str = "1"
    """The page number as typed."""


@dataclass(frozen=True)
class PortfolioView:
    """A portfolio filtered, sorted and cut into pages, as its page shows it."""

    portfolio: Portfolio
    sites: Page[PortfolioRow]
    """This page's sites, of those that pass the filters."""
    filters: dict[str, str]
    """The filters applied, in FILTERS order; an unknown value is blanked."""
    choices: dict[str, tuple[str, ...]]
    """The values each filter (and the cycle) can take in this portfolio."""
    sort: str
    descending: bool
    unknown: dict[str, str]
    """What was asked for and does not exist here (filter, cycle or page → the value)."""


async def portfolio_view(
    sponsor_id: int, sites: frozenset[int] | None, query: PortfolioQuery
) -> PortfolioView:
    """A sponsor's portfolio as its page asks for it: filtered, sorted and paginated."""
    found = await portfolio(sponsor_id, sites, query.cycle)
    choices = {
        "network": tuple(sorted({r.network for r in found.rows if r.network})),
        "country": tuple(sorted({r.country for r in found.rows if r.country})),
        "area": tuple(sorted({a for r in found.rows for a in r.areas})),
        "tier": tuple(str(t.value) for t in Tier),
        "cycle": found.cycles,
    }
    asked = {"network": query.network, "country": query.country, "area": query.area}
    filters = {**asked, "tier": query.tier}
    unknown = {k: v for k, v in filters.items() if v and v not in choices[k]}
    if query.cycle and query.cycle not in found.cycles:
        unknown["cycle"] = query.cycle
    filters.update({k: "" for k in unknown if k in filters})  # shown unfiltered, and said so
    rows = [r for r in found.rows if _matches(r, filters)]
    sort = query.sort if query.sort is not None and query.sort in SORTABLE else "tier"
    rows.sort(key=SORTABLE[sort], reverse=query.descending)
    pages = page_count(len(rows), PER_PAGE)
    wanted = whole_number(query.page)
    number = wanted if wanted is not None and 1 <= wanted <= pages else 1
    if str(number) != query.page:
        unknown["page"] = query.page
    return PortfolioView(
        portfolio=found,
        sites=page_of(rows, number, PER_PAGE),
        filters=filters,
        choices=choices,
        sort=sort,
        descending=query.descending,
        unknown=unknown,
    )


def _matches(row: PortfolioRow, filters: dict[str, str]) -> bool:
    """Whether a site passes every filter set (an empty filter passes all)."""
    if filters["network"] and row.network != filters["network"]:
        return False
    if filters["country"] and row.country != filters["country"]:
        return False
    if filters["area"] and filters["area"] not in row.areas:
        return False
    return not (filters["tier"] and str(int(row.tier or 0)) != filters["tier"])
