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

- `_figures`: what a page shows, as frozen dataclasses, and the limits of its lists;
- `_read`: the scope a slug names (`scope_of`) and everything shown of it (`scope_trends`);
- `_computed`: the figures worked out from what was read (movers, roll-ups, choices).

May import: what `surveys.workspaces` may.
"""

from surveys.workspaces.institution_trends._figures import (
    CHOICES_LISTED,
    CYCLES_SHOWN,
    LAYERS,
    MOST_COMPARED,
    MOVERS_LISTED,
    SCOPES,
    Flags,
    HeatRow,
    IndexMover,
    Member,
    MemberChoices,
    Point,
    RollUp,
    Scope,
    Series,
    Trends,
)
from surveys.workspaces.institution_trends._read import scope_of, scope_trends

__all__ = [
    "CHOICES_LISTED",
    "CYCLES_SHOWN",
    "LAYERS",
    "MOST_COMPARED",
    "MOVERS_LISTED",
    "SCOPES",
    "Flags",
    "HeatRow",
    "IndexMover",
    "Member",
    "MemberChoices",
    "Point",
    "RollUp",
    "Scope",
    "Series",
    "Trends",
    "scope_of",
    "scope_trends",
]
