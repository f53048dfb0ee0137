"""The synthetic world: organisations, people and six cycles of answers from a known truth.

`_model` generates it (pure, seeded), `_store` writes it once, `_tables` keeps the truth;
`_demo` keeps its open cycle open and issues links into it, `logins` gives the demo its
accounts. Tests and benchmarks share `generate_world` and `build_world`.

May import: `scoring`, `surveys.infra` and every domain package (it writes what a real
programme would, through the same tables and rules); never `surveys.web` or `surveys.cli`.
"""

from surveys.world._demo import keep_open_cycles_open, sample_links
from surveys.world._model import (
    World,
    WorldParameters,
    cycle_window,
    expected_item_score,
    generate_world,
    next_quarter,
    quarter_keys,
)
from surveys.world._store import (
    WorldConflictError,
    WorldSummary,
    build_world,
    bundled_specs,
)
from surveys.world._tables import SimulatedWorld, TrueScore

__all__ = [
    "SimulatedWorld",
    "TrueScore",
    "World",
    "WorldConflictError",
    "WorldParameters",
    "WorldSummary",
    "build_world",
    "bundled_specs",
    "cycle_window",
    "expected_item_score",
    "generate_world",
    "keep_open_cycles_open",
    "next_quarter",
    "quarter_keys",
    "sample_links",
]
