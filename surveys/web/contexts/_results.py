"""What results pages show: a site, a network, and trends, with the charts laid out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from surveys.charts import (
    STYLES,
    GapChart,
    HeatMap,
    IntervalPlot,
    LineChart,
    Sparkline,
    Values,
    gap_chart,
    heat_map,
    interval_plot,
    marker_path,
    sparkline,
    trend_chart,
)
from surveys.workspaces.institution_trends import MOST_COMPARED, Member, Point, Series, Trends
from surveys.workspaces.site_view import Rating, SitePage


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
    return SiteContext(
        page=page,
        rated_by_chart=_ratings_chart(page.rated_by),
        rates_chart=_ratings_chart(page.rates),
        gaps_chart=gaps,
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
    charts: tuple[LineChart, ...]
    """One per compared organisation, in the same order."""
    partner_chart: LineChart | None
    """For a sponsor: how its sites see it over the cycles."""
    rollup_lines: tuple[Sparkline, ...]
    """One per roll-up, in the same order."""
    heat: HeatMap | None
    """Dimension × organisation for those compared; None when none is."""
    legend: tuple[tuple[str, str, str, str, str], ...]
    """kind, label, dash pattern, marker shape and the marker's path in the key."""
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


def trends_context(found: Trends) -> TrendsContext:
    """Lay out a trends page's charts, and the organisations to choose from."""
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
            for kind, label in LINES
        ),
        chosen=found.choices.chosen,
        query=found.choices.search,
        choices=found.choices.listed,
        matches=found.choices.matches,
        more=found.choices.more,
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
    """One organisation's index (with its interval) and layers over the cycles shown."""

    def line(kind: str, label: str) -> Values:
        if kind != "index":
            return Values(label, kind, _along(series.points, cycles, kind))
        low, high = _along(series.points, cycles, "low"), _along(series.points, cycles, "high")
        return Values(label, kind, _along(series.points, cycles, "index"), low, high)

    lines = [line(k, label) for k, label in LINES]
    return trend_chart(series.member.name, cycles, lines, width, 180 if width <= 320 else 200)
