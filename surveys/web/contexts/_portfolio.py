"""A sponsor's pages: its portfolio of sites, and the tier review."""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

from surveys.accounts.policy import Viewer
from surveys.charts import (
    Spread,
    spread,
)
from surveys.directory.rules import area_name, country_name
from surveys.infra.i18n import N_, Text, long_date, number
from surveys.results.tier_assignments import Tier
from surveys.results.tier_review import Review, ReviewRow
from surveys.scorecards._trace import trace_in
from surveys.scorecards._words import say_in
from surveys.web.contexts._forms import TypedOverride
from surveys.workspaces.portfolio import Benchmark, Portfolio, PortfolioRow
from surveys.workspaces.portfolio_view import PortfolioView
from surveys.workspaces.reviews import SponsorReview, Untiered

ACCEPT_ALL = "accept-all"
"""The key of an "accept all" refusal among the page's errors (site slugs are the others)."""


@dataclass(frozen=True)
class PortfolioContext:
    """A sponsor's portfolio page: one page of its sites, filtered and sorted, and how sites
    see the sponsor against its peers."""

    portfolio: Portfolio
    """The whole portfolio in the cycle shown (every site in reach, unfiltered)."""
    slug: str
    """The sponsor's slug, for the page's links."""
    rows: tuple[PortfolioRow, ...]
    """This page's sites."""
    filters: dict[str, str]
    """The filters applied (network, country, area, tier); empty: not filtered."""
    choices: dict[str, tuple[str, ...]]
    """The values each filter and the cycle can take."""
    labels: dict[str, dict[str, str]]
    """Filter → value → what the reader is shown for it (an area's or a country's name)."""
    sort: str
    """The column sorted by."""
    descending: bool
    """Whether the sort is reversed."""
    benchmark: tuple[Benchmark, ...]
    """How sites see the sponsor against its peers; empty for a CRO's users."""
    spreads: tuple[Spread | None, ...]
    """One strip per benchmark measure (None with too few peers)."""
    unknown: dict[str, str]
    """Filters given a value the portfolio does not have: ignored, and the page says so."""
    matching: int
    """Sites that pass the filters, on every page."""
    page_number: int
    """This page's number, from 1."""
    pages: int
    """Pages of matching sites."""
    first: int
    """The position of this page's first site among those matching."""
    scorecards: tuple[tuple[Text, str], ...]
    """The cycle's scorecards this viewer may open: (label, address)."""
    tiers: tuple[Tier, ...] = tuple(Tier)
    """The tiers to filter by."""


def portfolio_context(
    view: PortfolioView, slug: str, viewer: Viewer, language: str = "en"
) -> PortfolioContext:
    """Lay out a portfolio page: the benchmark's strips and the scorecards to link to, in
    the reader's `language`."""
    found = view.portfolio
    return PortfolioContext(
        portfolio=found,
        slug=slug,
        rows=view.sites.items,
        filters=view.filters,
        choices=view.choices,
        labels={
            "area": {code: area_name(code) for code in view.choices["area"]},
            "country": {code: country_name(code, language) for code in view.choices["country"]},
        },
        sort=view.sort,
        descending=view.descending,
        benchmark=found.benchmark,
        spreads=tuple(
            _spread(b.low, b.median, b.high, b.yours, language)
            if b.low is not None and b.median is not None and b.high is not None
            else None
            for b in found.benchmark
        ),
        unknown=view.unknown,
        matching=view.sites.total,
        page_number=view.sites.number,
        pages=view.sites.pages,
        first=view.sites.first,
        scorecards=_portfolio_scorecards(viewer, found, slug),
    )


def _spread(low: float, middle: float, high: float, yours: float | None, language: str) -> Spread:
    """A benchmark strip, described in the reader's `language`."""
    drawn = spread(low, middle, high, yours)
    values = {
        "low": number(low, language),
        "high": number(high, language),
        "median": number(middle, language),
    }
    if yours is None:
        words = Text(
            N_("peers' middle half %(low)s to %(high)s, median %(median)s; yours not shown"), values
        )
    else:
        values["yours"] = number(yours, language)
        words = Text(
            N_("peers' middle half %(low)s to %(high)s, median %(median)s; yours %(yours)s"), values
        )
    return replace(drawn, description=words.render(language))


def _portfolio_scorecards(
    viewer: Viewer, found: Portfolio, slug: str
) -> tuple[tuple[Text, str], ...]:
    """The portfolio's and the sponsor's own scorecards, for those who may read them."""
    if not found.cycle or not viewer.reach.may_review_tiers(found.sponsor_id):
        return ()
    base = f"/w/scorecards/{quote(found.cycle)}"
    return (
        (Text(N_("the portfolio")), f"{base}/portfolios/{slug}"),
        (
            Text(N_("how sites see %(sponsor)s"), {"sponsor": found.sponsor}),
            f"{base}/partners/{slug}",
        ),
    )


@dataclass(frozen=True)
class TierReviewContext:
    """A sponsor's tier review: the computed tiers beside the previous ones, with their
    trace, to accept or override."""

    review: Review
    """The cycle's tiers under review."""
    sponsor: str
    """The sponsor's name."""
    slug: str
    """The sponsor's slug, for the page's forms and links."""
    cycles: tuple[str, ...]
    """Every scored cycle, newest first: the ones the page can switch to."""
    errors: dict[str, str | Text]
    """Site slug → why its change was refused, as a sentence."""
    kept: dict[str, TypedOverride]
    """Site slug → what was typed for it before the refusal."""
    viewer: Viewer
    """Who is signed in (administrators also see the publish button)."""
    states: dict[str, Text]
    """Site slug → where its review stands: accepted by whom and when, overridden, or not
    yet reviewed."""
    untiered: tuple[Untiered, ...]
    """The portfolio's sites without a computed tier this cycle, with the reason."""
    traces: dict[str, str]
    """Site slug → why the computed tier, in the reader's language (as the scorecards
    write the stored rule trace)."""
    confirming: bool = False
    """The reviewer asked to accept every unreviewed tier: the page asks them to confirm."""
    tiers: tuple[Tier, ...] = tuple(Tier)
    """The tiers a reviewer may set."""
    accept_all: str = ACCEPT_ALL
    """The error key of a refused "accept all"."""

    @property
    def refusals(self) -> tuple[tuple[str, str | Text, bool], ...]:
        """Every refused change as (site slug, what to call it, whether the page shows its
        row): a change asked for a site outside this review is named by its slug, so the
        summary never says "nothing was changed" without saying why."""
        names: dict[str, str | Text] = {row.slug: row.name for row in self.review.rows}
        names[ACCEPT_ALL] = Text(N_("Accept all"))
        return tuple(
            (slug, names.get(slug, slug), slug in names and slug != ACCEPT_ALL)
            for slug in self.errors
        )


def tier_review_context(
    found: SponsorReview,
    slug: str,
    viewer: Viewer,
    errors: dict[str, str | Text] | None = None,
    kept: dict[str, TypedOverride] | None = None,
    confirming: bool = False,
    language: str = "en",
) -> TierReviewContext:
    """Lay out a tier review page; after a refusal, its message and what was typed (dates
    in the reader's `language`)."""
    return TierReviewContext(
        review=found.review,
        sponsor=found.sponsor,
        slug=slug,
        cycles=found.cycles,
        errors=errors or {},
        kept=kept or {},
        viewer=viewer,
        states={row.slug: _review_state(row, language) for row in found.review.rows},
        untiered=found.untiered,
        traces={row.slug: trace_in(row.trace, say_in(language)) for row in found.review.rows},
        confirming=confirming and bool(found.review.unreviewed) and not found.review.frozen,
    )


def _review_state(row: ReviewRow, language: str) -> Text:
    """Where a site's review stands, as the page says it."""
    if row.override is not None:
        if row.overridden_by:
            return Text(N_("Overridden by %(who)s"), {"who": row.overridden_by})
        return Text(N_("Overridden by a reviewer"))
    if row.accepted and row.accepted_at is not None:
        day = long_date(row.accepted_at, language)
        if row.accepted_by:
            return Text(N_("Accepted by %(who)s on %(day)s"), {"who": row.accepted_by, "day": day})
        return Text(N_("Accepted by a reviewer on %(day)s"), {"day": day})
    return Text(N_("Not yet reviewed"))
