"""One typed context per page: what a template may show, and nothing it must compute."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from markupsafe import Markup

from surveys.charts import GapChart, IntervalPlot, gap_chart, interval_plot
from surveys.cycles.invitations import LinkView
from surveys.directory.organisations import OrganisationListing
from surveys.instruments.questionnaires import Questionnaire
from surveys.responses.answering import FormAnswers
from surveys.workspaces.site_view import Rating, SitePage


@dataclass(frozen=True)
class KindGroup:
    """The organisations of one kind, as the home page lists them."""

    kind: str
    """sponsor, cro, network or site."""
    title: str
    """The group's heading."""
    organisations: tuple[OrganisationListing, ...]
    """Sorted by name."""


@dataclass(frozen=True)
class HomeContext:
    """The home page: every organisation, grouped by kind."""

    groups: tuple[KindGroup, ...]
    """Sponsors, CROs, networks, then sites."""
    total: int
    """How many organisations in all."""
    database: str
    """Which database this instance serves, e.g. "SQLite" or "PostgreSQL"."""


@dataclass(frozen=True)
class LinkContext:
    """The page a survey link leads to."""

    link: LinkView
    """The invitation's state, partner and cycle, as much as may be shown."""


@dataclass(frozen=True)
class SurveyContext:
    """The survey form: the questions, the answers so far, and what is wrong with them."""

    link: LinkView
    questionnaire: Questionnaire
    answers: FormAnswers
    errors: dict[str, str]
    """Item key → message (translated), in the order the questions appear."""
    answered: int
    """Questions answered so far (statements and the overall question)."""
    questions: int
    """Questions that need an answer before submitting."""
    notice: str | None
    """A line to show above the form, e.g. that a draft was saved."""
    privacy: str
    """Who will see the answers and the comment, in the respondent's terms."""
    comment_limit: int
    token: str
    """The link's token, to post the form back to the same address."""
    language: str
    """The language the form is shown in."""
    languages: dict[str, str]
    """Every language the form can switch to, by code, with its own name."""
    closes: str | None
    """The closing date, written as the language writes dates."""
    questions_html: Markup | None = None
    """The dimensions' questions already rendered (a fresh form), else None: render them."""


@dataclass(frozen=True)
class SiteContext:
    """A site's results page: the published figures and the charts drawn from them."""

    page: SitePage
    rated_by_chart: IntervalPlot | None
    """Each sponsor's view of the site, as points with their intervals (None: no ratings)."""
    rates_chart: IntervalPlot | None
    """The site's view of each sponsor and CRO."""
    gaps_chart: GapChart | None
    """The two views on each mirror dimension, joined by the gap (None: no gap shown)."""


def site_context(page: SitePage) -> SiteContext:
    """Lay out a site page's charts from its figures."""
    gaps = (
        gap_chart(
            [
                (f"{g.partner}: {g.mirror.replace('_', ' ')}", g.site_view, g.partner_view)
                for g in page.gaps
            ],
            "your view of them",
            "their view of you",
        )
        if page.gaps
        else None
    )
    return SiteContext(page, _ratings_chart(page.rated_by), _ratings_chart(page.rates), gaps)


@dataclass(frozen=True)
class NetworkContext:
    """A network's page: its sites side by side, and the network as a whole."""

    name: str
    cycle: str | None
    """The published cycle shown; None before any is published."""
    sites: tuple[Rating, ...]
    median: float | None
    """The median index of the sites shown; None if none is."""
    shown: int
    """Sites with enough responses to show."""
    chart: IntervalPlot | None
    """The sites' indices with their intervals, and the median as a reference line."""


def network_context(name: str, cycle: str | None, sites: tuple[Rating, ...]) -> NetworkContext:
    """Lay out a network page: the median of its shown sites, and the chart."""
    shown = [r.index for r in sites if r.index is not None]
    middle = median(shown) if shown else None
    chart = _ratings_chart(sites, (middle, "network median") if middle is not None else None)
    return NetworkContext(name, cycle, sites, middle, len(shown), chart)


def _ratings_chart(
    ratings: Sequence[Rating], reference: tuple[float, str] | None = None
) -> IntervalPlot | None:
    if not ratings:
        return None
    return interval_plot([(r.partner, r.index, r.low, r.high) for r in ratings], reference)
