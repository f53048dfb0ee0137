"""Charts over the cycles: trend lines with interval bands, small multiples (the index on
its panel, each layer on its own row beneath it) and sparklines."""

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
class LayerRow:
    """One layer of a small multiple, on its own thin 0–100 row under the index panel."""

    line: Line
    label_y: float
    """Where the row's label (its name and latest value) stands."""
    top: float
    bottom: float
    """The row's 0–100 strip: 100 at the top, 0 at the bottom."""
    latest: str
    """The layer's value in the last cycle shown, or "–" where it is not shown."""


@dataclass(frozen=True)
class SmallMultiple:
    """One organisation over the cycles, readable at a glance: the index and its interval
    band alone on the 0–100 panel, each layer on its own row beneath, so that no line
    hides another."""

    panel: LineChart
    """The index with its band (its only line), the axes and the cycles."""
    layers: tuple[LayerRow, ...]
    height: int
    """The whole chart's: the panel and the rows."""

    @property
    def markers(self) -> tuple[Marker, ...]:
        """Every value drawn, the index's first, for the chart's description."""
        lines = (*self.panel.lines, *(row.line for row in self.layers))
        return tuple(m for line in lines for m in line.markers)


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
            for i, v in enumerate(line.values)
            if v is not None
        )
        drawn.append(
            Line(line.label, line.kind, _path(points), _band(line, x, y), markers, dash, shape)
        )
    return LineChart(
        title,
        width,
        height,
        left,
        top,
        right,
        bottom,
        tuple((x[i], cycles[i]) for i in _labelled(len(cycles))),
        tuple((y(v), str(v)) for v in (0, 25, 50, 75, 100)),
        tuple(drawn),
    )


def small_multiple(
    title: str,
    cycles: Sequence[str],
    index: Values,
    layers: Sequence[Values],
    width: int = 320,
    panel_height: int = 150,
    row_height: int = 36,
) -> SmallMultiple:
    """Lay out an index over the cycles on its own panel, and each layer on a row beneath.

    The rows share the panel's cycles (one column per cycle) and each spans 0–100 too, so
    a layer's course reads beside the index without crossing it.

    Examples
    --------
    >>> chart = small_multiple(
    ...     "a", ["Q1", "Q2"], Values("RI", "index", [50.0, 100.0]),
    ...     [Values("Quality", "quality", [0.0, None])])
    >>> chart.panel.lines[0].path, chart.height
    ('M40.0,67.0 L292.0,14.0', 190)
    >>> row = chart.layers[0]
    >>> row.line.path, row.latest
    ('M40.0,186.0', '–')
    """
    panel = trend_chart(title, cycles, [index], width, panel_height)
    x = _positions(len(cycles), panel.left, panel.right)
    rows = []
    for n, layer in enumerate(layers):
        label_y = panel_height + n * row_height + 10.0
        top, bottom = label_y + 4.0, label_y + row_height - 10.0

        def y(value: float, top: float = top, bottom: float = bottom) -> float:
            return round(bottom - (bottom - top) * min(max(value, 0.0), 100.0) / 100.0, 1)

        points = [(x[i], y(v)) if v is not None else None for i, v in enumerate(layer.values)]
        # a dot per value, for its tooltip: the row's name says which layer it is
        markers = tuple(
            Marker(x[i], y(v), _describe(layer, i, cycles))
            for i, v in enumerate(layer.values)
            if v is not None
        )
        line = Line(layer.label, layer.kind, _path(points), "", markers, "", "circle")
        last = layer.values[-1] if layer.values else None
        rows.append(LayerRow(line, label_y, top, bottom, "–" if last is None else f"{last:.0f}"))
    return SmallMultiple(panel, tuple(rows), panel_height + len(rows) * row_height + 4)


def sparkline(
    values: Sequence[float | None],
    low: Sequence[float | None] = (),
    high: Sequence[float | None] = (),
    cycles: Sequence[str] = (),
    width: int = 120,
    height: int = 32,
) -> Sparkline:
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
    # each run: (x, scaled high, scaled low) of consecutive cycles with a known interval
    runs: list[list[tuple[float, float, float]]] = [[]]
    for i in range(len(line.values)):
        low = line.low[i] if i < len(line.low) else None
        high = line.high[i] if i < len(line.high) else None
        if low is not None and high is not None:
            runs[-1].append((x[i], scale(high), scale(low)))
        elif runs[-1]:
            runs.append([])
    areas = []
    for run in (r for r in runs if r):
        if len(run) == 1:  # one cycle: a short vertical bar
            at, high, low = run[0]
            areas.append(f"M{at - 2},{high} h4 V{low} h-4 Z")
        else:
            upper = [f"{at},{high}" for at, high, _ in run]
            lower = [f"{at},{low}" for at, _, low in reversed(run)]
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
