"""The reads behind a trends page and its API twin: the scope a slug names, and
everything the page shows of it, each query scoped by the scope's lens."""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.custom_types import Combinable

from surveys.cycles.cycle import CycleStatus
from surveys.directory.organisations import Organisation, OrgKind, Relationship
from surveys.instruments import Dimension
from surveys.instruments.questionnaires import localised
from surveys.results.flag_sentences import flag_sentences
from surveys.results.score_runs import (
    SCORED,
    DimensionScore,
    EscalationFlag,
    TargetIndex,
    interval_level,
    shown_number,
)
from surveys.workspaces.institution_trends._computed import (
    member_choices,
    movers,
    points_by_target,
    rollups,
)
from surveys.workspaces.institution_trends._figures import (
    CYCLES_SHOWN,
    LAYERS,
    MOST_COMPARED,
    SCOPES,
    Flags,
    HeatRow,
    Member,
    Scope,
    Series,
    StoredIndex,
    Trends,
)
from surveys.workspaces.scored import cycle_runs


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
    scope: Scope,
    cycle_key: str | None = None,
    chosen: tuple[str, ...] = (),
    search: str = "",
    language: str = "en",
) -> Trends:
    """Everything a trends page shows for a scope, up to a cycle (the latest by default),
    dimensions named in `language`.

    `chosen` are slugs of members to compare side by side; by default the biggest movers.
    `search` narrows the members offered to tick by name.
    """
    runs = await cycle_runs(_statuses(scope))
    keys = [c.key for c in runs]
    at = keys.index(cycle_key) if cycle_key in keys else 0
    window = list(reversed(runs[at : at + CYCLES_SHOWN]))
    members = await _members(scope)
    by_id = {m.id: m for m in members}
    if not window:
        return Trends(
            scope=scope,
            cycles=(),
            choosable=(),
            members=members,
            selected=(),
            partner_view=None,
            rollups=(),
            improved=(),
            declined=(),
            flags=(),
            dimensions=(),
            heat=(),
            choices=member_choices(members, (), bool(chosen), search),
        )
    cycle_of = {c.run: c.key for c in window}
    points = points_by_target(await _indices(list(cycle_of), _index_lens(scope)), cycle_of)
    level = await interval_level(window[-1].run)
    improved, declined = movers(points, by_id, [c.key for c in window], level)
    slugs = set(chosen)
    picked = [m for m in members if m.slug in slugs][:MOST_COMPARED]
    if not chosen:
        around = sorted([*improved[:3], *declined[:3]], key=lambda m: -abs(m.change))
        picked = [m.member for m in around] or list(members[:6])
    series = tuple(Series(m, tuple(points.get(m.id, {}).values())) for m in picked)
    dimensions, heat = await _heat(scope, window[-1].run, picked, language)
    return Trends(
        scope=scope,
        cycles=tuple(cycle_of.values()),
        choosable=tuple(keys),
        members=members,
        selected=series,
        partner_view=await _partner_view(scope, cycle_of),
        rollups=rollups(scope, points, by_id, list(cycle_of.values())),
        improved=improved,
        declined=declined,
        flags=await _flags(scope, window[-1].run, by_id, language),
        dimensions=dimensions,
        heat=heat,
        choices=member_choices(members, series, bool(chosen), search),
    )


def _statuses(scope: Scope) -> tuple[str, ...]:
    """The cycles a scope's page reads: a sponsor's reviewers see a cycle once scored, as
    they review its tiers; a site's people once it is published (surveys.workspaces.site_view)."""
    return SCORED if scope.kind == OrgKind.sponsor else (CycleStatus.published.value,)


async def _partner_view(scope: Scope, cycle_of: dict[int, str]) -> Series | None:
    """For a sponsor: how its sites see it, all their raters pooled; None for other scopes."""
    if scope.kind != OrgKind.sponsor:
        return None
    own = await _indices(
        list(cycle_of),
        TargetIndex.rater_organisation.is_null() & (TargetIndex.target == scope.organisation_id),
    )
    itself = Member(scope.organisation_id, scope.slug, scope.name, None)
    return Series(itself, tuple(points_by_target(own, cycle_of).get(itself.id, {}).values()))


async def _indices(runs: list[int], where: Combinable) -> list[StoredIndex]:
    """The stored indices of these runs that `where` keeps."""
    rows = await TargetIndex.select(
        TargetIndex.target,
        TargetIndex.run,
        TargetIndex.reliability_index,
        TargetIndex.ri_low,
        TargetIndex.ri_high,
        TargetIndex.n_raters,
        TargetIndex.shown,
        *(getattr(TargetIndex, layer) for layer in LAYERS),
    ).where(TargetIndex.run.is_in(runs) & where)
    return [StoredIndex.of(r) for r in rows]


async def _members(scope: Scope) -> tuple[Member, ...]:
    """The sites a scope compares, by name: a sponsor's active ones, a network's, a site."""
    if scope.kind == OrgKind.sponsor:
        rows = (
            await Relationship.select(
                Relationship.site._.id.as_alias("id"),
                Relationship.site._.slug.as_alias("slug"),
                Relationship.site._.name.as_alias("name"),
                Relationship.site._.network._.name.as_alias("network"),
            )
            .where((Relationship.sponsor == scope.organisation_id) & Relationship.active.eq(True))
            .order_by(Relationship.site._.name)
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
                Organisation.network._.name.as_alias("network"),
            )
            .where(where & (Organisation.kind == OrgKind.site.value))
            .order_by(Organisation.name)
        )
    return tuple(Member(int(r["id"]), str(r["slug"]), str(r["name"]), r["network"]) for r in rows)


def _index_lens(scope: Scope) -> Combinable:
    """The rows of TargetIndex that hold this scope's view of its sites."""
    return _lens(scope, TargetIndex)


def _lens(
    scope: Scope, table: type[TargetIndex] | type[EscalationFlag] | type[DimensionScore]
) -> Combinable:
    """The rows of TargetIndex or a sibling table that hold this scope's view of its sites."""
    target, rater = table.target, table.rater_organisation
    if scope.kind == OrgKind.sponsor:
        return (rater == scope.organisation_id) & (target._.kind == OrgKind.site.value)
    pooled = rater.is_null()
    if scope.kind == OrgKind.network:
        return (
            pooled
            & (target._.network == scope.organisation_id)
            & (target._.kind == OrgKind.site.value)
        )
    return pooled & (target == scope.organisation_id)


@dataclass(frozen=True)
class _Flag:
    """One shown escalation flag, and what it quotes."""

    target: int
    kind: str
    """significant_drop, response_collapse or under_floor."""
    text: str
    """What the flag quotes as stored: the engine's English detail, or the name of the
    dimension under its floor."""
    said: str
    """The same in the reader's language: a drop or a collapse said from the stored
    figures (`surveys.results.flag_sentences`), or the dimension's name."""
    position: int
    """The dimension's place in its instrument (0 for a flag about no dimension)."""


async def _flags(
    scope: Scope, run: int, by_id: dict[int, Member], language: str = "en"
) -> tuple[Flags, ...]:
    """The chosen cycle's escalation flags in scope (and, for a sponsor, about itself)."""
    itself = Member(scope.organisation_id, scope.slug, scope.name, None)
    found: dict[int, dict[str, list[_Flag]]] = {}
    for flag in sorted(await _shown_flags(scope, run, language), key=lambda f: f.position):
        if flag.target not in by_id and flag.target != scope.organisation_id:
            continue
        kinds = found.setdefault(
            flag.target, {"significant_drop": [], "response_collapse": [], "under_floor": []}
        )
        kinds[flag.kind].append(flag)
    groups = [
        Flags(
            by_id.get(target, itself),
            tuple(f.text for f in k["significant_drop"]),
            tuple(f.text for f in k["response_collapse"]),
            tuple(f.text for f in k["under_floor"]),
            tuple(f.said for f in k["significant_drop"]),
            tuple(f.said for f in k["response_collapse"]),
        )
        for target, k in found.items()
    ]
    return tuple(sorted(groups, key=lambda g: (-len(g.drops), -g.count, g.member.name)))


async def _shown_flags(scope: Scope, run: int, language: str = "en") -> list[_Flag]:
    """The run's flags that may be shown, in the scope's lens (and a sponsor's about itself)."""
    where = _lens(scope, EscalationFlag)
    if scope.kind == OrgKind.sponsor:
        where = where | (
            EscalationFlag.rater_organisation.is_null()
            & (EscalationFlag.target == scope.organisation_id)
        )
    rows = (
        await EscalationFlag.select(
            EscalationFlag.target,
            EscalationFlag.rater_organisation,
            EscalationFlag.kind,
            EscalationFlag.detail,
            EscalationFlag.dimension._.name.as_alias("dimension"),
            EscalationFlag.dimension._.position.as_alias("position"),
        )
        .where((EscalationFlag.run == run) & EscalationFlag.shown.eq(True) & where)
        .output(load_json=True)
    )
    views = [(str(r["kind"]), int(r["target"]), r["rater_organisation"]) for r in rows]
    said = await flag_sentences(run, views, language, _statuses(scope))
    found: list[_Flag] = []
    for row, view in zip(rows, views, strict=True):
        stored = (
            localised(row["dimension"], language, "")
            if row["kind"] == "under_floor"
            else str(row["detail"])
        )
        found.append(
            _Flag(view[1], view[0], stored, said.get(view, stored), int(row["position"] or 0))
        )
    return found


@dataclass(frozen=True)
class _Cell:
    """One organisation's mean on one dimension; None where the run hid it."""

    target: int
    dimension: int
    mean: float | None


@dataclass(frozen=True)
class _Column:
    """A dimension as a column of the heat map."""

    id: int
    name: str
    """In the reader's language (English for the API)."""
    layer: str
    position: int


async def _heat(
    scope: Scope, run: int, picked: list[Member], language: str = "en"
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
    scores = [
        _Cell(int(r["target"]), int(r["dimension"]), shown_number(r["mean"], bool(r["shown"])))
        for r in rows
    ]
    dims = await _columns(sorted({c.dimension for c in scores}), language)
    column = {d.id: i for i, d in enumerate(dims)}
    cells: dict[int, list[float | None]] = {m.id: [None] * len(dims) for m in picked}
    for score in scores:
        if score.mean is not None:
            cells[score.target][column[score.dimension]] = score.mean
    names = tuple(d.name for d in dims)
    return names, tuple(HeatRow(m, tuple(cells[m.id])) for m in picked)


async def _columns(ids: list[int], language: str = "en") -> list[_Column]:
    """These dimensions in the instruments' order: by layer, then by place."""
    rows = (
        await Dimension.select(Dimension.id, Dimension.name, Dimension.layer, Dimension.position)
        .where(Dimension.id.is_in(ids or [-1]))
        .output(load_json=True)
    )
    dims = [
        _Column(
            int(d["id"]), localised(d["name"], language, ""), str(d["layer"]), int(d["position"])
        )
        for d in rows
    ]
    return sorted(dims, key=lambda d: (LAYERS.index(d.layer), d.position))
