"""A cycle's stored results, read once for every scorecard of the cycle.

A batch lays out hundreds of scorecards; reading each one's figures with its own queries
would cost more than laying them out. `cycle_results` reads the run and the runs before it
(for the trend line) in a few queries, and the scorecards are laid out from memory.
Only what the run marked as shown carries numbers; the rest stays None.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from scoring.anonymity import PeerSpread, minimum_commenters, minimum_raters, peer_spread
from scoring.config import ScoringConfig
from scoring.trends import mean_changes
from surveys.cycles.cycle import Cycle, CycleStatus
from surveys.infra.errors import RapportError
from surveys.instruments import Direction
from surveys.results.score_runs import run_config, scored_cycles
from surveys.results.tier_assignments import Tier
from surveys.scorecards._reading import (
    action_items,
    alphas,
    dimension_definitions,
    organisations,
    relationship_ids,
    replies,
    shown_comments,
    shown_dimension_scores,
    shown_flags,
    shown_gaps,
    shown_indices,
    tier_assignments,
    tiers_in_force,
)
from surveys.scorecards._rows import (
    NO_INDEX,
    Cell,
    DimensionDefinition,
    Org,
    ShownDimensionScore,
    ShownIndex,
    StoredAction,
    StoredAlpha,
    StoredFlag,
    StoredGap,
    StoredReply,
    StoredTier,
    View,
)
from surveys.scorecards._table import reply_key

TREND_CYCLES = 8
"""Cycles on a scorecard's trend line, the chosen one last."""


class ScorecardError(RapportError):
    """A scorecard cannot be made; the message says why (a cycle not scored, say)."""


@dataclass(frozen=True)
class PeerGroup:
    """The partners of some kinds in one view this cycle, that one of them is compared with."""

    targets: list[int]
    indices: list[float]
    """Their shown indices, sorted."""
    spreads: dict[int, PeerSpread]
    """Dimension id → what may be shown of its shown means' spread (`peer_spread`), where
    enough partners have one."""
    needed: int
    """Other partners each one must be compared with (the run's `anonymity.peers`)."""


@dataclass
class CycleResults:
    """Everything the scorecards of one cycle show, keyed for lookup."""

    cycle_id: int
    cycle: str
    status: str
    run: int
    level: float
    config: ScoringConfig
    cycles: tuple[str, ...]
    """Scored cycles on the trend line, oldest first, ending with this one."""
    runs: dict[str, int]
    """Cycle key → its latest finished run."""
    orgs: dict[int, Org]
    indices: dict[Cell, ShownIndex]
    """Every view's index, in this run and the runs before it on the trend line."""
    dimensions: dict[Cell, list[ShownDimensionScore]]
    """Every view's dimension scores, in this run and the one before."""
    dimension_info: dict[int, DimensionDefinition]
    alphas: dict[int, StoredAlpha]
    """Dimension id → Cronbach's alpha of this run."""
    flags: dict[View, list[StoredFlag]]
    gaps: list[StoredGap]
    tiers: dict[tuple[int, int], StoredTier]
    """(assessor, target) → this cycle's tier assignment."""
    previous_tiers: dict[tuple[int, int], Tier]
    comments: dict[View, list[str]]
    replies: dict[str, StoredReply]
    relationships: dict[tuple[int, int], int]
    """(sponsor, site) → the relationship's id."""
    actions: dict[int, list[StoredAction]] = field(default_factory=dict)
    """Relationship id → its action items."""
    changes: dict[View, dict[int, tuple[float, bool]]] = field(default_factory=dict)
    """(target, rater organisation) → dimension → change of its mean since the last cycle,
    and whether it is significant (Welch), for every cell shown in both cycles."""
    _groups: dict[tuple[frozenset[str], int | None], PeerGroup] = field(default_factory=dict)

    def group(self, kinds: frozenset[str], view: int | None) -> PeerGroup:
        """The partners of these kinds in one view this cycle, to compare one of them with
        (shown cells only, itself among them, so that every member reads the same figures).
        Worked out once per group, however many scorecards ask."""
        key = (kinds, view)
        if key not in self._groups:
            targets = [
                t
                for (run, t, v) in self.indices
                if run == self.run and v == view and self.orgs[t].kind in kinds
            ]
            indices = sorted(
                float(i)
                for t in targets
                if (i := self.indices[(self.run, t, view)].reliability_index) is not None
            )
            values: dict[int, list[float]] = defaultdict(list)
            for target in targets:
                for row in self.dimensions.get((self.run, target, view), []):
                    if row.mean is not None:
                        values[row.dimension].append(float(row.mean))
            needed = self.config.anonymity.peers
            spreads = {d: spread for d, v in values.items() if (spread := peer_spread(v, needed))}
            self._groups[key] = PeerGroup(
                targets=targets, indices=indices, spreads=spreads, needed=needed
            )
        return self._groups[key]

    def index(self, target: int, view: int | None) -> ShownIndex:
        """A partner's index in one view of this run; NO_INDEX where no one rated it."""
        return self.indices.get((self.run, target, view), NO_INDEX)

    def previous_index(self, target: int, view: int | None) -> ShownIndex:
        """The same in the run of the cycle before; NO_INDEX where there is none."""
        before = self.previous_run
        return self.indices.get((before, target, view), NO_INDEX) if before else NO_INDEX

    @property
    def previous_cycle(self) -> str | None:
        """The scored cycle before this one, if any."""
        return self.cycles[-2] if len(self.cycles) > 1 else None

    @property
    def previous_run(self) -> int | None:
        """The run of the cycle before this one on the trend line, if any."""
        return self.runs[self.cycles[-2]] if len(self.cycles) > 1 else None

    def k(self, target_kind: str) -> int:
        """Raters a cell about a partner of this kind needs before it is shown."""
        direction = Direction.rating(target_kind)
        return minimum_raters(direction, self.config)

    def comment_k(self, target_kind: str) -> int:
        """Raters a group needs before its comments are shown."""
        direction = Direction.rating(target_kind)
        return minimum_commenters(direction, self.config)


async def cycle_results(cycle_key: str) -> CycleResults:
    """Read a scored cycle's results; ScorecardError if it is unknown or not scored."""
    cycle = await _cycle(cycle_key)
    window = await _trend_window(cycle_key, str(cycle["status"]))
    runs = {str(c["key"]): int(str(c["run"])) for c in window}
    run = runs[cycle_key]
    config = await run_config(run)
    previous = runs[str(window[-2]["key"])] if len(window) > 1 else None
    recent = [r for r in (run, previous) if r]
    indices = await shown_indices(list(runs.values()))
    dimensions = await shown_dimension_scores(recent)
    cycle_id = int(cycle["id"])
    return CycleResults(
        cycle_id=cycle_id,
        cycle=cycle_key,
        status=str(cycle["status"]),
        run=run,
        level=config.ci,
        config=config,
        cycles=tuple(runs),
        runs=runs,
        orgs=await organisations(),
        indices=indices,
        dimensions=dimensions,
        dimension_info=await dimension_definitions(),
        alphas=await alphas(run),
        flags=await shown_flags(run),
        gaps=await shown_gaps(run),
        tiers=await tier_assignments(cycle_id),
        previous_tiers=await tiers_in_force(
            int(str(window[-2]["id"])) if len(window) > 1 else None
        ),
        comments=await shown_comments(cycle_id, indices, run),
        replies=await replies(cycle_id),
        relationships=await relationship_ids(),
        actions=await action_items(),
        changes=_dimension_changes(
            dimensions, run, recent[1] if len(recent) > 1 else None, config.ci
        ),
    )


async def _cycle(cycle_key: str) -> dict[str, Any]:
    """The cycle's id and status; ScorecardError if there is no such cycle."""
    cycle = (
        await Cycle.select(Cycle.id, Cycle.key, Cycle.status).where(Cycle.key == cycle_key).first()
    )
    if cycle is None:
        raise ScorecardError(f"there is no cycle {cycle_key!r}")
    return cycle


async def _trend_window(cycle_key: str, status: str) -> list[dict[str, object]]:
    """The scored cycles of the trend line (id, key, run), oldest first, ending with this
    one; ScorecardError if this one is not scored."""
    scored = await scored_cycles()
    keys = [str(c["key"]) for c in scored]
    if cycle_key not in keys:
        raise ScorecardError(
            f"cycle {cycle_key} is {status}, not scored: run `rapport score --cycle "
            f"{cycle_key}` first"
        )
    chosen = keys.index(cycle_key)
    return list(reversed(scored[chosen : chosen + TREND_CYCLES]))


def reply_for(results: CycleResults, subject: int, view: int | None) -> StoredReply | None:
    """The partner's reply to one scorecard of this cycle, if it wrote one."""
    return results.replies.get(reply_key(results.cycle_id, subject, view))


def _dimension_changes(
    dimensions: dict[Cell, list[ShownDimensionScore]],
    run: int,
    previous: int | None,
    level: float,
) -> dict[View, dict[int, tuple[float, bool]]]:
    """Every shown dimension cell's change since the previous run, in one test over all."""
    if previous is None:
        return {}
    columns = ["target", "view", "dimension", "n_raters", "mean", "low", "high"]
    frames = []
    for wanted in (run, previous):
        rows = [
            (
                target,
                -1 if view is None else view,
                r.dimension,
                r.n_raters,
                r.mean,
                r.low,
                r.high,
            )
            for (row_run, target, view), found in dimensions.items()
            if row_run == wanted
            for r in found
            if r.mean is not None
        ]
        frames.append(
            pd.DataFrame(rows, columns=columns).astype({"mean": float, "low": float, "high": float})
        )
    if frames[0].empty or frames[1].empty:
        return {}
    found = mean_changes(frames[0], frames[1], ["target", "view", "dimension"], level)
    changes: dict[View, dict[int, tuple[float, bool]]] = defaultdict(dict)
    for r in found.itertuples():
        if not pd.isna(r.change):
            key = (int(r.target), None if r.view == -1 else int(r.view))
            changes[key][int(r.dimension)] = (float(r.change), bool(r.significant))
    return dict(changes)


def today() -> dt.date:
    """The date a scorecard is made on."""
    return dt.datetime.now(dt.UTC).date()


PUBLISHED = CycleStatus.published.value
