"""The partner scorecard: one partner, one cycle, as one organisation (or all) rated it.

A site's scorecard is its sponsor's view of it (that sponsor's raters, its CRO's included)
and carries the tier that sponsor gives; a sponsor's or CRO's scorecard is every site
rater's view of it. Its audience is the partner itself or the organisation that rated it;
the figures are the same for both, written in the audience's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from scoring.anonymity import peer_percentile
from scoring.config import LAYERS
from scoring.gaps import FIX_FIRST
from scoring.sand_cone import effective_layers
from surveys.charts import (
    ImportanceChart,
    SandConeChart,
    ScoreBar,
    Sparkline,
    importance_chart,
    sand_cone_chart,
    score_bar,
    sparkline,
)
from surveys.infra.i18n import N_, number, percent
from surveys.instruments import Direction
from surveys.results.score_runs import fix_first_reason, trend_of
from surveys.results.tier_assignments import Tier
from surveys.scorecards._brief import ScorecardBrief
from surveys.scorecards._results import PUBLISHED, CycleResults, reply_for, today
from surveys.scorecards._rows import (
    NO_INDEX,
    Org,
    ShownDimensionScore,
    ShownIndex,
    StoredReply,
    StoredTier,
)
from surveys.scorecards._sentences import Footnote, flag_text, footnotes, moved, trend_words
from surveys.scorecards._trace import trace_in
from surveys.scorecards._words import (
    KIND_NAMES,
    LAYER_NAMES,
    SIDE_NAMES,
    STATUS_NAMES,
    Say,
    tier_change,
    tier_name,
)
from surveys.workspaces.meeting_pack import GAPS_ON_AGENDA

WIDE_GAP = 10
"""Points between the two sides' views from which a gap is raised at the review meeting."""


@dataclass(frozen=True)
class Figure:
    """A score with its interval; all None when the cell is hidden."""

    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class DimensionRow:
    """One dimension of the scorecard's table."""

    number: int
    """Its number on the importance chart."""
    name: str
    layer: str
    score: Figure
    bar: ScoreBar
    peers: tuple[float, float, float] | None
    """The group's lower quartile, median and upper quartile (`peer_spread`); None with too
    few peers for all three."""
    peers_median: float | None
    """The group's median; None with too few peers."""
    change: int | None
    """Whole points since the last cycle (None if either cycle is hidden or missing)."""
    change_significant: bool
    top_box: float | None
    """Share of answers at the top of the scale, 0–1."""
    under_floor: bool
    quadrant: str | None
    importance: float | None
    """What the quadrant ranks on (None when it may not be shown)."""
    standard: float | None
    """What "fix first" holds the score against: the peers' median or the floor."""
    fix_reason: str | None
    """Why it is "fix first" (`fix_first_reason`), in the scorecard's language; None when
    it is not."""


@dataclass(frozen=True)
class PerceptionGapLine:
    """One dimension both sides rate, on the scorecard's "how each side sees the other"."""

    mirror: str
    """The dimension's name, as the subject's own instrument names it."""
    site_view: float
    partner_view: float
    gap: float


@dataclass(frozen=True)
class ActionFollowUp:
    """Last cycle's action item and whether the dimension it aimed at moved."""

    title: str
    owner: str
    side: str
    status: str
    dimension: str | None
    moved: str
    """What happened to its dimension, in words."""


@dataclass(frozen=True)
class PartnerScorecard:
    """Everything one partner scorecard shows; the template only lays it out."""

    title: str
    language: str
    paper: str
    """a4 or letter."""
    made_on: dt.date
    draft: bool
    """The cycle is not published yet: its tiers may still change."""
    subject: Org
    kind_name: str
    network: str | None
    view: str
    """Whose ratings these are, in words ("as Kestrel Pharma's raters see it")."""
    audience: Org
    cycle: str
    previous_cycle: str | None
    k: int
    """Raters a cell needs before it is shown: a hidden cell reads "fewer than k responses"."""
    level: str
    """The intervals' confidence level as the language writes it ("90 %" in French)."""
    rated: bool
    """Whether anyone in this view rated the partner this cycle at all."""
    comment_k: int
    tier: Tier | None
    tier_name: str | None
    """"3 Approved", in the scorecard's language."""
    previous_tier: Tier | None
    previous_tier_name: str | None
    tier_change: str | None
    provisional: bool
    override_reason: str | None
    rule_trace: str | None
    index: Figure
    plain_score: float | None
    raters: int | None
    response_rate: float | None
    percentile: int | None
    """Share of peers (same kind, same view) with a lower index, in percent
    (`peer_percentile`); None when its index is hidden or provisional, or it has too few
    peers."""
    percentile_withheld: str | None
    """Why there is no percentile, in the scorecard's language."""
    peers: int
    """Peers with a shown index: the percentile's "of N"."""
    trend: Sparkline
    trend_cycles: int
    """Cycles on the trend line."""
    trend_words: str | None
    cone: SandConeChart
    dimensions: tuple[DimensionRow, ...]
    dimension_groups: tuple[tuple[str, tuple[DimensionRow, ...]], ...]
    """The same rows grouped by Sand Cone layer, quality first."""
    importance: ImportanceChart | None
    fix_first: tuple[str, ...]
    gaps: tuple[PerceptionGapLine, ...]
    cro: tuple[tuple[str, Figure], ...]
    """For a sponsor: each CRO acting for it, as the same sites see that CRO."""
    footnotes: tuple[Footnote, ...]
    comments: tuple[str, ...] | None
    """None when too few raters answered for comments to be shown."""
    flags: tuple[str, ...]
    actions: tuple[ActionFollowUp, ...]
    next_meeting: tuple[str, ...]
    reply: StoredReply | None
    """The partner's written reply: text, by, written_at."""
    links: tuple[tuple[str, str], ...] = ()
    """On screen only (hidden in print): the PDF, other languages, the reply form."""


def partner_scorecard(
    results: CycleResults,
    subject_id: int,
    view_id: int | None,
    audience_id: int,
    language: str,
    paper: str = "a4",
) -> PartnerScorecard:
    """Lay out one partner scorecard from a cycle's results."""
    brief = ScorecardBrief(results, results.orgs[subject_id], view_id, language)
    subject, say = brief.subject, brief.say
    found = brief.index
    index = found or NO_INDEX
    rows = _dimension_rows(brief)
    tier = _tier(brief)
    tier_now = tier.tier if tier else None
    previous_tier = (
        results.previous_tiers.get((view_id, subject_id)) if view_id is not None else None
    )
    slope, p = index.trend_slope, index.trend_p
    withheld = _percentile_withheld(brief, index, tier)
    percentile = None if withheld else _percentile(brief, index.reliability_index)
    return PartnerScorecard(
        title=say(N_("%(name)s: scorecard %(cycle)s"), name=subject.name, cycle=results.cycle),
        language=language,
        paper=paper,
        made_on=today(),
        draft=results.status != PUBLISHED,
        subject=subject,
        kind_name=say(KIND_NAMES[subject.kind]),
        network=results.orgs[subject.network].name if subject.network else None,
        view=_view_words(brief),
        audience=results.orgs[audience_id],
        cycle=results.cycle,
        previous_cycle=results.previous_cycle,
        k=brief.k,
        level=percent(results.level, language),
        rated=found is not None,
        comment_k=results.comment_k(subject.kind),
        tier=tier_now,
        tier_name=tier_name(tier_now, say),
        previous_tier_name=tier_name(previous_tier, say),
        previous_tier=previous_tier,
        tier_change=tier_change(tier_now, previous_tier, say),
        provisional=bool(tier and tier.provisional),
        override_reason=tier.override_reason if tier else None,
        rule_trace=trace_in(tier.rule_trace, say) if tier else None,
        index=Figure(index.reliability_index, index.ri_low, index.ri_high),
        plain_score=index.plain_score,
        raters=index.n_raters if index.shown else None,
        response_rate=index.response_rate,
        percentile=percentile,
        percentile_withheld=withheld
        or (None if percentile is not None else say(N_("too few peers or responses"))),
        peers=max(len(brief.peers.indices) - 1, 0),
        trend=_trend_line(brief),
        trend_cycles=len(results.cycles),
        trend_words=trend_words(trend_of(slope, p, results.config.trend.significance), slope, say),
        cone=_cone(brief, index, _hidden_text(brief.k, found is not None, say)),
        dimensions=tuple(rows),
        dimension_groups=_dimension_groups(rows, say),
        importance=_importance(rows, say),
        fix_first=tuple(f"{r.name}: {r.fix_reason}" for r in rows if r.fix_reason),
        gaps=_gaps(brief),
        cro=_cro_views(brief),
        footnotes=footnotes(brief, index),
        comments=tuple(results.comments.get(brief.view, ())) if index.comments_shown else None,
        flags=tuple(flag_text(brief, f) for f in results.flags.get(brief.view, ())),
        actions=_action_follow_ups(brief),
        next_meeting=_next_meeting(brief, rows),
        reply=reply_for(results, subject_id, view_id),
    )


def _tier(brief: ScorecardBrief) -> StoredTier | None:
    """The tier the rating sponsor gives the subject this cycle; none for a pooled view."""
    if brief.view_id is None:
        return None
    return brief.results.tiers.get((brief.view_id, brief.subject.id))


def _view_words(brief: ScorecardBrief) -> str:
    """Whose ratings these are, in words."""
    if brief.view_id is not None and (rater := brief.results.orgs[brief.view_id].name):
        return brief.say(N_("as %(rater)s's raters see it"), rater=rater)
    return brief.say(N_("as every responding site's raters see it"))


def _hidden_text(k: int, rated: bool, say: Say) -> str:
    """What a cell without a number says: why it has none."""
    if not rated:
        return say(N_("not rated this cycle"))
    return say(N_("fewer than %(k)s responses"), k=k) if k > 1 else say(N_("no responses"))


def _trend_line(brief: ScorecardBrief) -> Sparkline:
    """The index over the cycles of the trend line, a gap where a cycle's cell is hidden."""
    results = brief.results
    values = [
        results.indices.get((results.runs[c], *brief.view), NO_INDEX).reliability_index
        for c in results.cycles
    ]
    return sparkline(values, cycles=results.cycles, width=200, height=40)


def _cone(brief: ScorecardBrief, index: ShownIndex, hidden: str) -> SandConeChart:
    """The four layers as scored, and as the Sand Cone lets each count (its effective score)
    when every layer is shown."""
    say = brief.say
    layers = [index.figure(layer) for layer in LAYERS]
    effective: list[float | None] = list(layers)
    if all(v is not None for v in layers):
        capped = effective_layers(np.array(layers, dtype=float), brief.results.config.sand_cone)
        effective = [float(v) for v in capped]
    return sand_cone_chart(
        [(say(LAYER_NAMES[layer]), layers[i], effective[i]) for i, layer in enumerate(LAYERS)],
        hidden,
        say(N_("plain")),
    )


def _fix_reason(brief: ScorecardBrief, row: ShownDimensionScore) -> str | None:
    """Why a dimension is "fix first": its score and the standard it falls below."""
    if row.quadrant != FIX_FIRST or row.mean is None:
        return None
    reason = fix_first_reason(row.mean, row.standard, row.standard_kind)
    return reason.render(brief.language) if reason else None


def _dimension_groups(
    rows: list[DimensionRow], say: Say
) -> tuple[tuple[str, tuple[DimensionRow, ...]], ...]:
    """The table's rows under their Sand Cone layer's name, quality first; a layer without
    rows is left out."""
    return tuple(
        (name, tuple(r for r in rows if r.layer == name))
        for name in (say(layer) for layer in LAYER_NAMES.values())
        if any(r.layer == name for r in rows)
    )


def _importance(rows: list[DimensionRow], say: Say) -> ImportanceChart | None:
    """Importance against performance, numbered as the table; None where no dimension may
    show its quadrant."""
    if not any(r.quadrant and r.standard is not None for r in rows):
        return None
    return importance_chart(
        [
            (
                str(r.number),
                float(r.score.value),
                float(r.score.value) - float(r.standard),
                float(r.importance),
                r.fix_reason is not None,
            )
            for r in rows
            if r.score.value is not None and r.importance is not None and r.standard is not None
        ],
        words=(say(N_("performance")), say(N_("fix first"))),
    )


def _dimension_rows(brief: ScorecardBrief) -> list[DimensionRow]:
    """The subject's dimensions in Sand Cone order, each with its peers, its change and
    whether it is under its floor."""
    info = brief.results.dimension_info
    changes = brief.changes
    spreads = brief.peers.spreads
    ordered = sorted(
        brief.cells,
        key=lambda r: (LAYERS.index(info[r.dimension].layer), info[r.dimension].position),
    )
    rows = []
    for position, row in enumerate(ordered, start=1):
        spread = spreads.get(row.dimension)
        quartiles = spread.quartiles if spread else None
        change = changes.get(row.dimension)
        rows.append(
            DimensionRow(
                number=position,
                name=brief.dimension_name(row.dimension),
                layer=brief.say(LAYER_NAMES[info[row.dimension].layer]),
                score=Figure(row.mean, row.low, row.high),
                bar=score_bar(row.mean, row.low, row.high, quartiles, width=100),
                peers=quartiles,
                peers_median=spread.median if spread else None,
                change=round(change[0]) if change else None,
                change_significant=bool(change and change[1]),
                top_box=row.top_box,
                under_floor=row.mean is not None
                and row.shrunk is not None
                and float(row.shrunk) < float(info[row.dimension].floor),
                quadrant=row.quadrant,
                importance=row.importance,
                standard=row.standard,
                fix_reason=_fix_reason(brief, row),
            )
        )
    return rows


def _percentile_withheld(
    brief: ScorecardBrief, index: ShownIndex, tier: StoredTier | None
) -> str | None:
    """Why a shown index gets no rank among its peers: it is provisional. One or two raters
    make an index too uncertain to rank: "percentile 100 of 32" from a single rater would
    read as a verdict the evidence does not carry. The tier's own rule decides (fewer raters
    than Strategic asks); a partner without a tier is held to the same number."""
    if not index.shown or index.reliability_index is None:
        return None
    needed = brief.results.config.tiers.strategic_raters
    provisional = tier.provisional if tier else (index.n_raters or 0) < needed
    if not provisional:
        return None
    return brief.say(
        N_("not given while the index is provisional: %(n)s raters, fewer than %(k)s"),
        n=index.n_raters,
        k=needed,
    )


def _percentile(brief: ScorecardBrief, value: float | None) -> int | None:
    """Share of the other partners in its group with a lower index, in percent."""
    group = brief.peers
    return peer_percentile(group.indices, value, group.needed)


def _gaps(brief: ScorecardBrief) -> tuple[PerceptionGapLine, ...]:
    """The relationship's perception gaps: for a site seen by a sponsor, that pair only.

    Each gap is named as the subject's own instrument names the dimension both sides rate.
    """
    view_id, subject = brief.view_id, brief.subject
    if view_id is None:
        return ()
    site, partner = (subject.id, view_id) if subject.kind == "site" else (view_id, subject.id)
    direction = Direction.rating(subject.kind)
    names = {  # the newest instrument version's name wins
        info.mirror_key: brief.dimension_name(dimension)
        for dimension, info in sorted(brief.results.dimension_info.items())
        if info.mirror_key and info.direction == direction
    }
    return tuple(
        PerceptionGapLine(
            mirror=names.get(g.mirror, str(g.mirror).replace("_", " ")),
            site_view=g.site_view,
            partner_view=g.partner_view,
            gap=g.gap,
        )
        for g in brief.results.gaps
        if g.site == site and g.partner == partner
    )


def _cro_views(brief: ScorecardBrief) -> tuple[tuple[str, Figure], ...]:
    """For a sponsor: each CRO acting for it, as every site sees that CRO."""
    subject, results = brief.subject, brief.results
    if subject.kind != "sponsor":
        return ()
    found = []
    for org in results.orgs.values():
        if org.kind == "cro" and org.acts_for == subject.id:
            row = results.index(org.id, None)
            found.append((org.name, Figure(row.reliability_index, row.ri_low, row.ri_high)))
    return tuple(found)


def _action_follow_ups(brief: ScorecardBrief) -> tuple[ActionFollowUp, ...]:
    """Last cycle's action items of this relationship, and whether their dimension moved."""
    view_id, subject, results, say = brief.view_id, brief.subject, brief.results, brief.say
    if view_id is None:
        return ()
    site, sponsor = (subject.id, view_id) if subject.kind == "site" else (view_id, subject.id)
    tie = results.relationships.get((sponsor, site))
    if tie is None or results.previous_cycle is None:
        return ()
    rows = []
    changes = brief.changes
    for item in results.actions.get(tie, []):
        if item.opened_in != results.previous_cycle:
            continue
        dimension = item.dimension
        known = dimension is not None and dimension in results.dimension_info
        name = brief.dimension_name(dimension) if dimension is not None and known else None
        if name is None:
            went = say(N_("no dimension named"))
        elif dimension not in changes:
            went = say(N_("unknown: too few responses in one of the two cycles"))
        else:
            went = moved(brief, *changes[dimension])
        rows.append(
            ActionFollowUp(
                title=item.title,
                owner=item.owner,
                side=say(SIDE_NAMES.get(str(item.side), str(item.side))),
                status=say(STATUS_NAMES.get(str(item.status), str(item.status))),
                dimension=name,
                moved=went,
            )
        )
    return tuple(rows)


def _next_meeting(brief: ScorecardBrief, rows: list[DimensionRow]) -> tuple[str, ...]:
    """Points for the next review meeting: flags, fix first, widest gaps, slipping dimensions."""
    say, language = brief.say, brief.language
    points = [
        say(N_("Escalation: %(flag)s"), flag=flag_text(brief, f))
        for f in brief.results.flags.get(brief.view, [])
    ]
    points += [
        say(
            N_("Fix first: %(dimension)s matters most to raters and %(reason)s."),
            dimension=r.name,
            reason=r.fix_reason,
        )
        for r in rows
        if r.fix_reason
    ]
    gaps = sorted(_gaps(brief), key=lambda g: -abs(g.gap))[:GAPS_ON_AGENDA]
    points += [
        say(
            N_(
                "Perception gap on %(dimension)s: the site gives %(site)s, the sponsor %(partner)s."
            ),
            dimension=g.mirror,
            site=number(g.site_view, language),
            partner=number(g.partner_view, language),
        )
        for g in gaps
        if abs(g.gap) >= WIDE_GAP
    ]
    points += [
        say(
            N_("%(dimension)s fell by %(n)s since the last cycle."),
            dimension=r.name,
            n=number(abs(r.change or 0), language),
        )
        for r in rows
        if r.change is not None and r.change_significant and r.change < 0
    ]
    return tuple(points)
