"""A relationship's review meeting pack: what both sides go over after a cycle is published.

Built from that cycle's score run: the agenda is the relationship's escalation flags, the
dimensions in the "fix first" quadrant, and the widest perception gaps; the action items
(surveys.results.meetings) come with it, an item still open when a later cycle is
published carrying into that cycle's pack, and a closed item showing whether the
dimension it targeted moved, by Welch's test on the dimension's mean before and after
(scoring.trends.mean_changes).

Only published cycles are read, so both sides work from the same pack, and only cells
the run marked as shown carry numbers (DESIGN.md §4).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from scoring.gaps import FIX_FIRST
from scoring.trends import mean_changes, shown_change
from surveys.cycles.cycle import CycleStatus
from surveys.directory.organisations import Organisation
from surveys.infra.i18n import N_, Text, number
from surveys.instruments import Direction
from surveys.instruments.catalogue import mirror_names
from surveys.instruments.questionnaires import localised
from surveys.results.flag_sentences import flag_sentences
from surveys.results.meetings import (
    ActionItem,
    ActionItemError,
    ActionStatus,
    Side,
    action_dimensions,
    relationship_between,
)
from surveys.results.score_runs import (
    DimensionScore,
    EscalationFlag,
    PerceptionGap,
    fix_first_reason,
    interval_level,
    scored_cycles,
)

GAPS_ON_AGENDA = 3


AGENDA_LABELS = {"flag": N_("Escalation"), FIX_FIRST: N_("Fix first"), "gap": N_("Perception gap")}
"""What each kind of agenda point is called (marked: the page translates it)."""


@dataclass(frozen=True)
class AgendaPoint:
    kind: str
    """flag, fix first or gap."""
    text: str

    @property
    def label(self) -> str:
        return AGENDA_LABELS[self.kind]


@dataclass(frozen=True)
class Effect:
    """Whether a closed item's dimension moved, from the cycle it was opened in to now."""

    before: float | None
    now: float | None
    change: float | None
    significant: bool
    verdict: str

    @property
    def shown_change(self) -> int | None:
        """The change as printed (`scoring.trends.shown_change`)."""
        return shown_change(self.now, self.before)


@dataclass(frozen=True)
class Action:
    id: int
    title: str
    owner: str
    side: Side
    dimension: str | None
    due_on: dt.date | None
    status: ActionStatus
    opened_in: str
    carried: bool
    """Still open from an earlier cycle."""
    overdue: bool
    effect: Effect | None
    dimension_id: int | None = None
    """The dimension's id, for the form that edits the item."""


@dataclass(frozen=True)
class MeetingPack:
    sponsor: str
    site: str
    relationship_id: int
    cycle: str | None
    """The latest published cycle, which the pack is about; None before any is published."""
    agenda: tuple[AgendaPoint, ...]
    actions: tuple[Action, ...]
    dimensions: tuple[tuple[int, str], ...]
    """Dimension id and name, both sides' instruments: what an item may target."""


async def meeting_pack(
    sponsor_id: int, site_id: int, today: dt.date, sites_view: bool = True, language: str = "en"
) -> MeetingPack:
    """The pack for a relationship's next review meeting, from the latest published cycle,
    its words and dimensions in `language` (the page's reader's; English for the API).

    Without `sites_view` (a CRO's user), nothing from the site's raters' view of the
    sponsor is in it: no flags or "fix first" points about the sponsor, no perception
    gaps, no effect on a dimension the site rates.
    """
    relationship = await relationship_between(sponsor_id, site_id)
    if relationship is None:
        raise ActionItemError("these two organisations do not work together")
    both = Organisation.id.is_in([sponsor_id, site_id])
    names = {
        r["id"]: r["name"]
        for r in await Organisation.select(Organisation.id, Organisation.name).where(both)
    }
    published = await scored_cycles((CycleStatus.published.value,))
    dimensions = await action_dimensions()
    if not published:
        return MeetingPack(
            names[sponsor_id],
            names[site_id],
            relationship,
            None,
            (),
            await _actions(relationship, None, {}, today, language=language),
            dimensions,
        )
    latest = published[0]
    run = int(str(latest["run"]))
    agenda = [
        *await _flags(run, sponsor_id, site_id, names, sites_view, language),
        *await _fix_first(run, sponsor_id, site_id, names, sites_view, language),
        *(await _gaps(run, sponsor_id, site_id, language) if sites_view else []),
    ]
    runs = {str(c["key"]): int(str(c["run"])) for c in published}
    actions = await _actions(
        relationship, str(latest["key"]), runs, today, sponsor_id, site_id, sites_view, language
    )
    return MeetingPack(
        names[sponsor_id],
        names[site_id],
        relationship,
        str(latest["key"]),
        tuple(agenda),
        actions,
        dimensions,
    )


def _views(table: Any, sponsor_id: int, site_id: int, sites_view: bool) -> Any:
    """The views of one relationship: the sponsor's raters on the site, and (if it may be
    seen) the site's raters on the sponsor."""
    sponsors_view = (table.target == site_id) & (table.rater_organisation == sponsor_id)
    if not sites_view:
        return sponsors_view
    return sponsors_view | ((table.target == sponsor_id) & (table.rater_organisation == site_id))


async def _flags(
    run: int,
    sponsor_id: int,
    site_id: int,
    names: dict[int, str],
    sites_view: bool,
    language: str = "en",
) -> list[AgendaPoint]:
    """The run's shown flags on the relationship, in `language`: a drop or a collapse said
    from the stored figures (`surveys.results.flag_sentences`), not the engine's English."""
    rows = (
        await EscalationFlag.select(
            EscalationFlag.target,
            EscalationFlag.rater_organisation,
            EscalationFlag.kind,
            EscalationFlag.dimension._.name.as_alias("dimension"),
        )
        .where(
            (EscalationFlag.run == run)
            & EscalationFlag.shown.eq(True)
            & _views(EscalationFlag, sponsor_id, site_id, sites_view)
        )
        .output(load_json=True)
    )
    views = ((r["kind"], r["target"], r["rater_organisation"]) for r in rows)
    said = await flag_sentences(run, views, language, (CycleStatus.published.value,))
    points = []
    for row in sorted(rows, key=lambda r: (r["kind"] != "significant_drop", r["target"])):
        about = names[row["target"]]
        sentence = said.get((row["kind"], row["target"], row["rater_organisation"]))
        if sentence is None:  # a dimension under its floor
            text = Text(
                N_("%(about)s: %(dimension)s is under its floor"),
                {"about": about, "dimension": localised(row["dimension"], language, "")},
            )
        else:
            text = Text(N_("%(about)s: %(flag)s"), {"about": about, "flag": sentence})
        points.append(AgendaPoint("flag", text.render(language)))
    return points


async def _fix_first(
    run: int,
    sponsor_id: int,
    site_id: int,
    names: dict[int, str],
    sites_view: bool,
    language: str = "en",
) -> list[AgendaPoint]:
    rows = (
        await DimensionScore.select(
            DimensionScore.target,
            DimensionScore.mean,
            DimensionScore.standard,
            DimensionScore.standard_kind,
            DimensionScore.dimension._.name.as_alias("dimension"),
        )
        .where(
            (DimensionScore.run == run)
            & (DimensionScore.quadrant == FIX_FIRST)
            & DimensionScore.shown.eq(True)
            & DimensionScore.importance_shown.eq(True)
            & _views(DimensionScore, sponsor_id, site_id, sites_view)
        )
        .output(load_json=True)
    )
    return [
        AgendaPoint(
            FIX_FIRST,
            Text(
                N_("%(about)s: %(dimension)s matters most to raters and %(reason)s"),
                {
                    "about": names[r["target"]],
                    "dimension": localised(r["dimension"], language, ""),
                    "reason": reason.render(language),
                },
            ).render(language),
        )
        for r in sorted(rows, key=lambda r: r["mean"])
        if (reason := fix_first_reason(r["mean"], r["standard"], r["standard_kind"]))
    ]


async def _gaps(run: int, sponsor_id: int, site_id: int, language: str = "en") -> list[AgendaPoint]:
    rows = await PerceptionGap.select(
        PerceptionGap.mirror, PerceptionGap.site_view, PerceptionGap.partner_view, PerceptionGap.gap
    ).where(
        (PerceptionGap.run == run)
        & (PerceptionGap.site == site_id)
        & (PerceptionGap.partner == sponsor_id)
        & PerceptionGap.shown.eq(True)
    )
    widest = sorted(rows, key=lambda r: -abs(r["gap"]))[:GAPS_ON_AGENDA]
    names = await mirror_names(language) if widest else {}
    return [
        AgendaPoint(
            "gap",
            Text(
                N_(
                    "%(dimension)s: the site gives %(site)s, the sponsor gives %(partner)s "
                    "(%(gap)s)"
                ),
                {
                    "dimension": names.get(r["mirror"], r["mirror"]),
                    "site": number(r["site_view"], language),
                    "partner": number(r["partner_view"], language),
                    "gap": f"{r['gap']:+.0f}",
                },
            ).render(language),
        )
        for r in widest
    ]


async def _actions(
    relationship: int,
    cycle: str | None,
    runs: dict[str, int],
    today: dt.date,
    sponsor_id: int = 0,
    site_id: int = 0,
    sites_view: bool = True,
    language: str = "en",
) -> tuple[Action, ...]:
    rows = (
        await ActionItem.select(
            ActionItem.id,
            ActionItem.title,
            ActionItem.owner,
            ActionItem.side,
            ActionItem.due_on,
            ActionItem.status,
            ActionItem.opened_in._.key.as_alias("opened_in"),
            ActionItem.closed_in._.key.as_alias("closed_in"),
            ActionItem.dimension,
            ActionItem.dimension._.key.as_alias("dimension_key"),
            ActionItem.dimension._.name.as_alias("dimension_name"),
            ActionItem.dimension._.instrument._.direction.as_alias("direction"),
        )
        .where(ActionItem.relationship == relationship)
        .order_by(ActionItem.id)
        .output(load_json=True)
    )
    found = []
    for row in rows:
        status = ActionStatus(row["status"])
        effect = None
        hidden = not sites_view and row["direction"] == Direction.site_rates_sponsor
        if status == ActionStatus.done and row["dimension"] and cycle and not hidden:
            effect = await _effect(row, cycle, runs, sponsor_id, site_id, language)
        found.append(
            Action(
                row["id"],
                row["title"],
                row["owner"],
                Side(row["side"]),
                localised(row["dimension_name"], language, "") if row["dimension"] else None,
                row["due_on"],
                status,
                row["opened_in"],
                not status.closed and cycle is not None and row["opened_in"] != cycle,
                not status.closed and row["due_on"] is not None and row["due_on"] < today,
                effect,
                row["dimension"],
            )
        )
    # open items first (carried over first among them), then the closed
    found.sort(key=lambda a: (a.status.closed, not a.carried, a.id))
    return tuple(found)


async def _effect(
    row: dict[str, Any],
    cycle: str,
    runs: dict[str, int],
    sponsor_id: int,
    site_id: int,
    language: str = "en",
) -> Effect:
    """Did the targeted dimension move between the cycle the item was opened in and now?
    (The verdict in `language`.)"""

    def said(verdict: str) -> str:
        return Text(verdict).render(language)

    if row["closed_in"] == cycle or row["opened_in"] not in runs:
        return Effect(
            None, None, None, False, said(N_("closed this cycle: the next cycle will tell"))
        )
    # the dimension is the same across instrument versions by its key and direction
    site_rates = row["direction"] == Direction.site_rates_sponsor
    target, rater = (sponsor_id, site_id) if site_rates else (site_id, sponsor_id)
    scores = await DimensionScore.select(
        DimensionScore.run,
        DimensionScore.n_raters,
        DimensionScore.mean,
        DimensionScore.low,
        DimensionScore.high,
        DimensionScore.shown,
    ).where(
        DimensionScore.run.is_in([runs[row["opened_in"]], runs[cycle]])
        & (DimensionScore.target == target)
        & (DimensionScore.rater_organisation == rater)
        & (DimensionScore.dimension._.key == row["dimension_key"])
        & (DimensionScore.dimension._.instrument._.direction == row["direction"])
    )
    by_run = {r["run"]: r for r in scores if r["shown"] and r["mean"] is not None}
    before, now = by_run.get(runs[row["opened_in"]]), by_run.get(runs[cycle])
    if before is None or now is None:
        return Effect(
            None, None, None, False, said(N_("too few responses in one of the cycles to tell"))
        )
    frame = pd.DataFrame([{**before, "key": 0}]), pd.DataFrame([{**now, "key": 0}])
    level = await interval_level(runs[cycle])
    change = mean_changes(frame[1], frame[0], ["key"], level).iloc[0]
    if pd.isna(change["p"]):
        verdict = N_("too few raters to tell a change from noise")
    elif change["significant"]:
        verdict = (
            N_("improved significantly") if change["change"] > 0 else N_("declined significantly")
        )
    else:
        verdict = N_("no significant change")
    return Effect(
        float(change["before"]),
        float(change["now"]),
        float(change["change"]),
        bool(change["significant"]),
        said(verdict),
    )
