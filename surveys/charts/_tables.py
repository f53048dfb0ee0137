"""Charts beside tables: heat maps, peer strips, interval plots and perception gaps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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


def heat_map(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    hidden: str = "–",
) -> HeatMap:
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
                    label_width + c * cell_width,
                    header_height + r * cell_height,
                    cell_width,
                    cell_height,
                    -1 if value is None else min(int(value // 20), 4),
                    hidden if value is None else f"{value:.0f}",
                )
            )
    return HeatMap(
        int(label_width + cell_width * len(columns) + header_height * 0.8),  # slanted headers
        int(header_height + cell_height * len(rows) + 8),
        label_width,
        header_height,
        tuple((header_height + (r + 0.5) * cell_height, n) for r, n in enumerate(rows)),
        tuple((label_width + (c + 0.5) * cell_width, n) for c, n in enumerate(columns)),
        tuple(cells),
    )


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
    return Spread(
        width, height, x(low), x(median), x(high), x(yours) if yours is not None else None, words
    )


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
    reference: tuple[float, str] | None = None,
    width: int = 420,
    hidden: str = "too few responses",
) -> IntervalPlot:
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
        drawn.append(
            IntervalRow(
                round(top + row_height * (i + 1) - 10.0, 1),
                _fitted(label, right - left),
                x(value) if value is not None else None,
                x(low) if value is not None and low is not None else None,
                x(high) if value is not None and high is not None else None,
                text,
            )
        )
    words = "; ".join(r.text for r in drawn)
    if reference is not None:
        words += f"; {reference[1]}: {reference[0]:.0f}"
    return IntervalPlot(
        width,
        int(bottom + 24),
        left,
        right,
        top,
        bottom,
        tuple((x(v), str(v)) for v in (0, 25, 50, 75, 100)),
        tuple(drawn),
        (x(reference[0]), f"{reference[1]} {reference[0]:.0f}") if reference else None,
        words,
    )


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
        GapRow(
            round(top + row_height * (i + 1) - 10.0, 1),
            _fitted(label, right - left),
            x(a),
            x(b),
            f"{label}: {ours} {a:.0f}, {theirs} {b:.0f}, gap {a - b:+.0f}",
        )
        for i, (label, a, b) in enumerate(rows)
    )
    return GapChart(
        width,
        int(bottom + 24),
        left,
        right,
        top,
        bottom,
        tuple((x(v), str(v)) for v in (0, 25, 50, 75, 100)),
        drawn,
        "; ".join(r.text for r in drawn),
    )


def _fitted(label: str, width: float) -> str:
    """The label cut to fit `width` pixels at about 6.6 px a character (the full label is in
    the chart's description and the table beside it).

    >>> _fitted("Andrewport Clinical Research Centre", 120.0)
    'Andrewport Cli…'
    """
    room = int((width - 16.0) / 6.6)
    return label if len(label) <= room else label[: room - 1].rstrip() + "…"
