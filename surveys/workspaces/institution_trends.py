"""Trends across institutions: what a relationship manager compares over cycles.

A trends page is about one organisation the manager manages, its *scope*:

- a sponsor: its sites, as the sponsor's own raters (its CROs' included) see them, and
  the sponsor itself as its sites see it;
- a network: its sites, as every sponsor's raters see them, pooled;
- a site: that site, as every sponsor's raters see it, pooled.

Only cells the score run marked as shown are read, and every query is scoped by the
lens (whose view, of which organisations): nothing out of scope is fetched. Network
roll-ups are computed from shown site indices only, so a roll-up beside its sites
cannot reveal a hidden site by difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from scoring.indices import target_scores
from scoring.trends import index_changes
from surveys.cycles.cycle import CycleStatus
from surveys.directory.organisations import Organisation, OrgKind, Relationship
from surveys.instruments import Dimension, Layer
from surveys.instruments.questionnaires import localised
from surveys.results.score_runs import (
    SCORED,
    DimensionScore,
    EscalationFlag,
    TargetIndex,
    interval_level,
    scored_cycles,
    shown_number,
)

CYCLES_SHOWN = 8
"""Cycles a trends page goes back over, the chosen one included."""
MOST_COMPARED = 50
"""Organisations a page compares side by side at most."""
MOVERS_LISTED = 10
"""Improvements and declines listed each."""
LAYERS = tuple(layer.value for layer in Layer)
SCOPES = (OrgKind.sponsor.value, OrgKind.network.value, OrgKind.site.value)
"""Kinds of organisation a trends page can be about."""


@dataclass(frozen=True)
class Scope:
    """The organisations a trends page compares, and whose view of them it shows."""

    organisation_id: int
    slug: str
    name: str
    kind: OrgKind

    @property
    def rater(self) -> int | None:
        """The rater organisation whose view is shown; None for every rater pooled."""
        return self.organisation_id if self.kind == OrgKind.sponsor else None

    @property
    def lens(self) -> str:
        """Whose view of whom, in words."""
        if self.kind == OrgKind.sponsor:
            return f"{self.name}'s view of its sites (its CROs' raters included)"
        if self.kind == OrgKind.network:
            return f"How sponsors and CROs rate the sites of {self.name}, all raters pooled"
        return f"How sponsors and CROs rate {self.name}, all raters pooled"


@dataclass(frozen=True)
class Member:
    """An organisation in the scope."""

    id: int
    slug: str
    name: str
    network: str | None


@dataclass(frozen=True)
class Point:
    """One organisation's index, interval and layers in one cycle; numbers only if shown."""

    cycle: str
    index: float | None
    low: float | None
    high: float | None
    layers: dict[str, float | None]
    raters: int
    shown: bool


@dataclass(frozen=True)
class Series:
    """One organisation over the cycles, oldest first (a cycle it was not scored in is absent)."""

    member: Member
    points: tuple[Point, ...]


@dataclass(frozen=True)
class RollUp:
    """A group of sites as a whole over the cycles: the mean of their shown indices."""

    name: str
    points: tuple[Point, ...]
    """index: mean over sites; low–high its 90% interval across sites; raters: sites."""


@dataclass(frozen=True)
class Mover:
    """An organisation whose index changed between the previous scored cycle and this one."""

    member: Member
    before: float
    now: float
    change: float
    low: float
    high: float
    """The change's 90% interval."""
    significant: bool


@dataclass(frozen=True)
class Flags:
    """One organisation's escalation flags in a cycle."""

    member: Member
    drops: tuple[str, ...]
    """What each significant drop quotes (the index and the interval it fell below)."""
    collapses: tuple[str, ...]
    """What each response-rate collapse quotes."""
    under_floor: tuple[str, ...]
    """Names of the dimensions under their floor."""

    @property
    def count(self) -> int:
        return len(self.drops) + len(self.collapses) + len(self.under_floor)


@dataclass(frozen=True)
class HeatRow:
    member: Member
    cells: tuple[float | None, ...]
    """Mean score per dimension (aligned with Trends.dimensions); None: not shown."""


@dataclass(frozen=True)
class Trends:
    scope: Scope
    cycles: tuple[str, ...]
    """The cycles shown, oldest first; the last is the chosen one."""
    choosable: tuple[str, ...]
    """Every scored cycle, newest first."""
    members: tuple[Member, ...]
    selected: tuple[Series, ...]
    partner_view: Series | None
    """For a sponsor: how its sites see it, all their raters pooled."""
    rollups: tuple[RollUp, ...]
    improved: tuple[Mover, ...]
    declined: tuple[Mover, ...]
    flags: tuple[Flags, ...]
    """Organisations with flags, most flags first."""
    dimensions: tuple[str, ...]
    heat: tuple[HeatRow, ...]

    @property
    def cycle(self) -> str | None:
        return self.cycles[-1] if self.cycles else None

    @property
    def previous(self) -> str | None:
        return self.cycles[-2] if len(self.cycles) > 1 else None


async def scope_of(slug: str) -> Scope | None:
    """The sponsor, network or site a trends page with this slug is about."""
    row = (
        await Organisation.select(
            Organisation.id, Organisation.slug, Organisation.name, Organisation.kind
        )
        .where((Organisation.slug == slug) & Organisation.kind.is_in(list(SCOPES)))
        .first()
    )
    if row is None:
        return None
    return Scope(int(row["id"]), str(row["slug"]), str(row["name"]), OrgKind(row["kind"]))


async def scope_trends(
    scope: Scope, cycle_key: str | None = None, chosen: tuple[str, ...] = ()
) -> Trends:
    """Everything a trends page shows for a scope, up to a cycle (the latest by default).

    `chosen` are slugs of members to compare side by side; by default the biggest movers.
    """
    # a site's people see a cycle once it is published (surveys.workspaces.site_view); a sponsor's
    # reviewers see it once scored, as they review its tiers
    statuses = SCORED if scope.kind == OrgKind.sponsor else (CycleStatus.published.value,)
    runs = await scored_cycles(statuses)
    keys = [str(c["key"]) for c in runs]
    at = keys.index(cycle_key) if cycle_key in keys else 0
    window = list(reversed(runs[at : at + CYCLES_SHOWN]))
    members = await _members(scope)
    by_id = {m.id: m for m in members}
    if not window:
        return Trends(scope, (), (), members, (), None, (), (), (), (), (), ())
    cycle_of = {int(str(c["run"])): str(c["key"]) for c in window}
    rows = await TargetIndex.select(
        TargetIndex.target,
        TargetIndex.run,
        TargetIndex.reliability_index,
        TargetIndex.ri_low,
        TargetIndex.ri_high,
        TargetIndex.n_raters,
        TargetIndex.shown,
        *(getattr(TargetIndex, layer) for layer in LAYERS),
    ).where(TargetIndex.run.is_in(list(cycle_of)) & _index_lens(scope))
    points = _points(rows, cycle_of)
    level = await interval_level(int(str(window[-1]["run"])))
    movers = _movers(points, by_id, [str(c["key"]) for c in window], level)
    slugs = set(chosen)
    picked = [m for m in members if m.slug in slugs][:MOST_COMPARED]
    if not chosen:
        around = sorted([*movers[0][:3], *movers[1][:3]], key=lambda m: -abs(m.change))
        picked = [m.member for m in around] or list(members[:6])
    series = tuple(Series(m, tuple(points.get(m.id, {}).values())) for m in picked)
    partner_view = None
    if scope.kind == OrgKind.sponsor:
        own = await TargetIndex.select(
            TargetIndex.target,
            TargetIndex.run,
            TargetIndex.reliability_index,
            TargetIndex.ri_low,
            TargetIndex.ri_high,
            TargetIndex.n_raters,
            TargetIndex.shown,
            *(getattr(TargetIndex, layer) for layer in LAYERS),
        ).where(
            TargetIndex.run.is_in(list(cycle_of))
            & TargetIndex.rater_organisation.is_null()
            & (TargetIndex.target == scope.organisation_id)
        )
        itself = Member(scope.organisation_id, scope.slug, scope.name, None)
        partner_view = Series(itself, tuple(_points(own, cycle_of).get(itself.id, {}).values()))
    current_run = int(str(window[-1]["run"]))
    dimensions, heat = await _heat(scope, current_run, picked)
    return Trends(
        scope,
        tuple(cycle_of.values()),
        tuple(keys),
        members,
        series,
        partner_view,
        _rollups(scope, points, by_id, list(cycle_of.values())),
        movers[0],
        movers[1],
        await _flags(scope, current_run, by_id),
        dimensions,
        heat,
    )


async def _members(scope: Scope) -> tuple[Member, ...]:
    if scope.kind == OrgKind.sponsor:
        rows = (
            await Relationship.select(
                Relationship.site.id.as_alias("id"),
                Relationship.site.slug.as_alias("slug"),
                Relationship.site.name.as_alias("name"),
                Relationship.site.network.name.as_alias("network"),
            )
            .where((Relationship.sponsor == scope.organisation_id) & Relationship.active.eq(True))
            .order_by(Relationship.site.name)
        )
    else:
        where = (
            (Organisation.network == scope.organisation_id)
            if scope.kind == OrgKind.network
            else (Organisation.id == scope.organisation_id)
        )
        rows = (
            await Organisation.select(
                Organisation.id,
                Organisation.slug,
                Organisation.name,
                Organisation.network.name.as_alias("network"),
            )
            .where(where & (Organisation.kind == OrgKind.site.value))
            .order_by(Organisation.name)
        )
    return tuple(Member(int(r["id"]), r["slug"], r["name"], r["network"]) for r in rows)


def _index_lens(scope: Scope) -> Any:
    """The rows of TargetIndex and its siblings that hold this scope's view of its sites."""
    return _lens(scope, TargetIndex)


def _lens(scope: Scope, table: Any) -> Any:
    if scope.kind == OrgKind.sponsor:
        return (table.rater_organisation == scope.organisation_id) & (
            table.target.kind == OrgKind.site.value
        )
    pooled = table.rater_organisation.is_null()
    if scope.kind == OrgKind.network:
        return (
            pooled
            & (table.target.network == scope.organisation_id)
            & (table.target.kind == OrgKind.site.value)
        )
    return pooled & (table.target == scope.organisation_id)


def _points(rows: list[dict[str, Any]], cycle_of: dict[int, str]) -> dict[int, dict[str, Point]]:
    """Per target, its points by cycle in the window's order (oldest first)."""
    order = {cycle: i for i, cycle in enumerate(cycle_of.values())}
    found: dict[int, dict[str, Point]] = {}
    for row in sorted(rows, key=lambda r: order[cycle_of[r["run"]]]):
        shown = bool(row["shown"])
        found.setdefault(row["target"], {})[cycle_of[row["run"]]] = Point(
            cycle_of[row["run"]],
            shown_number(row["reliability_index"], shown),
            shown_number(row["ri_low"], shown),
            shown_number(row["ri_high"], shown),
            {layer: shown_number(row[layer], shown) for layer in LAYERS},
            int(row["n_raters"] or 0),
            shown,
        )
    return found


def _frame(points: dict[int, dict[str, Point]], cycle: str) -> pd.DataFrame:
    rows = [
        {"target": target, "reliability_index": p.index, "ri_low": p.low, "ri_high": p.high}
        for target, by_cycle in points.items()
        if (p := by_cycle.get(cycle)) is not None and p.index is not None
    ]
    columns = ["target", "reliability_index", "ri_low", "ri_high"]
    return pd.DataFrame(rows, columns=columns).astype(float).astype({"target": int})


def _movers(
    points: dict[int, dict[str, Point]],
    by_id: dict[int, Member],
    cycles: list[str],
    level: float,
) -> tuple[tuple[Mover, ...], tuple[Mover, ...]]:
    """The biggest improvements and declines from the previous cycle to the chosen one."""
    if len(cycles) < 2:
        return (), ()
    changes = index_changes(_frame(points, cycles[-1]), _frame(points, cycles[-2]), level)
    movers = [
        Mover(
            by_id[int(r.target)],
            float(r.before),
            float(r.now),
            float(r.change),
            float(r.change_low),
            float(r.change_high),
            bool(r.significant),
        )
        for r in changes.itertuples()
        if int(r.target) in by_id
    ]
    improved = sorted((m for m in movers if m.change > 0), key=lambda m: -m.change)
    declined = sorted((m for m in movers if m.change < 0), key=lambda m: m.change)
    return tuple(improved[:MOVERS_LISTED]), tuple(declined[:MOVERS_LISTED])


def _rollups(
    scope: Scope, points: dict[int, dict[str, Point]], by_id: dict[int, Member], cycles: list[str]
) -> tuple[RollUp, ...]:
    """Each network's sites as a whole per cycle (one group for a network's own page)."""
    rows = [
        {
            "group": by_id[target].network if scope.kind == OrgKind.sponsor else scope.name,
            "cycle": p.cycle,
            "index": p.index,
        }
        for target, by_cycle in points.items()
        if target in by_id
        for p in by_cycle.values()
        if p.index is not None
    ]
    rows = [r for r in rows if r["group"] is not None]
    if not rows:
        return ()
    table = target_scores(pd.DataFrame(rows), ["group", "cycle"], value="index")
    found = []
    for group, part in table.groupby("group", sort=True):
        by_cycle = {str(r.cycle): r for r in part.itertuples()}
        found.append(
            RollUp(
                str(group),
                tuple(
                    Point(
                        c,
                        float(r.mean),
                        _nan_none(r.low),
                        _nan_none(r.high),
                        {},
                        int(r.n_raters),
                        True,
                    )
                    for c in cycles
                    if (r := by_cycle.get(c)) is not None
                ),
            )
        )
    return tuple(found)


def _nan_none(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


async def _flags(scope: Scope, run: int, by_id: dict[int, Member]) -> tuple[Flags, ...]:
    """The chosen cycle's escalation flags in scope (and, for a sponsor, about itself)."""
    where = _lens(scope, EscalationFlag)
    if scope.kind == OrgKind.sponsor:
        where = where | (
            EscalationFlag.rater_organisation.is_null()
            & (EscalationFlag.target == scope.organisation_id)
        )
    rows = (
        await EscalationFlag.select(
            EscalationFlag.target,
            EscalationFlag.kind,
            EscalationFlag.detail,
            EscalationFlag.dimension.name.as_alias("dimension"),
            EscalationFlag.dimension.position.as_alias("position"),
        )
        .where((EscalationFlag.run == run) & EscalationFlag.shown.eq(True) & where)
        .output(load_json=True)
    )
    itself = Member(scope.organisation_id, scope.slug, scope.name, None)
    found: dict[int, dict[str, list[str]]] = {}
    for row in sorted(rows, key=lambda r: r["position"] or 0):
        if row["target"] not in by_id and row["target"] != scope.organisation_id:
            continue
        kinds = found.setdefault(
            row["target"], {"significant_drop": [], "response_collapse": [], "under_floor": []}
        )
        kinds[row["kind"]].append(
            localised(row["dimension"], "en", "") if row["kind"] == "under_floor" else row["detail"]
        )
    groups = [
        Flags(
            by_id.get(target, itself),
            tuple(k["significant_drop"]),
            tuple(k["response_collapse"]),
            tuple(k["under_floor"]),
        )
        for target, k in found.items()
    ]
    return tuple(sorted(groups, key=lambda g: (-len(g.drops), -g.count, g.member.name)))


async def _heat(
    scope: Scope, run: int, picked: list[Member]
) -> tuple[tuple[str, ...], tuple[HeatRow, ...]]:
    """Dimension × organisation: each compared organisation's mean per dimension."""
    if not picked:
        return (), ()
    rows = await DimensionScore.select(
        DimensionScore.target,
        DimensionScore.dimension,
        DimensionScore.mean,
        DimensionScore.shown,
    ).where(
        (DimensionScore.run == run)
        & _lens(scope, DimensionScore)
        & DimensionScore.target.is_in([m.id for m in picked])
    )
    ids = sorted({r["dimension"] for r in rows})
    dims = (
        await Dimension.select(Dimension.id, Dimension.name, Dimension.layer, Dimension.position)
        .where(Dimension.id.is_in(ids or [-1]))
        .output(load_json=True)
    )
    dims.sort(key=lambda d: (LAYERS.index(d["layer"]), d["position"]))
    column = {d["id"]: i for i, d in enumerate(dims)}
    cells: dict[int, list[float | None]] = {m.id: [None] * len(dims) for m in picked}
    for row in rows:
        if row["shown"] and row["mean"] is not None:
            cells[row["target"]][column[row["dimension"]]] = float(row["mean"])
    names = tuple(localised(d["name"], "en", "") for d in dims)
    return names, tuple(HeatRow(m, tuple(cells[m.id])) for m in picked)
