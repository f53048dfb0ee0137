"""The stored results a scorecard reads, one frozen dataclass per kind of row.

`_results` reads them once per cycle; every figure the run hid is None here already, so
nothing that lays a scorecard out can print what it may not show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypedDict

from scoring.config import LAYERS
from surveys.results.tier_assignments import Tier

View = tuple[int, int | None]
"""(target, rater organisation): a partner's pooled score, or one organisation's view of it."""

Cell = tuple[int, int, int | None]
"""(run, target, rater organisation): one view of a partner in one run."""

INDEX_FIGURES = ("reliability_index", *LAYERS)
"""What a scorecard compares across partners: the index and each Sand Cone layer."""


@dataclass(frozen=True)
class Org:
    """An organisation as its scorecards name it."""

    id: int
    slug: str
    name: str
    """Breakable (`breakable`): a name may be one long word."""
    kind: str
    country: str | None
    network: int | None
    acts_for: int | None
    language: str
    """The language most of its people read: its scorecards are written in it."""


@dataclass(frozen=True)
class ShownIndex:
    """A partner's index in one view of one run (a TargetIndex row) as it may be shown: a
    figure the run hid is None."""

    reliability_index: float | None
    ri_low: float | None
    ri_high: float | None
    plain_score: float | None
    """The weighted mean of the layers without the Sand Cone cap."""
    quality: float | None
    dependability: float | None
    speed: float | None
    cost: float | None
    shrinkage: float | None
    """λ: how far the index leans on this partner's own answers."""
    trend_slope: float | None
    trend_p: float | None
    response_rate: float | None
    n_raters: int | None
    shown: bool
    comments_shown: bool

    def figure(self, name: str) -> float | None:
        """The index or one layer's score, by its column name (one of INDEX_FIGURES)."""
        if name not in INDEX_FIGURES:
            raise ValueError(f"{name!r} is not one of {', '.join(INDEX_FIGURES)}")
        value: float | None = getattr(self, name)
        return value

    @classmethod
    def of(cls, row: dict[str, Any]) -> ShownIndex:
        """The row as read, its hidden figures already blanked."""
        return cls(
            reliability_index=row["reliability_index"],
            ri_low=row["ri_low"],
            ri_high=row["ri_high"],
            plain_score=row["plain_score"],
            quality=row["quality"],
            dependability=row["dependability"],
            speed=row["speed"],
            cost=row["cost"],
            shrinkage=row["shrinkage"],
            trend_slope=row["trend_slope"],
            trend_p=row["trend_p"],
            response_rate=row["response_rate"],
            n_raters=row["n_raters"],
            shown=bool(row["shown"]),
            comments_shown=bool(row["comments_shown"]),
        )


NO_INDEX = ShownIndex(
    reliability_index=None,
    ri_low=None,
    ri_high=None,
    plain_score=None,
    quality=None,
    dependability=None,
    speed=None,
    cost=None,
    shrinkage=None,
    trend_slope=None,
    trend_p=None,
    response_rate=None,
    n_raters=None,
    shown=False,
    comments_shown=False,
)
"""The index of a view no one rated in a run: every figure None, nothing shown."""


@dataclass(frozen=True)
class ShownDimensionScore:
    """A partner's score on one dimension in one view (a DimensionScore row) as it may be
    shown: a figure the run hid is None."""

    dimension: int
    n_raters: int | None
    mean: float | None
    low: float | None
    high: float | None
    shrunk: float | None
    """The mean shrunk towards the average partner: what the dimension's floor is held against."""
    top_box: float | None
    rwg: float | None
    """Agreement among the raters (1 full, 0 no more than chance)."""
    importance: float | None
    quadrant: str | None
    standard: float | None
    """What "fix first" held the mean against (`scoring.gaps.fix_standards`)."""
    standard_kind: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> ShownDimensionScore:
        """The row as read, its hidden figures already blanked."""
        return cls(
            dimension=row["dimension"],
            n_raters=row["n_raters"],
            mean=row["mean"],
            low=row["low"],
            high=row["high"],
            shrunk=row["shrunk"],
            top_box=row["top_box"],
            rwg=row["rwg"],
            importance=row["importance"],
            quadrant=row["quadrant"],
            standard=row["standard"],
            standard_kind=row["standard_kind"],
        )


@dataclass(frozen=True)
class DimensionDefinition:
    """A dimension as its instrument version defines it."""

    id: int
    key: str
    name: dict[str, str] | str
    """Per language, as the instrument writes it."""
    layer: str
    position: int
    mirror_key: str | None
    """The key both directions' instruments share, for perception gaps."""
    floor: float
    direction: str
    """Its instrument's direction: whom the dimension rates."""

    def name_in(self, language: str) -> str:
        """Its name in `language`, as the instrument writes it (English otherwise)."""
        if not isinstance(self.name, dict):
            return str(self.name)
        return str(self.name.get(language) or self.name.get("en") or next(iter(self.name.values())))


@dataclass(frozen=True)
class StoredAlpha:
    """Cronbach's alpha of one dimension in the run, over every rater."""

    alpha: float | None
    low_alpha: bool
    """Under the floor: the dimension's questions may not measure one thing."""


@dataclass(frozen=True)
class StoredFlag:
    """An escalation flag the run may show (an EscalationFlag row)."""

    target: int
    rater_organisation: int | None
    kind: str
    dimension: int | None
    detail: str
    """The engine's own sentence, in English."""


@dataclass(frozen=True)
class StoredGap:
    """One relationship's perception gap on one mirror dimension (a PerceptionGap row)."""

    site: int
    partner: int
    mirror: str
    site_view: float
    partner_view: float
    gap: float


@dataclass(frozen=True)
class StoredTier:
    """The tier a sponsor gives a site this cycle (a TierAssignment row), as a scorecard
    prints it."""

    tier: Tier | None
    """In force: a reviewer's override where there is one, else the computed tier."""
    provisional: bool
    override_reason: str | None
    """Why a reviewer set the tier; None when no one did."""
    rule_trace: str
    """The tier engine's reasons, in English (`_trace` writes them in the reader's language)."""


@dataclass(frozen=True)
class StoredAction:
    """A relationship's action item (an ActionItem row)."""

    title: str
    owner: str
    side: str
    status: str
    dimension: int | None
    opened_in: str
    """The key of the cycle whose review meeting opened it."""


class StoredReply(TypedDict):
    """The partner's written reply to one scorecard. A mapping, as the scorecard's callers
    read it (`card.reply["text"]`); the template reads the same keys."""

    key: str
    text: str
    """Breakable (`breakable`): a reply may be one long word."""
    written_at: dt.datetime
    by: str | None
    """Who wrote it, if they are still known."""
