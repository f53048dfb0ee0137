"""Chart geometry for inline SVG: where each line, band and cell goes, in pixels.

Templates draw what these return and compute nothing. Every chart is on a fixed 0–100
scale, so charts side by side compare at a glance; every line has its own dash pattern
and marker besides its colour, and every number is also written out as text, so a chart
reads in black and white and without colour vision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

STYLES = {
    "index": ("", "circle"),
    "quality": ("6 3", "square"),
    "dependability": ("2 3", "triangle"),
    "speed": ("8 3 2 3", "diamond"),
    "cost": ("1 5", "cross"),
}
"""Line kind → (stroke-dasharray, marker shape): told apart without colour."""


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    text: str
    """What the point says, for its tooltip and the accessible description."""
    path: str = ""
    """The marker's outline as SVG path data, by the line's shape."""


def marker_path(shape: str, x: float, y: float) -> str:
    """SVG path data of a marker shape centred on (x, y): told apart without colour.

    >>> marker_path("square", 10, 10)
    'M6.5,6.5 h7 v7 h-7 Z'
    """
    if shape == "square":
        return f"M{x - 3.5:g},{y - 3.5:g} h7 v7 h-7 Z"
    if shape == "triangle":
        return f"M{x:g},{y - 4.5:g} L{x + 4.5:g},{y + 3.5:g} L{x - 4.5:g},{y + 3.5:g} Z"
    if shape == "diamond":
        return f"M{x:g},{y - 4.5:g} L{x + 4.5:g},{y:g} L{x:g},{y + 4.5:g} L{x - 4.5:g},{y:g} Z"
    if shape == "cross":
        return (
            f"M{x - 4:g},{y - 4:g} L{x + 4:g},{y + 4:g} M{x + 4:g},{y - 4:g} L{x - 4:g},{y + 4:g}"
        )
    return f"M{x - 3.5:g},{y:g} a3.5,3.5 0 1,0 7,0 a3.5,3.5 0 1,0 -7,0 Z"


@dataclass(frozen=True)
class Line:
    label: str
    kind: str
    """index or a layer: the CSS class, the dash pattern and the marker shape."""
    path: str
    """SVG path data; a missing cycle breaks the line rather than bridging it."""
    band: str
    """The interval's area as SVG path data ('' when no interval is known)."""
    markers: tuple[Marker, ...]
    dash: str
    shape: str


@dataclass(frozen=True)
class LineChart:
    """A small multiple: one organisation's lines over the cycles, on a 0–100 scale."""

    title: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    x_labels: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    path: str
    band: str
    last: Marker | None
    description: str
    """The values in words, for screen readers."""


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    width: float
    height: float
    shade: int
    """0 (lowest scores) to 4 (highest), or -1 for a hidden cell."""
    text: str

    @property
    def text_x(self) -> float:
        return self.x + (self.width - 2) / 2

    @property
    def text_y(self) -> float:
        return self.y + self.height / 2 + 3


@dataclass(frozen=True)
class HeatMap:
    width: int
    height: int
    label_width: float
    header_height: float
    rows: tuple[tuple[float, str], ...]
    """y of each row's label, and the label."""
    columns: tuple[tuple[float, str], ...]
    """x of each column's header (its centre), and the header."""
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Values:
    """One line's values over the cycles, with its interval where known."""

    label: str
    kind: str
    values: Sequence[float | None]
    low: Sequence[float | None] = ()
    high: Sequence[float | None] = ()


def trend_chart(
    title: str, cycles: Sequence[str], lines: Sequence[Values], width: int = 320, height: int = 180
) -> LineChart:
    """Lay out a line chart of 0–100 values over cycles, with interval bands.

    Examples
    --------
    >>> chart = trend_chart("a", ["Q1", "Q2"], [Values("RI", "index", [50.0, 100.0])])
    >>> chart.lines[0].path
    'M40.0,82.0 L292.0,14.0'
    """
    # room on the right for the last cycle's label, centred under its point
    left, top, right, bottom = 40.0, 14.0, width - 28.0, height - 30.0
    x = _positions(len(cycles), left, right)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * min(max(value, 0.0), 100.0) / 100.0, 1)

    drawn = []
    for line in lines:
        dash, shape = STYLES.get(line.kind, ("", "circle"))
        points = [(x[i], y(v)) if v is not None else None for i, v in enumerate(line.values)]
        markers = tuple(
            Marker(x[i], y(v), _describe(line, i, cycles), marker_path(shape, x[i], y(v)))
            for i, v in enumerate(line.values) if v is not None
        )  # fmt: skip
        drawn.append(
            Line(line.label, line.kind, _path(points), _band(line, x, y), markers, dash, shape)
        )
    return LineChart(
        title, width, height, left, top, right, bottom,
        tuple((x[i], cycles[i]) for i in _labelled(len(cycles))),
        tuple((y(v), str(v)) for v in (0, 25, 50, 75, 100)), tuple(drawn),
    )  # fmt: skip


def sparkline(
    values: Sequence[float | None], low: Sequence[float | None] = (),
    high: Sequence[float | None] = (), cycles: Sequence[str] = (), width: int = 120,
    height: int = 32,
) -> Sparkline:  # fmt: skip
    """Lay out a small 0–100 line with its band, for a table cell.

    Examples
    --------
    >>> sparkline([20.0, None, 80.0], cycles=["a", "b", "c"]).path
    'M3.0,23.8 M117.0,8.2'
    """
    x = _positions(len(values), 3.0, width - 3.0)

    def y(value: float) -> float:
        return round(height - 3.0 - (height - 6.0) * min(max(value, 0.0), 100.0) / 100.0, 1)

    points = [(x[i], y(v)) if v is not None else None for i, v in enumerate(values)]
    line = Values("", "index", values, low, high)
    known = [i for i, v in enumerate(values) if v is not None]
    last = Marker(x[known[-1]], y(values[known[-1]] or 0.0), "") if known else None
    words = ", ".join(
        f"{cycles[i] if i < len(cycles) else i + 1}: " + ("not shown" if v is None else f"{v:.0f}")
        for i, v in enumerate(values)
    )
    return Sparkline(width, height, _path(points), _band(line, x, y), last, words)


def heat_map(
    rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float | None]],
    hidden: str = "–",
) -> HeatMap:  # fmt: skip
    """Lay out a rows × columns grid of 0–100 scores, each cell shaded by fifths and labelled.

    Examples
    --------
    >>> h = heat_map(["Site A"], ["Quality", "Speed"], [[91.0, None]])
    >>> [(c.shade, c.text) for c in h.cells]
    [(4, '91'), (-1, '–')]
    """
    label_width = min(260.0, 24.0 + 7.2 * max((len(r) for r in rows), default=0))
    cell_width, cell_height, header_height = 52.0, 30.0, 120.0
    cells = []
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            cells.append(
                Cell(
                    label_width + c * cell_width, header_height + r * cell_height,
                    cell_width, cell_height,
                    -1 if value is None else min(int(value // 20), 4),
                    hidden if value is None else f"{value:.0f}",
                )
            )  # fmt: skip
    return HeatMap(
        int(label_width + cell_width * len(columns) + header_height * 0.8),  # slanted headers
        int(header_height + cell_height * len(rows) + 8),
        label_width, header_height,
        tuple((header_height + (r + 0.5) * cell_height, n) for r, n in enumerate(rows)),
        tuple((label_width + (c + 0.5) * cell_width, n) for c, n in enumerate(columns)),
        tuple(cells),
    )  # fmt: skip


@dataclass(frozen=True)
class Spread:
    """Peers' quartiles as a bar with a median tick, and one organisation's own mark."""

    width: int
    height: int
    low: float
    median: float
    high: float
    """x of the lower quartile, the median and the upper quartile."""
    yours: float | None
    """x of the organisation's own value, if shown."""
    description: str


def spread(
    low: float, median: float, high: float, yours: float | None, width: int = 200, height: int = 24
) -> Spread:
    """Lay out a 0–100 strip: the peers' middle half as a bar, the median, your value.

    Examples
    --------
    >>> s = spread(40.0, 50.0, 60.0, 75.0)
    >>> (s.low, s.median, s.high, s.yours)
    (80.8, 100.0, 119.2, 148.0)
    """

    def x(value: float) -> float:
        return round(4.0 + (width - 8.0) * min(max(value, 0.0), 100.0) / 100.0, 1)

    words = f"peers' middle half {low:.0f} to {high:.0f}, median {median:.0f}"
    words += f"; yours {yours:.0f}" if yours is not None else "; yours not shown"
    return Spread(width, height, x(low), x(median), x(high),
                  x(yours) if yours is not None else None, words)  # fmt: skip


ROW_HEIGHT = 40.0
"""A row of an interval plot or gap chart: its label above, its marks below."""


@dataclass(frozen=True)
class IntervalRow:
    """One row of an interval plot: a label, and a point with its interval (or hidden)."""

    y: float
    """The row's marks; its label sits above them."""
    label: str
    x: float | None
    """The estimate's x; None where the cell is hidden."""
    low: float | None
    high: float | None
    text: str
    """The row in words ("Sponsor A: 72 [65–79]", or "too few responses")."""


@dataclass(frozen=True)
class IntervalPlot:
    """Estimates with their intervals, one row each, on a shared 0–100 axis ("forest plot")."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    ticks: tuple[tuple[float, str], ...]
    rows: tuple[IntervalRow, ...]
    reference: tuple[float, str] | None
    """x and label of a reference line (a median), if any."""
    description: str


def interval_plot(
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    reference: tuple[float, str] | None = None, width: int = 420, hidden: str = "too few responses",
) -> IntervalPlot:  # fmt: skip
    """Lay out (label, estimate, low, high) rows as points with interval bars on 0–100.

    A hidden row keeps its line, labelled `hidden`, so the chart never leaves out a partner
    silently; `reference` draws a dashed vertical line (a network's median, say).

    Examples
    --------
    >>> p = interval_plot([("A", 50.0, 40.0, 60.0), ("B", None, None, None)])
    >>> [(r.x, r.low, r.high, r.text) for r in p.rows]
    [(208.0, 168.8, 247.2, 'A: 50 [40–60]'), (None, None, None, 'B: too few responses')]
    """
    # labels sit above their rows, so the plot keeps its full width on a phone
    left, right, top, row_height = 12.0, width - 16.0, 24.0, ROW_HEIGHT
    bottom = top + row_height * max(len(rows), 1)

    def x(value: float) -> float:
        return round(left + (right - left) * min(max(value, 0.0), 100.0) / 100.0, 1)

    drawn = []
    for i, (label, value, low, high) in enumerate(rows):
        if value is None:
            text = f"{label}: {hidden}"
        elif low is not None and high is not None:
            text = f"{label}: {value:.0f} [{low:.0f}–{high:.0f}]"
        else:
            text = f"{label}: {value:.0f}"
        drawn.append(IntervalRow(
            round(top + row_height * (i + 1) - 10.0, 1), _fitted(label, right - left),
            x(value) if value is not None else None,
            x(low) if value is not None and low is not None else None,
            x(high) if value is not None and high is not None else None, text,
        ))  # fmt: skip
    words = "; ".join(r.text for r in drawn)
    if reference is not None:
        words += f"; {reference[1]}: {reference[0]:.0f}"
    return IntervalPlot(
        width, int(bottom + 24), left, right, top, bottom,
        tuple((x(v), str(v)) for v in (0, 25, 50, 75, 100)), tuple(drawn),
        (x(reference[0]), f"{reference[1]} {reference[0]:.0f}") if reference else None, words,
    )  # fmt: skip


@dataclass(frozen=True)
class GapRow:
    """One row of a gap chart: two views of the same relationship on one dimension."""

    y: float
    label: str
    ours: float
    theirs: float
    text: str


@dataclass(frozen=True)
class GapChart:
    """Two views side by side on 0–100, joined by a line whose length is the gap."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    ticks: tuple[tuple[float, str], ...]
    rows: tuple[GapRow, ...]
    description: str


def gap_chart(
    rows: Sequence[tuple[str, float, float]], ours: str, theirs: str, width: int = 420
) -> GapChart:
    """Lay out (label, our view, their view) rows as two marks joined by a line.

    Examples
    --------
    >>> g = gap_chart([("Pharma: communication", 80.0, 60.0)], "yours", "theirs")
    >>> (g.rows[0].ours, g.rows[0].theirs, g.rows[0].text)
    (325.6, 247.2, 'Pharma: communication: yours 80, theirs 60, gap +20')
    """
    left, right, top, row_height = 12.0, width - 16.0, 24.0, ROW_HEIGHT
    bottom = top + row_height * max(len(rows), 1)

    def x(value: float) -> float:
        return round(left + (right - left) * min(max(value, 0.0), 100.0) / 100.0, 1)

    drawn = tuple(
        GapRow(round(top + row_height * (i + 1) - 10.0, 1), _fitted(label, right - left),
               x(a), x(b), f"{label}: {ours} {a:.0f}, {theirs} {b:.0f}, gap {a - b:+.0f}")
        for i, (label, a, b) in enumerate(rows)
    )  # fmt: skip
    return GapChart(
        width, int(bottom + 24), left, right, top, bottom,
        tuple((x(v), str(v)) for v in (0, 25, 50, 75, 100)), drawn,
        "; ".join(r.text for r in drawn),
    )  # fmt: skip


@dataclass(frozen=True)
class ConeLayer:
    """One band of the Sand Cone: a trapezoid, its label and its two scores."""

    path: str
    label: str
    text: str
    """"Quality 72" or, when capped, "Speed 70 (plain 84)"; "fewer than k responses" if hidden."""
    text_y: float
    shade: int
    """0–4 by the effective score (fifths), -1 if hidden."""


@dataclass(frozen=True)
class SandConeChart:
    """The Sand Cone drawn as four stacked layers, quality at the base."""

    width: int
    height: int
    middle: float
    layers: tuple[ConeLayer, ...]
    """From the top (cost) down to the base (quality), in drawing order."""
    description: str


def sand_cone_chart(
    layers: Sequence[tuple[str, float | None, float | None]], hidden: str, plain: str = "plain",
    width: int = 300, height: int = 190,
) -> SandConeChart:  # fmt: skip
    """Lay out (label, plain score, effective score) from the base layer up as a cone.

    The base is widest, as in Ferdows and De Meyer's picture: each layer rests on the one
    below, and the score the index counts is written first, the plain one beside it when
    the cap took something off.

    Examples
    --------
    >>> c = sand_cone_chart([("Quality", 80.0, 80.0), ("Dependability", 95.0, 90.0),
    ...                      ("Speed", None, None), ("Cost", 60.0, 60.0)], "hidden")
    >>> [layer.text for layer in c.layers]
    ['Cost 60', 'Speed: hidden', 'Dependability 90 (plain 95)', 'Quality 80']
    """
    band = (height - 10.0) / len(layers)
    middle = width / 2
    drawn = []
    for i, (label, uncapped, effective) in enumerate(layers):
        bottom = height - 5.0 - band * i
        top = bottom - band + 3.0
        half_bottom = middle * (1.0 - 0.16 * i) - 4.0
        half_top = middle * (1.0 - 0.16 * (i + 1)) - 4.0
        corners = ((middle - half_bottom, bottom), (middle + half_bottom, bottom),
                   (middle + half_top, top), (middle - half_top, top))  # fmt: skip
        path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in corners) + " Z"
        if effective is None or uncapped is None:
            text, shade = f"{label}: {hidden}", -1
        else:
            text = f"{label} {effective:.0f}"
            if round(uncapped) != round(effective):
                text += f" ({plain} {uncapped:.0f})"
            shade = min(int(effective // 20), 4)
        drawn.append(ConeLayer(path, label, text, round((top + bottom) / 2 + 4, 1), shade))
    ordered = tuple(reversed(drawn))
    return SandConeChart(width, height, middle, ordered, "; ".join(c.text for c in drawn))


@dataclass(frozen=True)
class ImportancePoint:
    x: float
    y: float
    label: str
    """The dimension's number on the chart, explained in the table beside it."""
    text: str
    fix_first: bool


@dataclass(frozen=True)
class ImportanceChart:
    """Performance (x) against importance (y), split at the medians; top left: fix first."""

    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    split_x: float
    split_y: float
    points: tuple[ImportancePoint, ...]
    description: str


def importance_chart(
    points: Sequence[tuple[str, float, float, bool]], width: int = 300, height: int = 220
) -> ImportanceChart:
    """Lay out (label, performance 0–100, importance, fix first) points, quadrants split at
    the medians; importance is scaled between its lowest and highest value.

    Examples
    --------
    >>> c = importance_chart([("1", 40.0, 0.8, True), ("2", 80.0, 0.2, False)])
    >>> [(p.x, p.y, p.fix_first) for p in c.points], c.split_x
    ([(130.0, 26.0, True), (230.0, 186.0, False)], 180.0)
    """
    left, top, right, bottom = 30.0, 26.0, width - 20.0, height - 34.0
    low = min((p[2] for p in points), default=0.0)
    high = max((p[2] for p in points), default=1.0)
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return round(left + (right - left) * min(max(value, 0.0), 100.0) / 100.0, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * (value - low) / span, 1)

    performance = sorted(p[1] for p in points)
    importance = sorted(p[2] for p in points)
    split_x = x(_middle(performance)) if points else (left + right) / 2
    split_y = y(_middle(importance)) if points else (top + bottom) / 2
    drawn = tuple(
        ImportancePoint(x(perf), y(imp), label,
                        f"{label}: performance {perf:.0f}" + (", fix first" if fix else ""), fix)
        for label, perf, imp, fix in points
    )  # fmt: skip
    return ImportanceChart(width, height, left, top, right, bottom, split_x, split_y, drawn,
                           "; ".join(p.text for p in drawn))  # fmt: skip


def _middle(values: Sequence[float]) -> float:
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


@dataclass(frozen=True)
class ScoreBar:
    """A score with its interval on 0–100, and the peers' quartiles as ticks beneath."""

    width: int
    height: int
    x: float | None
    low: float | None
    high: float | None
    quartiles: tuple[float, float, float] | None
    """x of the peers' lower quartile, median and upper quartile, if there are peers."""


def score_bar(
    value: float | None, low: float | None, high: float | None,
    quartiles: tuple[float, float, float] | None, width: int = 120, height: int = 18,
) -> ScoreBar:  # fmt: skip
    """Lay out one dimension's bar for a table cell.

    >>> b = score_bar(50.0, 40.0, 60.0, (30.0, 45.0, 70.0))
    >>> (b.x, b.low, b.high, b.quartiles)
    (60.0, 48.8, 71.2, (37.6, 54.4, 82.4))
    """

    def x(v: float) -> float:
        return round(4.0 + (width - 8.0) * min(max(v, 0.0), 100.0) / 100.0, 1)

    shown = value is not None
    return ScoreBar(
        width, height, x(value) if shown and value is not None else None,
        x(low) if shown and low is not None else None,
        x(high) if shown and high is not None else None,
        (x(quartiles[0]), x(quartiles[1]), x(quartiles[2])) if quartiles else None,
    )  # fmt: skip


def _fitted(label: str, width: float) -> str:
    """The label cut to fit `width` pixels at about 6.6 px a character (the full label is in
    the chart's description and the table beside it).

    >>> _fitted("Andrewport Clinical Research Centre", 120.0)
    'Andrewport Cli…'
    """
    room = int((width - 16.0) / 6.6)
    return label if len(label) <= room else label[: room - 1].rstrip() + "…"


def _labelled(n: int, room: int = 4) -> list[int]:
    """Which cycles get a label under the axis: all of them if they fit, else every few.

    >>> _labelled(3), _labelled(8)
    ([0, 1, 2], [0, 2, 4, 7])
    """
    step = -(-n // room)
    return [i for i in range(n) if i == n - 1 or (i % step == 0 and n - 1 - i >= step)]


def _positions(n: int, left: float, right: float) -> list[float]:
    if n == 1:
        return [round((left + right) / 2, 1)]
    return [round(left + (right - left) * i / (n - 1), 1) for i in range(n)]


def _path(points: Sequence[tuple[float, float] | None]) -> str:
    """Path data through the points; a None starts a new segment."""
    parts, pen_down = [], False
    for point in points:
        if point is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{point[0]},{point[1]}")
        pen_down = True
    return " ".join(parts)


def _band(line: Values, x: Sequence[float], scale: Callable[[float], float]) -> str:
    """The interval as closed areas, one per run of cycles whose interval is known."""
    if not line.low or not line.high:
        return ""
    runs: list[list[int]] = [[]]
    for i in range(len(line.values)):
        if i < len(line.low) and line.low[i] is not None and line.high[i] is not None:
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    areas = []
    for run in (r for r in runs if r):
        upper = [f"{x[i]},{scale(line.high[i])}" for i in run]
        lower = [f"{x[i]},{scale(line.low[i])}" for i in reversed(run)]
        if len(run) == 1:  # one cycle: a short vertical bar
            areas.append(f"M{x[run[0]] - 2},{scale(line.high[run[0]])} "
                         f"h4 V{scale(line.low[run[0]])} h-4 Z")  # fmt: skip
        else:
            areas.append("M" + " L".join(upper + lower) + " Z")
    return " ".join(areas)


def _describe(line: Values, i: int, cycles: Sequence[str]) -> str:
    value = line.values[i]
    text = f"{line.label}, {cycles[i]}: {value:.0f}" if value is not None else ""
    low = line.low[i] if i < len(line.low) else None
    high = line.high[i] if i < len(line.high) else None
    if low is not None and high is not None:
        text += f" [{low:.0f}–{high:.0f}]"
    return text
