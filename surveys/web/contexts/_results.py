"""What results pages show: a site, a network, and trends, with the charts laid out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
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
from surveys.infra.i18n import N_, Text, number
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
    who may open it (its network's people, an administrator); translated where shown."""

    rated_by: Text
    rates: Text
    rates_note: Text
    meeting_hint: Text
    gaps_title: Text
    site_view: Text
    partner_view: Text
    gaps_caption: Text


def site_words(site: str, own: bool, raters_needed: int) -> SiteWords:
    """The site page's words for its own people (`own`) or for another reader."""
    if own:
        return SiteWords(
            rated_by=Text(N_("How your sponsors rate you")),
            rates=Text(N_("How you rate your sponsors and CROs")),
            rates_note=Text(
                N_(
                    "From your own staff's answers: a sponsor or CRO rated by fewer than "
                    "%(needed)s of them shows no number, so no one's answers can be picked out."
                ),
                {"needed": raters_needed},
            ),
            meeting_hint=Text(N_("choose a sponsor to open your review meeting with it.")),
            gaps_title=Text(
                N_("How you see each sponsor and how it sees you, on the dimensions both rate")
            ),
            site_view=Text(N_("Your view of them")),
            partner_view=Text(N_("Their view of you")),
            gaps_caption=Text(
                N_(
                    "On the dimensions both sides rate, how you see the sponsor and how "
                    "the sponsor sees you (0–100)"
                )
            ),
        )
    return SiteWords(
        rated_by=Text(N_("How its sponsors rate %(site)s"), {"site": site}),
        rates=Text(N_("How %(site)s rates its sponsors and CROs"), {"site": site}),
        rates_note=Text(
            N_(
                "From %(site)s's own staff's answers: a sponsor or CRO rated by fewer than "
                "%(needed)s of them shows no number, so no one's answers can be picked out."
            ),
            {"site": site, "needed": raters_needed},
        ),
        meeting_hint=Text(N_("choose a sponsor to open the site's review meeting with it.")),
        gaps_title=Text(
            N_(
                "How %(site)s sees each sponsor and how it sees %(site)s, on the dimensions "
                "both rate"
            ),
            {"site": site},
        ),
        site_view=Text(N_("The site's view of them")),
        partner_view=Text(N_("Their view of the site")),
        gaps_caption=Text(
            N_(
                "On the dimensions both sides rate, how %(site)s sees the sponsor and how "
                "the sponsor sees the site (0–100)"
            ),
            {"site": site},
        ),
    )


CHART_WORDS = {
    True: (N_("your view of them"), N_("their view of you")),
    False: (N_("the site's view of them"), N_("their view of the site")),
}
"""What a gap chart's description calls the two views, for the site's own people or not."""


def site_context(
    page: SitePage, own: bool, drafts: DraftScorecards | None = None, language: str = "en"
) -> SiteContext:
    """Lay out a site page's charts from its figures, in words for its reader (`own`: one of
    the site's own people, who also see the draft scorecards they may answer), in the
    reader's `language`."""
    words = site_words(page.site, own, page.raters_needed)
    ours, theirs = (Text(w).render(language) for w in CHART_WORDS[own])
    gaps = (
        gap_chart(
            [(f"{g.partner}: {g.name}", g.site_view, g.partner_view) for g in page.gaps],
            ours,
            theirs,
        )
        if page.gaps
        else None
    )
    return SiteContext(
        page=page,
        rated_by_chart=_ratings_chart(page.rated_by, language),
        rates_chart=_ratings_chart(page.rates, language),
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


def network_context(
    name: str, cycle: str | None, sites: tuple[Rating, ...], language: str = "en"
) -> NetworkContext:
    """Lay out a network page: the median of its shown sites, and the chart (its words in
    the reader's `language`)."""
    shown = [r.index for r in sites if r.index is not None]
    middle = median(shown) if shown else None
    label = Text(N_("network median")).render(language)
    chart = _ratings_chart(sites, language, (middle, label) if middle is not None else None)
    return NetworkContext(
        name=name, cycle=cycle, sites=sites, median=middle, shown=len(shown), chart=chart
    )


def _ratings_chart(
    ratings: Sequence[Rating], language: str, reference: tuple[float, str] | None = None
) -> IntervalPlot | None:
    """Ratings as points with their intervals, for a chart; None when there are none."""
    if not ratings:
        return None
    hidden = Text(N_("too few responses")).render(language)
    return interval_plot(
        [(r.partner, r.index, r.low, r.high) for r in ratings], reference, hidden=hidden
    )


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
    ("index", N_("Reliability index")),
    ("quality", N_("Quality")),
    ("dependability", N_("Dependability")),
    ("speed", N_("Speed")),
    ("cost", N_("Cost")),
)
"""The lines of a trend chart: the index and each layer, with their labels (marked for
translation: the charts are drawn in the reader's language)."""


def trends_context(found: Trends, reach: Reach, language: str = "en") -> TrendsContext:
    """Lay out a trends page's charts, the organisations to choose from, and the page each
    organisation's name opens for a reader with this reach, in the reader's `language`."""
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
        charts=tuple(_series_chart(s, cycles, language) for s in found.selected),
        partner_chart=_series_chart(found.partner_view, cycles, language, 400)
        if found.partner_view
        else None,
        rollup_lines=tuple(
            _sparkline(_along(r.points, cycles, "index"), r.points, cycles, language)
            for r in found.rollups
        ),
        heat=heat,
        legend=tuple(
            (kind, Text(label).render(language), *STYLES[kind], marker_path(STYLES[kind][1], 22, 7))
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


def _sparkline(
    values: list[float | None], points: tuple[Point, ...], cycles: tuple[str, ...], language: str
) -> Sparkline:
    """A roll-up's index over the cycles, described in the reader's `language`."""
    drawn = sparkline(values, _along(points, cycles, "low"), _along(points, cycles, "high"), cycles)
    hidden = Text(N_("not shown")).render(language)
    words = ", ".join(
        f"{cycle}: {hidden if value is None else number(value, language)}"
        for cycle, value in zip(cycles, values, strict=True)
    )
    return replace(drawn, description=words)


def _series_chart(
    series: Series, cycles: tuple[str, ...], language: str, width: int = 320
) -> SmallMultiple:
    """One organisation's index (with its interval) over the cycles shown, and its layers
    each on a row of their own, named in the reader's `language`."""
    points = series.points
    (kind, label), layers = LINES[0], LINES[1:]
    index = Values(
        Text(label).render(language),
        kind,
        _along(points, cycles, kind),
        _along(points, cycles, "low"),
        _along(points, cycles, "high"),
    )
    rows = [
        Values(Text(name).render(language), layer, _along(points, cycles, layer))
        for layer, name in layers
    ]
    return small_multiple(series.member.name, cycles, index, rows, width)
