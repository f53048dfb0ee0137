"""The partner scorecard: one partner, one cycle, as one organisation (or all) rated it.

A site's scorecard is its sponsor's view of it (that sponsor's raters, its CRO's included)
and carries the tier that sponsor gives; a sponsor's or CRO's scorecard is every site
rater's view of it. Its audience is the partner itself or the organisation that rated it;
the figures are the same for both, written in the audience's language.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.anonymity import PEERS_NEEDED
from scoring.config import LAYERS
from scoring.reliability import ALPHA_FLOOR
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
from surveys.results.score_runs import TrendArrow, trend_of
from surveys.results.tier_assignments import Tier, tier_in_force
from surveys.scorecards._results import PUBLISHED, CycleResults, Org, reply_for, today
from surveys.scorecards._trace import trace_in
from surveys.scorecards._words import (
    KIND_NAMES,
    LAYER_NAMES,
    SIDE_NAMES,
    STATUS_NAMES,
    Say,
    say_in,
    tier_change,
    tier_name,
)


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
    """Peers' lower quartile, median and upper quartile (None with fewer than 3 peers)."""
    change: int | None
    """Whole points since the last cycle (None if either cycle is hidden or missing)."""
    change_significant: bool
    top_box: float | None
    """Share of answers at the top of the scale, 0–1."""
    under_floor: bool
    quadrant: str | None
    importance: float | None
    """What the quadrant ranks on (None when it may not be shown)."""


@dataclass(frozen=True)
class GapRow:
    mirror: str
    site_view: float
    partner_view: float
    gap: float


@dataclass(frozen=True)
class ActionRow:
    """Last cycle's action item and whether the dimension it aimed at moved."""

    title: str
    owner: str
    side: str
    status: str
    dimension: str | None
    moved: str
    """What happened to its dimension, in words."""


@dataclass(frozen=True)
class Footnote:
    """A reliability note in plain words."""

    text: str


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
    """Share of peers (same kind, same view) with a lower index, in percent."""
    peers: int
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
    gaps: tuple[GapRow, ...]
    cro: tuple[tuple[str, Figure], ...]
    """For a sponsor: each CRO acting for it, as the same sites see that CRO."""
    footnotes: tuple[Footnote, ...]
    comments: tuple[str, ...] | None
    """None when too few raters answered for comments to be shown."""
    flags: tuple[str, ...]
    actions: tuple[ActionRow, ...]
    next_meeting: tuple[str, ...]
    reply: dict[str, Any] | None
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
    subject, audience = results.orgs[subject_id], results.orgs[audience_id]
    run, key = results.run, (subject_id, view_id)
    index = results.indices.get((run, subject_id, view_id), {})
    k = results.k(subject.kind)
    say = say_in(language)
    hidden = _hidden_text(k, bool(index), say)
    layers = [index.get(layer) for layer in LAYERS]
    effective: list[float | None] = list(layers)
    if all(v is not None for v in layers):
        effective = [
            float(v)
            for v in effective_layers(np.array(layers, dtype=float), results.config.sand_cone)
        ]
    rows = _dimension_rows(results, subject, view_id, language, say)
    tier = results.tiers.get((view_id, subject_id)) if view_id is not None else None
    tier_now = tier_in_force(tier)
    previous_tier = (
        results.previous_tiers.get((view_id, subject_id)) if view_id is not None else None
    )
    view_name = results.orgs[view_id].name if view_id is not None else None
    trend_values = [
        results.indices.get((results.runs[c], subject_id, view_id), {}).get("reliability_index")
        for c in results.cycles
    ]
    slope, p = index.get("trend_slope"), index.get("trend_p")
    cycle_name = results.cycle
    return PartnerScorecard(
        title=f"{subject.name}: scorecard {cycle_name}",
        language=language,
        paper=paper,
        made_on=today(),
        draft=results.status != PUBLISHED,
        subject=subject,
        kind_name=say(KIND_NAMES[subject.kind]),
        network=results.orgs[subject.network].name if subject.network else None,
        view=say(N_("as %(rater)s's raters see it"), rater=view_name)
        if view_name
        else say(N_("as every responding site's raters see it")),
        audience=audience,
        cycle=cycle_name,
        previous_cycle=results.cycles[-2] if len(results.cycles) > 1 else None,
        k=k,
        level=percent(results.level, language),
        rated=bool(index),
        comment_k=results.comment_k(subject.kind),
        tier=tier_now,
        tier_name=tier_name(tier_now, say),
        previous_tier_name=tier_name(previous_tier, say),
        previous_tier=previous_tier,
        tier_change=tier_change(tier_now, previous_tier, say),
        provisional=bool(tier and tier["provisional"]),
        override_reason=tier["override_reason"] if tier and tier["override_tier"] else None,
        rule_trace=trace_in(str(tier["rule_trace"]), say) if tier else None,
        index=Figure(index.get("reliability_index"), index.get("ri_low"), index.get("ri_high")),
        plain_score=index.get("plain_score"),
        raters=index.get("n_raters") if index.get("shown") else None,
        response_rate=index.get("response_rate"),
        percentile=_percentile(results, subject, view_id, index.get("reliability_index")),
        peers=max(len(_group(results, subject, view_id)["indices"]) - 1, 0),
        trend=sparkline(trend_values, cycles=results.cycles, width=200, height=40),
        trend_cycles=len(results.cycles),
        trend_words=_trend_words(trend_of(slope, p, results.config.trend.significance), slope, say),
        cone=sand_cone_chart(
            [(say(LAYER_NAMES[layer]), layers[i], effective[i]) for i, layer in enumerate(LAYERS)],
            hidden,
            say(N_("plain")),
        ),
        dimensions=tuple(rows),
        dimension_groups=tuple(
            (name, tuple(r for r in rows if r.layer == name))
            for name in (say(layer) for layer in LAYER_NAMES.values())
            if any(r.layer == name for r in rows)
        ),
        importance=importance_chart(
            [
                (
                    str(r.number),
                    float(r.score.value),
                    float(r.importance),
                    r.quadrant == "fix first",
                )
                for r in rows
                if r.score.value is not None and r.importance is not None
            ],
            words=(say(N_("performance")), say(N_("fix first"))),
        )
        if any(r.quadrant for r in rows)
        else None,
        fix_first=tuple(r.name for r in rows if r.quadrant == "fix first"),
        gaps=_gaps(results, subject_id, view_id, language),
        cro=_cro_views(results, subject),
        footnotes=_footnotes(results, subject, view_id, index, language, say),
        comments=tuple(results.comments.get(key, ())) if index.get("comments_shown") else None,
        flags=tuple(_flag_text(results, f, language, say) for f in results.flags.get(key, ())),
        actions=_actions(results, subject, view_id, language, say),
        next_meeting=_next_meeting(results, subject, view_id, rows, language, say),
        reply=reply_for(results, subject_id, view_id),
    )


def _hidden_text(k: int, rated: bool, say: Say) -> str:
    """What a cell without a number says: why it has none."""
    if not rated:
        return say(N_("not rated this cycle"))
    return say(N_("fewer than %(k)s responses"), k=k) if k > 1 else say(N_("no responses"))


def _flag_text(results: CycleResults, flag: dict[str, Any], language: str, say: Say) -> str:
    """An escalation flag in the reader's language, its figures taken from the results.

    The flag's stored detail is the scoring engine's English; the scorecard says the same
    from the figures it prints. A figure of a hidden cell is blank in the results, so the
    sentence then goes without it (a response-rate collapse on a hidden pooled index, for
    one); and a drop is quoted with figures only when they show it (the engine compared
    with its own re-estimate of the cycle before, which is not stored).
    """
    view = (flag["target"], flag["rater_organisation"])
    now = results.indices.get((results.run, *view), {})
    before_run = results.previous_run
    before = results.indices.get((before_run, *view), {}) if before_run else {}
    if flag["kind"] == "under_floor" and flag["dimension"] in results.dimension_info:
        name = _names(results, flag["dimension"], language)
        limit = float(results.dimension_info[flag["dimension"]]["floor"])
        floor = number(limit, language, 0 if limit.is_integer() else 1)
        cell = next(
            (
                r
                for r in results.dimensions.get((results.run, *view), [])
                if r["dimension"] == flag["dimension"]
            ),
            {},
        )
        estimate = cell.get("shrunk") if cell.get("shrunk") is not None else cell.get("mean")
        if estimate is None:
            return say(
                N_("%(dimension)s is under its floor of %(floor)s."), dimension=name, floor=floor
            )
        digits = 1 if round(float(estimate)) >= limit else 0  # never "50 against a floor of 50"
        value = number(float(estimate), language, digits)
        mean = number(float(cell["mean"]), language) if cell.get("mean") is not None else value
        if mean != number(float(estimate), language):  # held against the shrunk estimate
            return say(
                N_(
                    "%(dimension)s is under its floor: %(value)s after shrinkage (raters' "
                    "mean %(mean)s) against a floor of %(floor)s."
                ),
                dimension=name,
                value=value,
                mean=mean,
                floor=floor,
            )
        return say(
            N_("%(dimension)s is under its floor: %(value)s against a floor of %(floor)s."),
            dimension=name,
            value=value,
            floor=floor,
        )
    if flag["kind"] == "significant_drop":
        found = [
            now.get("reliability_index"),
            now.get("ri_low"),
            now.get("ri_high"),
            before.get("ri_low"),
        ]
        figures = [float(f) for f in found if f is not None]
        if len(figures) < len(found) or figures[2] >= figures[3]:
            return say(
                N_(
                    "A significant drop: this cycle's interval lies wholly below the "
                    "previous one's."
                )
            )
        value, low, high, was = (number(f, language) for f in figures)
        return say(
            N_(
                "A significant drop: index %(value)s [%(low)s–%(high)s], below "
                "%(cycle)s's lower bound of %(was)s."
            ),
            value=value,
            low=low,
            high=high,
            cycle=results.previous_cycle,
            was=was,
        )
    if flag["kind"] == "response_collapse":
        now_rate, was_rate = now.get("response_rate"), before.get("response_rate")
        if now_rate is None or was_rate is None:
            return say(N_("The response rate collapsed since the last cycle."))
        rate, was = percent(float(now_rate), language), percent(float(was_rate), language)
        return say(
            N_("The response rate collapsed: %(rate)s, down from %(was)s."), rate=rate, was=was
        )
    return str(flag["detail"])


def _names(results: CycleResults, dimension_id: int, language: str = "en") -> str:
    """A dimension's name in `language`, as the instrument writes it (English otherwise)."""
    name = results.dimension_info[dimension_id]["name"]
    if not isinstance(name, dict):
        return str(name)
    return str(name.get(language) or name.get("en") or next(iter(name.values())))


def _dimension_rows(
    results: CycleResults, subject: Org, view_id: int | None, language: str, say: Say
) -> list[DimensionRow]:
    now = results.dimensions.get((results.run, subject.id, view_id), [])
    changes = _changes(results, subject, view_id)
    peers = _group(results, subject, view_id)["quartiles"]
    ordered = sorted(
        now,
        key=lambda r: (
            LAYERS.index(results.dimension_info[r["dimension"]]["layer"]),
            results.dimension_info[r["dimension"]]["position"],
        ),
    )
    rows = []
    for position, row in enumerate(ordered, start=1):
        info = results.dimension_info[row["dimension"]]
        quartiles = peers.get(row["dimension"])
        change = changes.get(row["dimension"])
        rows.append(
            DimensionRow(
                position,
                _names(results, row["dimension"], language),
                say(LAYER_NAMES[info["layer"]]),
                Figure(row["mean"], row["low"], row["high"]),
                score_bar(row["mean"], row["low"], row["high"], quartiles, width=100),
                quartiles,
                round(change[0]) if change else None,
                bool(change and change[1]),
                row["top_box"],
                row["mean"] is not None
                and row["shrunk"] is not None
                and float(row["shrunk"]) < float(info["floor"]),
                row["quadrant"],
                row["importance"],
            )
        )
    return rows


def _changes(
    results: CycleResults, subject: Org, view_id: int | None
) -> dict[int, tuple[float, bool]]:
    """Each dimension's change since the last cycle, and whether it is significant."""
    return results.changes.get((subject.id, view_id), {})


def _group(results: CycleResults, subject: Org, view_id: int | None) -> dict[str, Any]:
    """The partners this one is compared with: same kind, rated in the same view (a
    sponsor's sites; every sponsor and CRO for the pooled view), itself included."""
    kinds = frozenset({"sponsor", "cro"} if subject.kind in {"sponsor", "cro"} else {subject.kind})
    return results.group(kinds, view_id)


def _percentile(
    results: CycleResults, subject: Org, view_id: int | None, value: float | None
) -> int | None:
    """Share of the other partners in its group with a lower index, in percent."""
    indices = _group(results, subject, view_id)["indices"]
    if value is None or len(indices) - 1 < PEERS_NEEDED:  # itself and its peers
        return None
    below = bisect_left(indices, float(value))
    return round(100 * below / (len(indices) - 1))


def _gaps(
    results: CycleResults, subject_id: int, view_id: int | None, language: str
) -> tuple[GapRow, ...]:
    """The relationship's perception gaps: for a site seen by a sponsor, that pair only.

    Each gap is named as the subject's own instrument names the dimension both sides rate.
    """
    if view_id is None:
        return ()
    subject = results.orgs[subject_id]
    site, partner = (subject_id, view_id) if subject.kind == "site" else (view_id, subject_id)
    direction = Direction.rating(subject.kind)
    names = {  # the newest instrument version's name wins
        info["mirror_key"]: _names(results, dimension, language)
        for dimension, info in sorted(results.dimension_info.items())
        if info["mirror_key"] and info["direction"] == direction
    }
    return tuple(
        GapRow(
            names.get(g["mirror"], str(g["mirror"]).replace("_", " ")),
            g["site_view"],
            g["partner_view"],
            g["gap"],
        )
        for g in results.gaps
        if g["site"] == site and g["partner"] == partner
    )


def _cro_views(results: CycleResults, subject: Org) -> tuple[tuple[str, Figure], ...]:
    if subject.kind != "sponsor":
        return ()
    found = []
    for org in results.orgs.values():
        if org.kind == "cro" and org.acts_for == subject.id:
            row = results.indices.get((results.run, org.id, None), {})
            found.append(
                (
                    org.name,
                    Figure(row.get("reliability_index"), row.get("ri_low"), row.get("ri_high")),
                )
            )
    return tuple(found)


def _footnotes(
    results: CycleResults,
    subject: Org,
    view_id: int | None,
    index: dict[str, Any],
    language: str,
    say: Say,
) -> tuple[Footnote, ...]:
    """The reliability notes in plain words: alpha, shrinkage, agreement, intervals."""
    notes = []
    direction = Direction.rating(subject.kind)
    alphas = [
        (_names(results, d, language), a["alpha"], a["low_alpha"])
        for d, a in results.alphas.items()
        if results.dimension_info[d]["direction"] == direction and a["alpha"] is not None
    ]
    if alphas:
        low = number(min(a for _, a, _ in alphas), language, 2)
        high = number(max(a for _, a, _ in alphas), language, 2)
        weak = ", ".join(name for name, _, flagged in alphas if flagged)
        notes.append(
            Footnote(
                say(
                    N_(
                        "The questions of each dimension agree with one another (Cronbach's alpha "
                        "%(low)s to %(high)s this cycle, over every rater); under %(floor)s, so "
                        "read with care: %(weak)s."
                    ),
                    low=low,
                    high=high,
                    weak=weak,
                    floor=number(ALPHA_FLOOR, language, 2),
                )
                if weak
                else say(
                    N_(
                        "The questions of each dimension agree with one another (Cronbach's alpha "
                        "%(low)s to %(high)s this cycle, over every rater)."
                    ),
                    low=low,
                    high=high,
                )
            )
        )
    if index.get("shrinkage") is not None:
        weight, n = float(index["shrinkage"]), int(index.get("n_raters") or 0)
        values = {
            "n": n,
            "own": percent(weight, language),
            "rest": percent(1 - weight, language),
            "weight": number(weight, language, 2),
        }
        notes.append(
            Footnote(
                say(
                    N_(
                        "With 1 rater, the index leans %(own)s on this partner's own answers and "
                        "%(rest)s on the average partner (shrinkage, λ = %(weight)s), so a few "
                        "enthusiastic or harsh raters cannot top or sink it."
                    ),
                    **values,
                )
                if n == 1
                else say(
                    N_(
                        "With %(n)s raters, the index leans %(own)s on this partner's own answers "
                        "and %(rest)s on the average partner (shrinkage, λ = %(weight)s), so a few "
                        "enthusiastic or harsh raters cannot top or sink it."
                    ),
                    **values,
                )
            )
        )
    rwg = [
        r["rwg"]
        for r in results.dimensions.get((results.run, subject.id, view_id), [])
        if r.get("rwg") is not None
    ]
    if rwg:
        agreement = float(np.median(rwg))
        value = number(agreement, language, 2)
        notes.append(
            Footnote(
                say(
                    N_(
                        "Raters agree well with one another (median rwg %(rwg)s; 1 is full "
                        "agreement, 0 no more than chance)."
                    ),
                    rwg=value,
                )
                if agreement >= 0.7
                else say(
                    N_(
                        "Raters agree only partly with one another (median rwg %(rwg)s; 1 is full "
                        "agreement, 0 no more than chance)."
                    ),
                    rwg=value,
                )
            )
        )
    k = results.k(subject.kind)
    level = percent(results.level, language)
    notes.append(
        Footnote(
            say(
                N_(
                    "Intervals are %(level)s intervals: the true score lies inside in about "
                    "%(level)s of cases. A cell with fewer than %(k)s raters shows no number, so "
                    "no one's answers can be picked out."
                ),
                level=level,
                k=k,
            )
            if k > 1
            else say(
                N_(
                    "Intervals are %(level)s intervals: the true score lies inside in about "
                    "%(level)s of cases."
                ),
                level=level,
            )
        )
    )
    cells = results.dimensions.get((results.run, subject.id, view_id), [])
    if any(r["low"] is not None and r["high"] - r["low"] < 1e-9 for r in cells):
        agreed = N_(
            "An interval such as [75–75] means every rater gave that dimension the same "
            "answers; from a few raters it shows their agreement, not certainty."
        )
        notes.append(Footnote(say(agreed)))
    return tuple(notes)


def _actions(
    results: CycleResults, subject: Org, view_id: int | None, language: str, say: Say
) -> tuple[ActionRow, ...]:
    """Last cycle's action items of this relationship, and whether their dimension moved."""
    if view_id is None:
        return ()
    site, sponsor = (subject.id, view_id) if subject.kind == "site" else (view_id, subject.id)
    tie = results.relationships.get((sponsor, site))
    if tie is None or results.previous_cycle is None:
        return ()
    rows = []
    changes = _changes(results, subject, view_id)
    for item in results.actions.get(tie["id"], []):
        if item["opened_in"] != results.previous_cycle:
            continue
        dimension = item["dimension"]
        name = _names(results, dimension, language) if dimension in results.dimension_info else None
        if name is None:
            moved = say(N_("no dimension named"))
        elif dimension not in changes:
            moved = say(N_("unknown: too few responses in one of the two cycles"))
        else:
            moved = _moved(*changes[dimension], language, say)
        rows.append(
            ActionRow(
                item["title"],
                item["owner"],
                say(SIDE_NAMES.get(str(item["side"]), str(item["side"]))),
                say(STATUS_NAMES.get(str(item["status"]), str(item["status"]))),
                name,
                moved,
            )
        )
    return tuple(rows)


def _moved(change: float, significant: bool, language: str, say: Say) -> str:
    """How far a dimension moved since the last cycle, and whether that is more than noise."""
    n = number(abs(change), language)
    if round(change) == 0:
        return say(N_("no change"))
    if change > 0:
        return (
            say(N_("up by %(n)s, a real change"), n=n)
            if significant
            else say(N_("up by %(n)s, within the noise"), n=n)
        )
    return (
        say(N_("down by %(n)s, a real change"), n=n)
        if significant
        else say(N_("down by %(n)s, within the noise"), n=n)
    )


def _next_meeting(
    results: CycleResults,
    subject: Org,
    view_id: int | None,
    rows: list[DimensionRow],
    language: str,
    say: Say,
) -> tuple[str, ...]:
    """Points for the next review meeting: flags, fix first, widest gaps, slipping dimensions."""
    points = [
        say(N_("Escalation: %(flag)s"), flag=_flag_text(results, f, language, say))
        for f in results.flags.get((subject.id, view_id), [])
    ]
    points += [
        say(
            N_("Fix first: %(dimension)s matters most to raters and scores %(score)s."),
            dimension=r.name,
            score=number(float(r.score.value), language),
        )
        for r in rows
        if r.quadrant == "fix first" and r.score.value is not None
    ]
    gaps = sorted(_gaps(results, subject.id, view_id, language), key=lambda g: -abs(g.gap))[:3]
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
        if abs(g.gap) >= 10
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


def _trend_words(trend: TrendArrow, slope: float | None, say: Say) -> str | None:
    """The trend line's direction in words, with its slope."""
    if trend is TrendArrow.unknown or slope is None:
        return None
    words = {
        TrendArrow.flat: N_("steady (%(slope)s a cycle, not significant)"),
        TrendArrow.up: N_("improving (%(slope)s points a cycle)"),
        TrendArrow.down: N_("declining (%(slope)s points a cycle)"),
    }
    return say(words[trend], slope=f"{slope:+.1f}")
