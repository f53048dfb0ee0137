"""What a site sees of a published cycle: how each sponsor rates it, how it rates its sponsors,
and where the two views differ; and a network's sites side by side.

Only published cycles are read: until publication the tiers are under review and the
scorecards are not out. Only cells the score run marked as shown are given numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scoring.anonymity import minimum_raters
from surveys.cycles.cycle import CycleStatus
from surveys.directory.organisations import Organisation, OrgKind
from surveys.instruments import Direction
from surveys.instruments.catalogue import mirror_names
from surveys.results.score_runs import PerceptionGap, TargetIndex, run_config, shown_number
from surveys.results.tier_assignments import Tier, TierAssignment, stored_tier
from surveys.workspaces.scored import cycle_runs


@dataclass(frozen=True)
class Rating:
    """One organisation's view of another: index and interval, or hidden."""

    partner: str
    index: float | None
    low: float | None
    high: float | None
    raters: int
    shown: bool
    tier: Tier | None = None
    link: str | None = None
    """Where the partner's name leads: the relationship's review meeting, for a sponsor's
    view of the site; the site's own page, for a network's site."""


@dataclass(frozen=True)
class Gap:
    """Where a site and a partner see their relationship differently, on one mirror
    dimension (both instruments ask it, each about the other)."""

    partner: str
    mirror: str
    """The mirror dimension's key (stable: CSV and API)."""
    name: str
    """What the sites' questionnaire calls the dimension (surveys.instruments.mirror_names)."""
    site_view: float
    partner_view: float
    gap: float


@dataclass(frozen=True)
class SitePage:
    """A site's results in the latest published cycle."""

    site: str
    """The site's name."""
    cycle: str | None
    """The published cycle shown; None before any is published."""
    rated_by: tuple[Rating, ...]
    """Each sponsor's view of this site, with the tier it gives."""
    rates: tuple[Rating, ...]
    """This site's raters' view of each sponsor."""
    gaps: tuple[Gap, ...]
    raters_needed: int = 0
    """Raters a site's view of a partner needs before it shows a number, in the run shown
    (from the run's own configuration; 0 before any cycle is published)."""


async def site_page(site_id: int, language: str = "en") -> SitePage:
    """The site's results in the latest published cycle (dimensions named in `language`)."""
    name, slug = await _name_and_slug(site_id)
    runs = await cycle_runs((CycleStatus.published.value,))
    if not runs:
        return SitePage(name, None, (), (), ())
    latest = runs[0]
    tiers = {
        r["assessor"]: stored_tier(r)
        for r in await TierAssignment.select(
            TierAssignment.assessor, TierAssignment.computed_tier, TierAssignment.override_tier
        ).where((TierAssignment.cycle == latest.id) & (TierAssignment.target == site_id))
    }
    rated_by = (
        await TargetIndex.select(
            *_INDEX,
            TargetIndex.rater_organisation,
            TargetIndex.rater_organisation._.slug.as_alias("rater_slug"),
        )
        .where(
            (TargetIndex.run == latest.run)
            & (TargetIndex.target == site_id)
            & TargetIndex.rater_organisation.is_not_null()
        )
        .order_by(TargetIndex.rater_organisation._.name)
    )
    rates = (
        await TargetIndex.select(*_INDEX)
        .where((TargetIndex.run == latest.run) & (TargetIndex.rater_organisation == site_id))
        .order_by(TargetIndex.target._.name)
    )
    needed = minimum_raters(Direction.site_rates_sponsor, await run_config(latest.run))
    return SitePage(
        name,
        latest.key,
        tuple(
            _Stored.of(r).rating(
                str(r["rater"]),
                tiers.get(r["rater_organisation"]),
                f"/w/relationships/{r['rater_slug']}/{slug}/",
            )
            for r in rated_by
        ),
        tuple(_Stored.of(r).rating(str(r["partner"])) for r in rates),
        await _gaps(latest.run, site_id, language),
        needed,
    )


@dataclass(frozen=True)
class DraftScorecards:
    """A scored cycle not published yet: the site's scorecards by each sponsor that rated it,
    on which the site's own people write their reply until the cycle is published."""

    cycle: str
    sponsors: tuple[tuple[str, str], ...]
    """(name, slug) of each sponsor whose raters' view of the site the cycle holds."""


async def draft_scorecards(site_id: int) -> DraftScorecards | None:
    """The newest scored, unpublished cycle's scorecards of a site, or None if there is none
    (a reply can be written only before publication: surveys.scorecards.write_reply)."""
    runs = await cycle_runs((CycleStatus.scored.value,))
    if not runs:
        return None
    latest = runs[0]
    rows = (
        await TargetIndex.select(
            TargetIndex.rater_organisation._.name.as_alias("name"),
            TargetIndex.rater_organisation._.slug.as_alias("slug"),
        )
        .where(
            (TargetIndex.run == latest.run)
            & (TargetIndex.target == site_id)
            & (TargetIndex.rater_organisation._.kind == OrgKind.sponsor)
        )
        .order_by(TargetIndex.rater_organisation._.name)
    )
    sponsors = tuple(dict.fromkeys((str(r["name"]), str(r["slug"])) for r in rows))
    return DraftScorecards(latest.key, sponsors) if sponsors else None


async def _gaps(run: int, site_id: int, language: str = "en") -> tuple[Gap, ...]:
    """Where the site's view of a partner and the partner's view of it differ, as shown."""
    gaps = (
        await PerceptionGap.select(
            PerceptionGap.partner._.name.as_alias("partner"),
            PerceptionGap.mirror,
            PerceptionGap.site_view,
            PerceptionGap.partner_view,
            PerceptionGap.gap,
        )
        .where(
            (PerceptionGap.run == run)
            & (PerceptionGap.site == site_id)
            & PerceptionGap.shown.eq(True)
        )
        .order_by(PerceptionGap.partner._.name)
    )
    names = await mirror_names(language) if gaps else {}
    return tuple(
        Gap(
            g["partner"],
            g["mirror"],
            names.get(g["mirror"], g["mirror"]),
            g["site_view"],
            g["partner_view"],
            g["gap"],
        )
        for g in gaps
    )


async def network_sites(network_id: int) -> tuple[str, str | None, tuple[Rating, ...]]:
    """A network's name, the latest published cycle, and each of its sites' pooled index."""
    name, _ = await _name_and_slug(network_id)
    runs = await cycle_runs((CycleStatus.published.value,))
    if not runs:
        return name, None, ()
    rows = (
        await TargetIndex.select(*_INDEX, TargetIndex.target._.slug.as_alias("slug"))
        .where(
            (TargetIndex.run == runs[0].run)
            & TargetIndex.rater_organisation.is_null()
            & (TargetIndex.target._.network == network_id)
            & (TargetIndex.target._.kind == OrgKind.site.value)
        )
        .order_by(TargetIndex.target._.name)
    )
    return (
        name,
        runs[0].key,
        tuple(_Stored.of(r).rating(str(r["partner"]), link=f"/w/sites/{r['slug']}") for r in rows),
    )


async def _name_and_slug(organisation_id: int) -> tuple[str, str]:
    """An organisation's name and slug ("?" and "" if it is gone)."""
    row = (
        await Organisation.select(Organisation.name, Organisation.slug)
        .where(Organisation.id == organisation_id)
        .first()
    )
    return (str(row["name"]), str(row["slug"])) if row else ("?", "")


_INDEX = (
    TargetIndex.target._.name.as_alias("partner"),
    TargetIndex.rater_organisation._.name.as_alias("rater"),
    TargetIndex.reliability_index,
    TargetIndex.ri_low,
    TargetIndex.ri_high,
    TargetIndex.n_raters,
    TargetIndex.shown,
)


@dataclass(frozen=True)
class _Stored:
    """One stored index as a view reads it (`_INDEX`'s columns): figures still unfiltered."""

    index: float | None
    low: float | None
    high: float | None
    raters: int
    shown: bool

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> _Stored:
        """The index in a row selected with `_INDEX`."""
        return cls(
            shown_number(row["reliability_index"]),
            shown_number(row["ri_low"]),
            shown_number(row["ri_high"]),
            int(str(row["n_raters"] or 0)),
            bool(row["shown"]),
        )

    def rating(self, name: str, tier: Tier | None = None, link: str | None = None) -> Rating:
        """The index as `name`'s rating, its figures only if the run showed the cell."""
        return Rating(
            name,
            shown_number(self.index, self.shown),
            shown_number(self.low, self.shown),
            shown_number(self.high, self.shown),
            self.raters,
            self.shown,
            tier,
            link,
        )
