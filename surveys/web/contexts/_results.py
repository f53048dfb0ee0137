"""What results pages show: a site, a network, and trends, with the charts laid out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from surveys.accounts.policy import Reach
from surveys.charts import (
    STYLES,
    GapChart,
    HeatMap,
    IntervalPlot,
    SmallMultiple,
    Sparkline,
    Values,
    gap_chart,
    heat_map,
    interval_plot,
    marker_path,
    small_multiple,
    sparkline,
)
from surveys.directory.organisations import OrgKind
from surveys.workspaces.institution_trends import (
    MOST_COMPARED,
    Member,
    Point,
    Scope,
    Series,
    Trends,
)
from surveys.workspaces.site_view import DraftScorecards, Rating, SitePage


@dataclass(frozen=True)
class SiteContext:
    """A site's results page: the published figures and the charts drawn from them."""

    page: SitePage
    """The site's figures in the latest published cycle."""
    rated_by_chart: IntervalPlot | None
    """Each sponsor's view of the site, as points with their intervals (None: no ratings)."""
    rates_chart: IntervalPlot | None
    """The site's view of each sponsor and CRO."""
    gaps_chart: GapChart | None
    """The two views on each mirror dimension, joined by the gap (None: no gap shown)."""
    words: SiteWords
    """The page's headings and notes, addressed to whoever reads it."""
    drafts: DraftScorecards | None = None
    """The scorecards the site's own people may answer now (None: none, or not theirs)."""


@dataclass(frozen=True)
class SiteWords:
    """A site page's words: "you" to the site's own people, the site by name to anyone else
    who may open it (its network's people, an administrator)."""

    rated_by: str
    rates: str
    rates_note: str
    meeting_hint: str
    gaps_title: str
    site_view: str
    partner_view: str
    gaps_caption: str


def site_words(site: str, own: bool, raters_needed: int) -> SiteWords:
    """The site page's words for its own people (`own`) or for another reader."""
    if own:
        return SiteWords(
            rated_by="How your sponsors rate you",
            rates="How you rate your sponsors and CROs",
            rates_note=f"From your own staff's answers: a sponsor or CRO rated by fewer than "
            f"{raters_needed} of them shows no number, so no one's answers can be picked out.",
            meeting_hint="choose a sponsor to open your review meeting with it.",
            gaps_title="How you see each sponsor and how it sees you, on the dimensions both rate",
            site_view="Your view of them",
            partner_view="Their view of you",
            gaps_caption="On the dimensions both sides rate, how you see the sponsor and how "
            "the sponsor sees you (0–100)",
        )
    return SiteWords(
        rated_by=f"How its sponsors rate {site}",
        rates=f"How {site} rates its sponsors and CROs",
        rates_note=f"From {site}'s own staff's answers: a sponsor or CRO rated by fewer than "
        f"{raters_needed} of them shows no number, so no one's answers can be picked out.",
        meeting_hint="choose a sponsor to open the site's review meeting with it.",
        gaps_title=f"How {site} sees each sponsor and how it sees {site}, on the dimensions "
        "both rate",
        site_view="The site's view of them",
        partner_view="Their view of the site",
        gaps_caption=f"On the dimensions both sides rate, how {site} sees the sponsor and how "
        "the sponsor sees the site (0–100)",
    )


def site_context(page: SitePage, own: bool, drafts: DraftScorecards | None = None) -> SiteContext:
    """Lay out a site page's charts from its figures, in words for its reader (`own`: one of
    the site's own people, who also see the draft scorecards they may answer)."""
    words = site_words(page.site, own, page.raters_needed)
    gaps = (
        gap_chart(
            [(f"{g.partner}: {g.name}", g.site_view, g.partner_view) for g in page.gaps],
            words.site_view.lower(),
            words.partner_view.lower(),
        )
        if page.gaps
        else None
    )
    return SiteContext(
        page=page,
        rated_by_chart=_ratings_chart(page.rated_by),
        rates_chart=_ratings_chart(page.rates),
        gaps_chart=gaps,
        words=words,
        drafts=drafts if own else None,
    )


@dataclass(frozen=True)
class NetworkContext:
    """A network's page: its sites side by side, and the network as a whole."""

    name: str
    """The network's name."""
    cycle: str | None
    """The published cycle shown; None before any is published."""
    sites: tuple[Rating, ...]
    """Each site's pooled index, by name; hidden where too few responded."""
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
    return NetworkContext(
        name=name, cycle=cycle, sites=sites, median=middle, shown=len(shown), chart=chart
    )


def _ratings_chart(
    ratings: Sequence[Rating], reference: tuple[float, str] | None = None
) -> IntervalPlot | None:
    """Ratings as points with their intervals, for a chart; None when there are none."""
    if not ratings:
        return None
    return interval_plot([(r.partner, r.index, r.low, r.high) for r in ratings], reference)


@dataclass(frozen=True)
class TrendsContext:
    """The trends page: the figures, and the charts drawn from them."""

    trends: Trends
    """Everything read for the scope, up to the chosen cycle."""
    charts: tuple[SmallMultiple, ...]
    """One per compared organisation, in the same order."""
    partner_chart: SmallMultiple | None
    """For a sponsor: how its sites see it over the cycles."""
    rollup_lines: tuple[Sparkline, ...]
    """One per roll-up, in the same order."""
    heat: HeatMap | None
    """Dimension × organisation for those compared; None when none is."""
    legend: tuple[tuple[str, str, str, str, str], ...]
    """The key: the index's kind, label, dash pattern, marker shape and marker path (each
    layer is named on its own row of the chart)."""
    chosen: tuple[str, ...]
    """Slugs the viewer chose (empty: the page picked the biggest movers)."""
    query: str
    """What the viewer searched the organisations for."""
    choices: tuple[Member, ...]
    """The organisations to tick: those chosen first, then those matching the query."""
    matches: int
    """Organisations that match the query, the chosen aside."""
    more: int
    """Matches left out of `choices`."""
    links: dict[int, str]
    """Organisation id → the page its name opens, for those this reader may open."""
    most: int = MOST_COMPARED
    """Organisations that can be compared at once."""


LINES = (
    ("index", "Reliability index"),
    ("quality", "Quality"),
    ("dependability", "Dependability"),
    ("speed", "Speed"),
    ("cost", "Cost"),
)
"""The lines of a trend chart: the index and each layer, with their labels."""


def trends_context(found: Trends, reach: Reach) -> TrendsContext:
    """Lay out a trends page's charts, the organisations to choose from, and the page each
    organisation's name opens for a reader with this reach."""
    cycles = found.cycles
    heat = (
        heat_map(
            [h.member.name for h in found.heat], found.dimensions, [h.cells for h in found.heat]
        )
        if found.heat
        else None
    )
    return TrendsContext(
        trends=found,
        charts=tuple(_series_chart(s, cycles) for s in found.selected),
        partner_chart=_series_chart(found.partner_view, cycles, 400)
        if found.partner_view
        else None,
        rollup_lines=tuple(
            sparkline(
                _along(r.points, cycles, "index"),
                _along(r.points, cycles, "low"),
                _along(r.points, cycles, "high"),
                cycles,
            )
            for r in found.rollups
        ),
        heat=heat,
        legend=tuple(
            (kind, label, *STYLES[kind], marker_path(STYLES[kind][1], 22, 7))
            for kind, label in LINES[:1]
        ),
        chosen=found.choices.chosen,
        query=found.choices.search,
        choices=found.choices.listed,
        matches=found.choices.matches,
        more=found.choices.more,
        links=member_links(found.scope, found.members, reach),
    )


def member_links(scope: Scope, members: tuple[Member, ...], reach: Reach) -> dict[int, str]:
    """The page each of a scope's organisations opens for this reader, if any may be opened.

    On a sponsor's trends a site opens as the portfolio does, on the review meeting of the
    sponsor and the site (there is one: a sponsor's members are the sites it works with),
    since a sponsor's people do not open site pages; the sponsor itself (flagged as its
    sites see it) opens its portfolio. On a network's or a site's trends a site opens its
    own page. Whatever the reader may not open is left unlinked, never linked to a 404.
    """
    links = {}
    if scope.kind == OrgKind.sponsor and reach.may_see_portfolio(scope.organisation_id):
        links[scope.organisation_id] = f"/w/sponsors/{scope.slug}"
    for member in members:
        if scope.kind == OrgKind.sponsor and reach.may_see_relationship(
            scope.organisation_id, member.id, works_with=True
        ):
            links[member.id] = f"/w/relationships/{scope.slug}/{member.slug}/"
        elif reach.may_see_site(member.id):
            links[member.id] = f"/w/sites/{member.slug}"
    return links


def _along(points: tuple[Point, ...], cycles: tuple[str, ...], what: str) -> list[float | None]:
    """One figure of a series in every cycle shown (None where it was not scored or shown)."""
    by = {p.cycle: p for p in points}
    return [
        (getattr(by[c], what) if hasattr(by[c], what) else by[c].layers.get(what))
        if c in by
        else None
        for c in cycles
    ]


def _series_chart(series: Series, cycles: tuple[str, ...], width: int = 320) -> SmallMultiple:
    """One organisation's index (with its interval) over the cycles shown, and its layers
    each on a row of their own."""
    points = series.points
    (kind, label), layers = LINES[0], LINES[1:]
    index = Values(
        label,
        kind,
        _along(points, cycles, kind),
        _along(points, cycles, "low"),
        _along(points, cycles, "high"),
    )
    rows = [Values(name, layer, _along(points, cycles, layer)) for layer, name in layers]
    return small_multiple(series.member.name, cycles, index, rows, width)
