"""Where a synthetic world records how it was made and the truth behind its answers."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from surveys.cycles.cycle import Cycle
from surveys.directory.organisations import Organisation


class SimulatedWorld(Table):
    """A synthetic world built into this database: its seed and the sizes asked for."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    seed = Integer()
    parameters = JSON()
    created_at = Timestamptz()


class TrueScore(Table):
    """The expected 0–100 score an infinite pool of raters would give, under the world's model."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    world = ForeignKey(SimulatedWorld, on_delete=OnDelete.cascade, null=False)
    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False, index=True)
    target = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    scope = Varchar(length=10)
    """`dimension` or `layer`."""
    key = Varchar(length=60)
    """The dimension key, or the Sand Cone layer."""
    value = DoublePrecision()
    profile = Varchar(length=12)
    """The target's trajectory: steady, improving, declining or volatile."""

    true_score_one_per_cycle_target_key = Unique(["cycle", "target", "scope", "key"])
    true_score_scope_is_known = Check("scope IN ('dimension', 'layer')")
    true_score_value_in_range = Check("value >= 0 AND value <= 100")
