"""Chart geometry for inline SVG: where each line, band and cell goes, in pixels.

Templates draw what these return and compute nothing. Every chart is on a fixed 0–100
scale, so charts side by side compare at a glance; every line has its own dash pattern
and marker besides its colour, and every number is also written out as text, so a chart
reads in black and white and without colour vision.

`_over_cycles` draws trends over the cycles, `_tables` the charts that stand beside a
table (heat maps, peer strips, interval plots, perception gaps), `_scorecard` those only
a scorecard has (the Sand Cone, importance against performance, score bars).

May import: nothing of `surveys` (only `surveys.infra` would be allowed): charts are drawn
from numbers and labels a caller passes in.
"""

from surveys.charts._over_cycles import (
    STYLES,
    LayerRow,
    Line,
    LineChart,
    Marker,
    SmallMultiple,
    Sparkline,
    Values,
    marker_path,
    small_multiple,
    sparkline,
    trend_chart,
)
from surveys.charts._scorecard import (
    ConeLayer,
    ImportanceChart,
    ImportancePoint,
    SandConeChart,
    ScoreBar,
    importance_chart,
    sand_cone_chart,
    score_bar,
)
from surveys.charts._tables import (
    ROW_HEIGHT,
    Cell,
    GapChart,
    GapRow,
    HeatMap,
    IntervalPlot,
    IntervalRow,
    Spread,
    gap_chart,
    heat_map,
    interval_plot,
    spread,
)

__all__ = [
    "ROW_HEIGHT",
    "STYLES",
    "Cell",
    "ConeLayer",
    "GapChart",
    "GapRow",
    "HeatMap",
    "ImportanceChart",
    "ImportancePoint",
    "IntervalPlot",
    "IntervalRow",
    "LayerRow",
    "Line",
    "LineChart",
    "Marker",
    "SandConeChart",
    "ScoreBar",
    "SmallMultiple",
    "Sparkline",
    "Spread",
    "Values",
    "gap_chart",
    "heat_map",
    "importance_chart",
    "interval_plot",
    "marker_path",
    "sand_cone_chart",
    "score_bar",
    "small_multiple",
    "sparkline",
    "spread",
    "trend_chart",
]
