"""The scored cycles the workspaces read, each with the score run its figures come from."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.results.score_runs import SCORED, scored_cycles


@dataclass(frozen=True)
class CycleRun:
    """A scored (or published) cycle and its latest finished score run."""

    id: int
    """The cycle's id."""
    key: str
    """The cycle's key, e.g. "2026-Q3"."""
    run: int
    """The score run every figure of the cycle is read from."""


async def cycle_runs(statuses: tuple[str, ...] = SCORED) -> tuple[CycleRun, ...]:
    """Cycles in `statuses` with a finished score run, newest first."""
    return tuple(
        CycleRun(int(str(c["id"])), str(c["key"]), int(str(c["run"])))
        for c in await scored_cycles(statuses)
    )
