"""Storing one score run: every table of a run written through one bulk insert each.

`score_cycle` (surveys.results.cycle_scoring) computes a cycle's results with the engine
and hands them here, inside its one transaction: pooled scores, each organisation's view
of its partners, importance, Cronbach's alpha with the engine's flag, escalation flags
and perception gaps. The organisations and dimensions the engine names by slug and key
are looked up once per run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from scoring.engine import ScoreResult
from surveys.directory.organisations import Organisation
from surveys.infra.database import bulk_insert, db_value
from surveys.instruments import Dimension, Direction
from surveys.results.score_runs import (
    DimensionScore,
    EscalationFlag,
    InstrumentReliability,
    PerceptionGap,
    TargetIndex,
)

VIEW_BY = {Direction.site_rates_sponsor: "rater_org", Direction.sponsor_rates_site: "sponsor"}
"""Whose view a rating belongs to: a site's own raters; for a site, the sponsor of the
relationship (its CRO's raters rate on its behalf), which is also who gives the tier."""


@dataclass(frozen=True)
class Scored:
    """One direction's results, with what storing them needs to know."""

    instrument_id: int
    direction: str
    pooled: ScoreResult
    views: ScoreResult
    mirrors: pd.Series
    """Dimension key → mirror key, for the instrument's mirror dimensions."""
    digest: str
    """SHA-256 of the answers scored, in a fixed order: same answers, same digest."""
    answers: int
    """Answers scored, this cycle's and its history's."""

    @property
    def view_by(self) -> str:
        """The column naming whose view a rating belongs to (VIEW_BY)."""
        return VIEW_BY[Direction(self.direction)]


class RunStore:
    """Writes one run's rows; every table through one bulk insert."""

    def __init__(self, run_id: int, cycle_id: int, cycle_key: str) -> None:
        self.run_id, self.cycle_id, self.cycle_key = run_id, cycle_id, cycle_key
        self.org_ids: dict[str, int] = {}
        self.dimension_ids: dict[tuple[int, str], int] = {}

    async def load_ids(self, scored: list[Scored], gaps: pd.DataFrame) -> None:
        """Look up the ids of every organisation and dimension the rows name."""
        slugs: set[str] = set(gaps["site"]) | set(gaps["partner"])
        for one in scored:
            for table in (one.pooled.targets, one.views.targets):
                slugs |= set(table["target"])
            slugs |= set(one.views.targets[one.view_by])
        rows = await Organisation.select(Organisation.id, Organisation.slug).where(
            Organisation.slug.is_in(sorted(slugs))
        )
        self.org_ids = {row["slug"]: row["id"] for row in rows}
        rows = await Dimension.select(Dimension.id, Dimension.key, Dimension.instrument).where(
            Dimension.instrument.is_in([one.instrument_id for one in scored])
        )
        self.dimension_ids = {(row["instrument"], row["key"]): row["id"] for row in rows}

    async def run_rows(
        self,
        scored: list[Scored],
        gaps: pd.DataFrame,
        current_rates: dict[str | None, pd.DataFrame],
    ) -> int:
        """Store every row of the run but its tiers; return how many escalation flags.

        `current_rates` holds the cycle's response rates pooled (key None) and per view
        (keyed by the VIEW_BY column: `cycle_scoring.response_rates`)."""
        await self.load_ids(scored, gaps)
        flags = 0
        for one in scored:
            by = one.view_by
            await self.targets(one.pooled.targets, None, _rates(current_rates[None], None))
            await self.targets(one.views.targets, by, _rates(current_rates[by], by))
            await self.dimensions(one.instrument_id, one.pooled, None)
            await self.dimensions(one.instrument_id, one.views, by)
            await self.reliability(one.instrument_id, one.pooled.reliability)
            flags += await self.flags(one.instrument_id, one.pooled.flags, None)
            flags += await self.flags(one.instrument_id, one.views.flags, by)
        await self.gaps(gaps)
        return flags

    def _now(self, table: pd.DataFrame) -> pd.DataFrame:
        return table[table["cycle"] == self.cycle_key]

    def _viewer(self, row: Any, by: str | None) -> int | None:
        return None if by is None else self.org_ids[getattr(row, by)]

    async def targets(
        self, table: pd.DataFrame, by: str | None, rates: dict[tuple[str | None, str], float]
    ) -> None:
        """Store target (or view) rows: index, interval, layers, trend, NPS, shown."""
        values = [
            "reliability_index",
            "ri_low",
            "ri_high",
            "raw_index",
            "plain_score",
            "quality",
            "dependability",
            "speed",
            "cost",
            "shrinkage",
            "predictability",
            "trend_slope",
            "trend_p",
            "nps",
        ]
        # "lambda" is a Python keyword, which itertuples would rename to a position
        now = self._now(table).rename(columns={"lambda": "shrinkage"})
        rows = [
            (
                self.run_id,
                self.cycle_id,
                self.org_ids[row.target],
                self._viewer(row, by),
                int(row.n_raters),
                *(db_value(getattr(row, c)) for c in values),
                rates.get((None if by is None else getattr(row, by), row.target)),
                bool(row.shown),
                bool(row.comments_shown),
                bool(row.trend_shown),
            )
            for row in now.itertuples()
        ]
        await bulk_insert(
            TargetIndex,
            [
                "run",
                "cycle",
                "target",
                "rater_organisation",
                "n_raters",
                *values,
                "response_rate",
                "shown",
                "comments_shown",
                "trend_shown",
            ],
            rows,
        )

    async def dimensions(self, instrument_id: int, result: ScoreResult, by: str | None) -> None:
        """Store dimension rows with their importance and quadrant."""
        keys = (
            ["cycle", "target", "dimension"] if by is None else ["cycle", by, "target", "dimension"]
        )
        columns = [
            "n_stated",
            "stated_importance",
            "derived_importance",
            "importance",
            "standard",
            "standard_kind",
            "quadrant",
            "shown",
        ]
        importance = result.importance[[*keys, *columns]].rename(
            columns={"shown": "importance_shown"}
        )
        table = self._now(result.dimensions).merge(importance, on=keys, how="left")
        values = [
            "mean",
            "low",
            "high",
            "shrunk",
            "top_box",
            "rwg",
            "stated_importance",
            "derived_importance",
            "importance",
            "standard",
            "standard_kind",
            "quadrant",
        ]
        rows = [
            (
                self.run_id,
                self.cycle_id,
                self.org_ids[row.target],
                self._viewer(row, by),
                self.dimension_ids[(instrument_id, row.dimension)],
                int(row.n_raters),
                *(db_value(getattr(row, c)) for c in values),
                int(row.n_stated),
                row.importance_shown is True,
                bool(row.shown),
            )
            for row in table.itertuples()
        ]
        await bulk_insert(
            DimensionScore,
            [
                "run",
                "cycle",
                "target",
                "rater_organisation",
                "dimension",
                "n_raters",
                *values,
                "n_stated",
                "importance_shown",
                "shown",
            ],
            rows,
        )

    async def reliability(self, instrument_id: int, table: pd.DataFrame) -> None:
        """Store Cronbach's alpha per dimension, with the engine's flag under its floor."""
        rows = [
            (
                self.run_id,
                self.dimension_ids[(instrument_id, row.dimension)],
                int(row.n_raters),
                db_value(row.alpha),
                db_value(row.alpha_low),
                db_value(row.alpha_high),
                bool(row.low_alpha),
            )
            for row in self._now(table).itertuples()
        ]
        await bulk_insert(
            InstrumentReliability,
            ["run", "dimension", "n_raters", "alpha", "alpha_low", "alpha_high", "low_alpha"],
            rows,
        )

    async def flags(self, instrument_id: int, table: pd.DataFrame, by: str | None) -> int:
        """Store this cycle's escalation flags; return how many."""
        rows = [
            (
                self.run_id,
                self.cycle_id,
                self.org_ids[row.target],
                self._viewer(row, by),
                row.flag,
                None
                if pd.isna(row.dimension)
                else self.dimension_ids[(instrument_id, row.dimension)],
                row.detail,
                bool(row.shown),
            )
            for row in self._now(table).itertuples()
        ]
        await bulk_insert(
            EscalationFlag,
            [
                "run",
                "cycle",
                "target",
                "rater_organisation",
                "kind",
                "dimension",
                "detail",
                "shown",
            ],
            rows,
        )
        return len(rows)

    async def gaps(self, gaps: pd.DataFrame) -> None:
        """Store the perception gaps of this cycle's relationships."""
        rows: Iterable[tuple[Any, ...]] = [
            (
                self.run_id,
                self.cycle_id,
                self.org_ids[row.site],
                self.org_ids[row.partner],
                row.mirror,
                float(row.site_view),
                float(row.partner_view),
                float(row.gap),
                bool(row.shown),
            )
            for row in gaps.itertuples()
        ]
        await bulk_insert(
            PerceptionGap,
            [
                "run",
                "cycle",
                "site",
                "partner",
                "mirror",
                "site_view",
                "partner_view",
                "gap",
                "shown",
            ],
            list(rows),
        )


def _rates(table: pd.DataFrame, by: str | None) -> dict[tuple[str | None, str], float]:
    """(viewer slug, or None pooled; target slug) → the share of its invitations submitted."""
    return {
        (None if by is None else getattr(row, by), row.target): float(row.response_rate)
        for row in table.itertuples()
    }
