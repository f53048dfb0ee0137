"""Scorecard charts: the Sand Cone, importance against performance, score bars."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


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
    layers: Sequence[tuple[str, float | None, float | None]],
    hidden: str,
    plain: str = "plain",
    width: int = 300,
    height: int = 190,
) -> SandConeChart:
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
        corners = (
            (middle - half_bottom, bottom),
            (middle + half_bottom, bottom),
            (middle + half_top, top),
            (middle - half_top, top),
        )
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
    """The dimension's number on the chart, explained in the table beside it; several
    numbers when points fall together, "" when another point's label carries its number."""
    text: str
    fix_first: bool

    @property
    def label_at(self) -> tuple[float, float]:
        """Where its label starts: right of the point, or above it when the label names
        several points on one line, so that it does not run through them."""
        return (self.x - 3, self.y - 7) if "," in self.label else (self.x + 6, self.y + 3)


@dataclass(frozen=True)
class ImportanceChart:
    """Performance against its standard (x) and importance (y), split at the standard and
    at the median importance; top left: fix first."""

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
    reach: int
    """Points either side of the standard the x axis spans (its ends read −reach, +reach)."""


def importance_chart(
    points: Sequence[tuple[str, float, float, float, bool]],
    width: int = 300,
    height: int = 220,
    words: tuple[str, str] = ("performance", "fix first"),
) -> ImportanceChart:
    """Lay out (label, score 0–100, score minus its standard, importance, fix first) points.

    Across is the score against the dimension's own standard (`scoring.gaps.fix_standards`:
    the peers' median or its floor), so the vertical split is every dimension's standard
    at once and the top-left quadrant holds exactly the dimensions marked "fix first";
    split across at the median importance; importance is scaled between its lowest and
    highest value. The x axis spans ±20 points, or as far as the farthest point (in tens).
    `words` are "performance" and "fix first" in the reader's language, for the points'
    descriptions.

    Points that fall on one another (raters often give several dimensions the same
    importance) share one label, "3, 5", written beside the first of them.

    Examples
    --------
    >>> c = importance_chart([("1", 60.0, -14.0, 0.8, True), ("2", 80.0, 6.0, 0.2, False)])
    >>> [(p.x, p.y, p.fix_first) for p in c.points], c.split_x, c.reach
    ([(67.5, 38.0, True), (192.5, 186.0, False)], 155.0, 20)
    >>> crowded = importance_chart([("1", 50, 0, 0.5, False), ("2", 51, 1, 0.5, False),
    ...                             ("3", 90, 40, 0.5, False), ("4", 10, -40, 0.9, True)])
    >>> [(p.label, p.label_at) for p in crowded.points][:2], crowded.reach
    ([('1, 2', (152.0, 179.0)), ('', (164.1, 189.0))], 40)
    """
    left, top, right, bottom = 30.0, 38.0, width - 20.0, height - 34.0
    low = min((p[3] for p in points), default=0.0)
    high = max((p[3] for p in points), default=1.0)
    span = (high - low) or 1.0
    farthest = max((abs(p[2]) for p in points), default=0.0)
    reach = max(20, 10 * math.ceil(farthest / 10))

    def x(value: float) -> float:
        share = (min(max(value, -reach), reach) + reach) / (2 * reach)
        return round(left + (right - left) * share, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * (value - low) / span, 1)

    importance = sorted(p[3] for p in points)
    split_y = y(_middle(importance)) if points else (top + bottom) / 2
    placed = [(x(against), y(imp)) for _, _, against, imp, _ in points]
    labels = _shared_labels([p[0] for p in points], placed)
    drawn = tuple(
        ImportancePoint(
            px,
            py,
            shown,
            f"{label}: {words[0]} {score:.0f}" + (f", {words[1]}" if fix else ""),
            fix,
        )
        for (label, score, _, _, fix), (px, py), shown in zip(points, placed, labels, strict=True)
    )
    return ImportanceChart(
        width,
        height,
        left,
        top,
        right,
        bottom,
        x(0.0),
        split_y,
        drawn,
        "; ".join(p.text for p in drawn),
        reach,
    )


def _shared_labels(labels: Sequence[str], placed: Sequence[tuple[float, float]]) -> list[str]:
    """Each point's label, or "" where it would run into the label of a point just left of
    it on the same line: that label then names both ("7, 1, 6"). A label starts 6 px
    right of its point, about 5.5 px a character at the chart's 9-px font."""
    shown = list(labels)
    owners: list[int] = []

    def covers(j: int, i: int) -> bool:
        (ox, oy), (px, py) = placed[j], placed[i]
        return abs(oy - py) < 9 and -4 < px - ox < 6 + 5.5 * len(shown[j]) + 8

    for i in sorted(range(len(placed)), key=lambda i: (placed[i][1], placed[i][0])):
        owner = next((j for j in owners if covers(j, i)), None)
        if owner is None:
            owners.append(i)
        else:
            shown[owner] = f"{shown[owner]}, {labels[i]}"
            shown[i] = ""
    return shown


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
    value: float | None,
    low: float | None,
    high: float | None,
    quartiles: tuple[float, float, float] | None,
    width: int = 120,
    height: int = 18,
) -> ScoreBar:
    """Lay out one dimension's bar for a table cell.

    >>> b = score_bar(50.0, 40.0, 60.0, (30.0, 45.0, 70.0))
    >>> (b.x, b.low, b.high, b.quartiles)
    (60.0, 48.8, 71.2, (37.6, 54.4, 82.4))
    """

    def x(v: float) -> float:
        return round(4.0 + (width - 8.0) * min(max(v, 0.0), 100.0) / 100.0, 1)

    shown = value is not None
    return ScoreBar(
        width,
        height,
        x(value) if shown and value is not None else None,
        x(low) if shown and low is not None else None,
        x(high) if shown and high is not None else None,
        (x(quartiles[0]), x(quartiles[1]), x(quartiles[2])) if quartiles else None,
    )
