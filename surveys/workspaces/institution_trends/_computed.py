"""The figures a trends page computes from what was read: points by cycle, the movers, the
roll-ups (from shown indices only) and the members offered to tick. No database here."""

from __future__ import annotations

import pandas as pd

from scoring.indices import target_scores
from scoring.trends import index_changes
from surveys.directory.organisations import OrgKind
from surveys.results.score_runs import shown_number
from surveys.workspaces.institution_trends._figures import (
    CHOICES_LISTED,
    MOVERS_LISTED,
    IndexMover,
    Member,
    MemberChoices,
    Point,
    RollUp,
    Scope,
    Series,
    StoredIndex,
)


def member_choices(
    members: tuple[Member, ...], selected: tuple[Series, ...], chose: bool, search: str
) -> MemberChoices:
    """The members to tick: those compared (if the viewer chose them), then the matches."""
    chosen = tuple(s.member.slug for s in selected) if chose else ()
    needle = search.casefold()
    picked = [m for m in members if m.slug in chosen]
    matches = [m for m in members if m.slug not in chosen and needle in m.name.casefold()]
    room = max(CHOICES_LISTED - len(picked), 0)
    return MemberChoices(
        chosen=chosen,
        search=search,
        listed=tuple(picked + matches[:room]),
        matches=len(matches),
        more=max(len(matches) - room, 0),
    )


def points_by_target(
    rows: list[StoredIndex], cycle_of: dict[int, str]
) -> dict[int, dict[str, Point]]:
    """Per target, its points by cycle in the window's order (oldest first)."""
    order = {cycle: i for i, cycle in enumerate(cycle_of.values())}
    found: dict[int, dict[str, Point]] = {}
    for row in sorted(rows, key=lambda r: order[cycle_of[r.run]]):
        found.setdefault(row.target, {})[cycle_of[row.run]] = Point(
            cycle_of[row.run],
            shown_number(row.index, row.shown),
            shown_number(row.low, row.shown),
            shown_number(row.high, row.shown),
            {layer: shown_number(value, row.shown) for layer, value in row.layers.items()},
            row.raters,
            row.shown,
        )
    return found


def _frame(points: dict[int, dict[str, Point]], cycle: str) -> pd.DataFrame:
    """The shown indices of one cycle, as scoring.trends.index_changes takes them."""
    rows = [
        {"target": target, "reliability_index": p.index, "ri_low": p.low, "ri_high": p.high}
        for target, by_cycle in points.items()
        if (p := by_cycle.get(cycle)) is not None and p.index is not None
    ]
    columns = ["target", "reliability_index", "ri_low", "ri_high"]
    return pd.DataFrame(rows, columns=columns).astype(float).astype({"target": int})


def movers(
    points: dict[int, dict[str, Point]],
    by_id: dict[int, Member],
    cycles: list[str],
    level: float,
) -> tuple[tuple[IndexMover, ...], tuple[IndexMover, ...]]:
    """The biggest improvements and declines from the previous cycle to the chosen one."""
    if len(cycles) < 2:
        return (), ()
    changes = index_changes(_frame(points, cycles[-1]), _frame(points, cycles[-2]), level)
    movers = [
        IndexMover(
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


def rollups(
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
    """A figure pandas left as NaN (an interval of one site) as None, for the pages."""
    return None if pd.isna(value) else float(value)
