"""A cycle's stored results, read once for every scorecard of the cycle.

A batch lays out hundreds of scorecards; reading each one's figures with its own queries
would cost more than laying them out. `cycle_results` reads the run and the runs before it
(for the trend line) in a few queries, and the scorecards are laid out from memory.
Only what the run marked as shown carries numbers; the rest stays None.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scoring.anonymity import PEERS_NEEDED, minimum_commenters, minimum_raters
from scoring.config import ScoringConfig
from scoring.trends import mean_changes
from surveys.cycles.cycle import Cycle, CycleStatus
from surveys.directory.organisations import Organisation, Person, Relationship
from surveys.infra.errors import RapportError
from surveys.instruments import Dimension, Direction
from surveys.responses.answers import Answer, ResponseStatus
from surveys.results.meetings import ActionItem
from surveys.results.score_runs import (
    DimensionScore,
    EscalationFlag,
    InstrumentReliability,
    PerceptionGap,
    TargetIndex,
    run_config,
    scored_cycles,
)
from surveys.results.tier_assignments import Tier, TierAssignment, tier_in_force
from surveys.scorecards._table import PartnerReply, reply_key

TREND_CYCLES = 8
"""Cycles on a scorecard's trend line, the chosen one last."""


class ScorecardError(RapportError):
    """A scorecard cannot be made; the message says why (a cycle not scored, say)."""


@dataclass(frozen=True)
class Org:
    id: int
    slug: str
    name: str
    kind: str
    country: str | None
    network: int | None
    acts_for: int | None
    language: str
    """The language most of its people read: its scorecards are written in it."""


View = tuple[int, int | None]
"""(target, rater organisation): a partner's pooled score, or one organisation's view of it."""


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
    indices: dict[tuple[int, int, int | None], dict[str, Any]]
    """(run, target, rater organisation) → TargetIndex row."""
    dimensions: dict[tuple[int, int, int | None], list[dict[str, Any]]]
    """(run, target, rater organisation) → its DimensionScore rows (this run and the one before)."""
    dimension_info: dict[int, dict[str, Any]]
    alphas: dict[int, dict[str, Any]]
    """Dimension id → Cronbach's alpha of this run."""
    flags: dict[View, list[dict[str, Any]]]
    gaps: list[dict[str, Any]]
    tiers: dict[tuple[int, int], dict[str, Any]]
    """(assessor, target) → this cycle's tier assignment."""
    previous_tiers: dict[tuple[int, int], Tier]
    comments: dict[View, list[str]]
    replies: dict[str, dict[str, Any]]
    relationships: dict[tuple[int, int], dict[str, Any]]
    """(sponsor, site) → the relationship's id and CRO."""
    actions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """Relationship id → its action items."""
    changes: dict[View, dict[int, tuple[float, bool]]] = field(default_factory=dict)
    """(target, rater organisation) → dimension → change of its mean since the last cycle,
    and whether it is significant (Welch), for every cell shown in both cycles."""
    _groups: dict[tuple[frozenset[str], int | None], Any] = field(default_factory=dict)

    def group(self, kinds: frozenset[str], view: int | None) -> dict[str, Any]:
        """The partners of these kinds in one view this cycle, to compare one of them with:
        their ids, their sorted indices, and each dimension's quartiles (shown cells only,
        at least PEERS_NEEDED partners, itself among them). Worked out once per group,
        however many scorecards ask."""
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
                if (i := self.indices[(self.run, t, view)].get("reliability_index")) is not None
            )
            values: dict[int, list[float]] = defaultdict(list)
            for target in targets:
                for row in self.dimensions.get((self.run, target, view), []):
                    if row["mean"] is not None:
                        values[row["dimension"]].append(float(row["mean"]))
            quartiles = {
                d: tuple(float(q) for q in np.percentile(v, [25, 50, 75]))
                for d, v in values.items()
                if len(v) >= PEERS_NEEDED
            }
            self._groups[key] = {"targets": targets, "indices": indices, "quartiles": quartiles}
        return self._groups[key]

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
    cycle = (
        await Cycle.select(Cycle.id, Cycle.key, Cycle.status).where(Cycle.key == cycle_key).first()
    )
    if cycle is None:
        raise ScorecardError(f"there is no cycle {cycle_key!r}")
    scored = await scored_cycles()
    keys = [str(c["key"]) for c in scored]
    if cycle_key not in keys:
        raise ScorecardError(
            f"cycle {cycle_key} is {cycle['status']}, not scored: run `rapport score --cycle "
            f"{cycle_key}` first"
        )
    chosen = keys.index(cycle_key)
    window = list(reversed(scored[chosen : chosen + TREND_CYCLES]))
    runs = {str(c["key"]): int(str(c["run"])) for c in window}
    run = runs[cycle_key]
    config = await run_config(run)
    recent = [r for r in (run, runs[window[-2]["key"]] if len(window) > 1 else None) if r]

    level = config.ci
    index_rows = await TargetIndex.select().where(TargetIndex.run.is_in(list(runs.values())))
    dimension_rows = await DimensionScore.select().where(DimensionScore.run.is_in(recent))
    indices = {(r["run"], r["target"], r["rater_organisation"]): _shown_only(r) for r in index_rows}
    dimensions: dict[tuple[int, int, int | None], list[dict[str, Any]]] = defaultdict(list)
    for row in dimension_rows:
        dimensions[(row["run"], row["target"], row["rater_organisation"])].append(_shown_only(row))
    flags: dict[View, list[dict[str, Any]]] = defaultdict(list)
    for row in await EscalationFlag.select().where(
        (EscalationFlag.run == run) & EscalationFlag.shown.eq(True)
    ):
        flags[(row["target"], row["rater_organisation"])].append(row)
    tiers = {
        (r["assessor"], r["target"]): r
        for r in await TierAssignment.select().where(TierAssignment.cycle == cycle["id"])
    }
    previous_tiers: dict[tuple[int, int], Tier] = {}
    if len(window) > 1:
        for r in await TierAssignment.select().where(TierAssignment.cycle == window[-2]["id"]):
            previous_tiers[(r["assessor"], r["target"])] = Tier(tier_in_force(r))
    return CycleResults(
        cycle_id=int(cycle["id"]),
        cycle=cycle_key,
        status=str(cycle["status"]),
        run=run,
        level=level,
        config=config,
        cycles=tuple(runs),
        runs=runs,
        orgs=await _organisations(),
        indices=indices,
        dimensions=dict(dimensions),
        dimension_info={
            r["id"]: r
            for r in await Dimension.select(
                Dimension.id,
                Dimension.key,
                Dimension.name,
                Dimension.layer,
                Dimension.position,
                Dimension.mirror_key,
                Dimension.floor,
                Dimension.instrument.direction.as_alias("direction"),
            ).output(load_json=True)
        },
        alphas={
            r["dimension"]: r
            for r in await InstrumentReliability.select().where(InstrumentReliability.run == run)
        },
        flags=dict(flags),
        gaps=list(
            await PerceptionGap.select().where(
                (PerceptionGap.run == run) & PerceptionGap.shown.eq(True)
            )
        ),
        tiers=tiers,
        previous_tiers=previous_tiers,
        comments=await _comments(int(cycle["id"]), indices, run),
        replies={
            r["key"]: r | {"text": breakable(r["text"])}
            for r in await PartnerReply.select(
                PartnerReply.key,
                PartnerReply.text,
                PartnerReply.written_at,
                PartnerReply.person.name.as_alias("by"),
            ).where(PartnerReply.cycle == cycle["id"])
        },
        relationships={
            (r["sponsor"], r["site"]): r
            for r in await Relationship.select(
                Relationship.id, Relationship.sponsor, Relationship.site, Relationship.cro
            )
        },
        actions=await _actions(),
        changes=_dimension_changes(
            dict(dimensions), run, recent[1] if len(recent) > 1 else None, level
        ),
    )


LONGEST_UNBROKEN = 30
"""Characters a word may run before the PDF may break it: an unbroken 5,000-character word
otherwise costs WeasyPrint minutes to lay out."""


def breakable(text: str) -> str:
    """Untrusted text with a zero-width space every LONGEST_UNBROKEN characters of any longer
    word, so it wraps on paper; it reads and copies the same.

    >>> breakable("a " + "x" * 65).split("\u200b")
    ['a xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'xxxxx']
    """
    words = text.split(" ")
    return " ".join(
        "\u200b".join(w[i : i + LONGEST_UNBROKEN] for i in range(0, len(w), LONGEST_UNBROKEN))
        if len(w) > LONGEST_UNBROKEN
        else w
        for w in words
    )


def reply_for(results: CycleResults, subject: int, view: int | None) -> dict[str, Any] | None:
    """The partner's reply to one scorecard of this cycle, if it wrote one."""
    return results.replies.get(reply_key(results.cycle_id, subject, view))


def _shown_only(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with its figures blanked where the run hid them (DESIGN.md §4)."""
    if row.get("shown"):
        if "importance_shown" in row and not row["importance_shown"]:
            return row | {
                "stated_importance": None,
                "derived_importance": None,
                "importance": None,
                "quadrant": None,
            }
        if "trend_shown" in row and not row["trend_shown"]:
            return row | {"trend_slope": None, "trend_p": None, "predictability": None}
        return row
    kept = {
        "id",
        "run",
        "cycle",
        "target",
        "rater_organisation",
        "dimension",
        "shown",
        "comments_shown",
        "trend_shown",
        "importance_shown",
    }
    return {k: (v if k in kept else None) for k, v in row.items()}


def _dimension_changes(
    dimensions: dict[tuple[int, int, int | None], list[dict[str, Any]]],
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
                r["dimension"],
                r["n_raters"],
                r["mean"],
                r["low"],
                r["high"],
            )
            for (row_run, target, view), found in dimensions.items()
            if row_run == wanted
            for r in found
            if r["mean"] is not None
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


async def _organisations() -> dict[int, Org]:
    languages: dict[int, Counter[str]] = defaultdict(Counter)
    for row in await Person.select(Person.organisation, Person.language).where(
        Person.active.eq(True)
    ):
        languages[row["organisation"]][row["language"] or "en"] += 1
    return {
        r["id"]: Org(
            r["id"],
            r["slug"],
            breakable(r["name"]),
            r["kind"],
            r["country"],
            r["network"],
            r["acts_for"],
            # most common, ties to English, then alphabetically: the same choice every run
            min(languages[r["id"]].items(), key=lambda lc: (-lc[1], lc[0] != "en", lc[0]))[0]
            if languages[r["id"]]
            else "en",
        )
        for r in await Organisation.select(
            Organisation.id,
            Organisation.slug,
            Organisation.name,
            Organisation.kind,
            Organisation.country,
            Organisation.network,
            Organisation.acts_for,
        )
    }


async def _comments(
    cycle_id: int, indices: dict[tuple[int, int, int | None], dict[str, Any]], run: int
) -> dict[View, list[str]]:
    """Each view's comments, only where the run allows them, sorted so their order tells
    nothing of who wrote them or when."""
    invitation = Answer.response.invitation
    rows = await Answer.select(
        invitation.target.as_alias("target"),
        invitation.respondent.organisation.as_alias("rater_org"),
        invitation.relationship.sponsor.as_alias("sponsor"),
        invitation.instrument.direction.as_alias("direction"),
        Answer.text,
    ).where(
        (invitation.cycle == cycle_id)
        & (Answer.item.kind == "text")
        & (Answer.response.status == ResponseStatus.submitted.value)
        & Answer.text.is_not_null()
        & (Answer.text != "")
    )
    found: dict[View, list[str]] = defaultdict(list)
    for row in rows:
        by_site = row["direction"] == Direction.site_rates_sponsor
        view = row["rater_org"] if by_site else row["sponsor"]
        for key in ((row["target"], None), (row["target"], view)):
            index = indices.get((run, *key))
            if index is not None and index.get("comments_shown"):
                found[key].append(breakable(str(row["text"]).strip()))
    return {key: sorted(texts, key=str.casefold) for key, texts in found.items()}


async def _actions() -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await ActionItem.select(
        ActionItem.relationship,
        ActionItem.title,
        ActionItem.owner,
        ActionItem.side,
        ActionItem.dimension,
        ActionItem.status,
        ActionItem.due_on,
        ActionItem.opened_in.key.as_alias("opened_in"),
    ).order_by(ActionItem.id):
        found[row["relationship"]].append(row)
    return dict(found)


def today() -> dt.date:
    """The date a scorecard is made on."""
    return dt.datetime.now(dt.UTC).date()


PUBLISHED = CycleStatus.published.value
