"""Purging old comment texts: free text is the answer most likely to identify its writer,
and a site that keeps comments only for a few cycles says so in RAPPORT_KEEP_COMMENTS_CYCLES.

Only the texts go. Comments are never scored, so every score, stored run and re-score
stays as it was; the answers' values, their counts and the runs are untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveys.cycles.cycle import Cycle, CycleStatus
from surveys.directory import audit
from surveys.directory.audit import Act
from surveys.infra.database import writing_transaction
from surveys.responses.answers import Answer

SCORED = (CycleStatus.scored.value, CycleStatus.published.value)
BATCH = 1000
"""Answers blanked per statement."""


@dataclass(frozen=True)
class CommentPurge:
    """What a purge blanked (or, on a dry run, would blank)."""

    kept: tuple[str, ...]
    """The newest scored or published cycles, whose comments stay."""
    purged: dict[str, int]
    """Older scored or published cycle → comments blanked in it (none: left out)."""
    dry_run: bool

    @property
    def comments(self) -> int:
        """Comments blanked in all."""
        return sum(self.purged.values())


async def purge_old_comments(keep_cycles: int, act: Act, dry_run: bool = False) -> CommentPurge:
    """Blank the comment texts of every scored or published cycle older than the newest
    `keep_cycles` of them; one audit entry per cycle purged.

    Cycles are ordered by when they opened. Open and closed (unscored) cycles are never
    purged, nor counted among those kept. A dry run counts and changes nothing.
    """
    if keep_cycles < 1:
        raise ValueError(f"keep at least one cycle's comments, not {keep_cycles}")
    async with writing_transaction(Answer._meta.db):
        cycles = [
            row["key"]
            for row in await Cycle.select(Cycle.key)
            .where(Cycle.status.is_in(list(SCORED)))
            .order_by(Cycle.opens_at, ascending=False)
            .order_by(Cycle.key, ascending=False)
        ]
        kept, older = cycles[:keep_cycles], cycles[keep_cycles:]
        purged: dict[str, int] = {}
        for key in older:
            in_cycle = Answer.text.is_not_null() & (
                Answer.response._.invitation._.cycle._.key == key
            )
            ids = [int(row["id"]) for row in await Answer.select(Answer.id).where(in_cycle)]
            if not ids:
                continue
            purged[key] = len(ids)
            if dry_run:
                continue
            for start in range(0, len(ids), BATCH):  # drivers cap a statement's parameters
                batch = ids[start : start + BATCH]
                await Answer.update({Answer.text: None}).where(Answer.id.is_in(batch))
            await audit.record(
                act.actor,
                "comments.purge",
                "cycle",
                key,  # the cycle, by its key
                {"comments": len(ids), "keep_cycles": keep_cycles},
                act.person_id,
            )
    return CommentPurge(kept=tuple(kept), purged=purged, dry_run=dry_run)
