"""What a trends page shows: a scope, its members, their points over the cycles, movers,
roll-ups, flags and the heat map, as frozen dataclasses; and the limits of each list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scoring.trends import shown_change
from surveys.directory.organisations import OrgKind
from surveys.instruments import Layer
from surveys.results.score_runs import shown_number

CYCLES_SHOWN = 8
"""Cycles a trends page goes back over, the chosen one included."""
MOST_COMPARED = 50
"""Organisations a page compares side by side at most."""
MOVERS_LISTED = 10
"""Improvements and declines listed each."""
CHOICES_LISTED = 60
"""Organisations listed to tick at once; a search narrows the rest."""
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
class IndexMover:
    """An organisation whose index changed between the previous scored cycle and this one."""

    member: Member
    before: float
    now: float
    change: float
    low: float
    high: float
    """The change's 90% interval."""
    significant: bool

    @property
    def shown_change(self) -> int | None:
        """The change as printed (`scoring.trends.shown_change`)."""
        return shown_change(self.now, self.before)


@dataclass(frozen=True)
class Flags:
    """One organisation's escalation flags in a cycle."""

    member: Member
    drops: tuple[str, ...]
    """What each significant drop quotes as stored (the engine's English: the index and
    the interval it fell below), for the API and the CSV."""
    collapses: tuple[str, ...]
    """What each response-rate collapse quotes as stored (the engine's English)."""
    under_floor: tuple[str, ...]
    """Names of the dimensions under their floor (in the reader's language)."""
    drop_sentences: tuple[str, ...]
    """Each significant drop in the reader's language, said from the stored figures of the
    index now and in the cycle before (`surveys.results.flag_sentences`): what the page
    prints."""
    collapse_sentences: tuple[str, ...]
    """Each response-rate collapse in the reader's language, from the stored rates."""

    @property
    def count(self) -> int:
        """Flags in all, of every kind."""
        return len(self.drops) + len(self.collapses) + len(self.under_floor)


@dataclass(frozen=True)
class HeatRow:
    """One compared organisation's row of the heat map."""

    member: Member
    cells: tuple[float | None, ...]
    """Mean score per dimension (aligned with Trends.dimensions); None: not shown."""


@dataclass(frozen=True)
class MemberChoices:
    """The organisations a trends page offers to tick: those compared, then those found."""

    chosen: tuple[str, ...]
    """Slugs the viewer chose (empty: the page picked the biggest movers)."""
    search: str
    """What the viewer searched the members' names for ("" lists them all)."""
    listed: tuple[Member, ...]
    """The chosen first, then those matching the search: CHOICES_LISTED at most."""
    matches: int
    """Members matching the search, the chosen aside."""
    more: int
    """Matches left out of `listed`."""


@dataclass(frozen=True)
class Trends:
    """Everything a trends page and its API twin show of a scope, up to a cycle."""

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
    improved: tuple[IndexMover, ...]
    declined: tuple[IndexMover, ...]
    flags: tuple[Flags, ...]
    """Organisations with flags, most flags first."""
    dimensions: tuple[str, ...]
    """The heat map's columns, in the instruments' order."""
    heat: tuple[HeatRow, ...]
    choices: MemberChoices
    """The organisations to tick to compare, for the search asked."""

    @property
    def cycle(self) -> str | None:
        """The chosen cycle; None before any cycle is scored."""
        return self.cycles[-1] if self.cycles else None

    @property
    def previous(self) -> str | None:
        """The cycle before the chosen one, if one is shown."""
        return self.cycles[-2] if len(self.cycles) > 1 else None


@dataclass(frozen=True)
class StoredIndex:
    """One stored index of a target in a run: figures as stored, shown or not."""

    target: int
    run: int
    index: float | None
    low: float | None
    high: float | None
    layers: dict[str, float | None]
    raters: int
    shown: bool

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> StoredIndex:
        """The index in a row selected with its figures and LAYERS."""
        return cls(
            int(row["target"]),
            int(row["run"]),
            shown_number(row["reliability_index"]),
            shown_number(row["ri_low"]),
            shown_number(row["ri_high"]),
            {layer: shown_number(row[layer]) for layer in LAYERS},
            int(row["n_raters"] or 0),
            bool(row["shown"]),
        )
