"""A cycle's latest score run as CSV tables, for administrators (`rapport export scores`)."""

from __future__ import annotations

import pandas as pd

from surveys.responses.exports import ExportError
from surveys.results.score_runs import (
    DimensionScore,
    EscalationFlag,
    RunStatus,
    ScoreRun,
    TargetIndex,
)


async def scores_tables(cycle_key: str) -> dict[str, pd.DataFrame]:
    """Return the latest score run of a cycle as tables: targets.csv, dimensions.csv, flags.csv.

    Each row is a partner's pooled score (`view` empty) or one organisation's view of it
    (`view` = that organisation's slug), with `shown`: whether the rated party may see it.
    For administrators: the cells marked not shown are still in the file.
    """
    # the columns named by slug or key instead of by id
    KEYS = {"id", "run", "cycle", "target", "rater_organisation"}  # noqa: N806

    run = (
        await ScoreRun.select(ScoreRun.id)
        .where((ScoreRun.cycle._.key == cycle_key) & (ScoreRun.status == RunStatus.done.value))
        .order_by(ScoreRun.id, ascending=False)
        .first()
    )
    if run is None:
        raise ExportError(
            f"cycle {cycle_key!r} has no score run: run `rapport score --cycle {cycle_key}`"
        )
    targets = await TargetIndex.select(
        TargetIndex.target._.slug.as_alias("target"),
        TargetIndex.rater_organisation._.slug.as_alias("view"),
        *(c for c in TargetIndex._meta.columns if c._meta.name not in KEYS),
    ).where(TargetIndex.run == run["id"])
    dimensions = await DimensionScore.select(
        DimensionScore.target._.slug.as_alias("target"),
        DimensionScore.rater_organisation._.slug.as_alias("view"),
        DimensionScore.dimension._.key.as_alias("dimension"),
        *(c for c in DimensionScore._meta.columns if c._meta.name not in KEYS | {"dimension"}),
    ).where(DimensionScore.run == run["id"])
    flags = await EscalationFlag.select(
        EscalationFlag.target._.slug.as_alias("target"),
        EscalationFlag.rater_organisation._.slug.as_alias("view"),
        EscalationFlag.kind,
        EscalationFlag.dimension._.key.as_alias("dimension"),
        EscalationFlag.detail,
        EscalationFlag.shown,
    ).where(EscalationFlag.run == run["id"])
    tables = {"targets.csv": targets, "dimensions.csv": dimensions, "flags.csv": flags}
    return {
        name: pd.DataFrame(rows)
        .assign(cycle=cycle_key, run=run["id"])
        .sort_values(
            [c for c in ("target", "view", "dimension", "kind") if rows and c in rows[0]],
            na_position="first",
            ignore_index=True,
        )
        for name, rows in tables.items()
    }
