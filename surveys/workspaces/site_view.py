"""What a site sees of a published cycle: how each sponsor rates it, how it rates its sponsors,
and where the two views differ; and a network's sites side by side.

Only published cycles are read: until publication the tiers are under review and the
scorecards are not out. Only cells the score run marked as shown are given numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from surveys.cycles.cycle import CycleStatus
from surveys.directory.organisations import Organisation, OrgKind
from surveys.results.score_runs import PerceptionGap, TargetIndex, scored_cycles, shown_number
from surveys.results.tier_assignments import Tier, TierAssignment, tier_in_force


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
    partner: str
    mirror: str
    site_view: float
    partner_view: float
    gap: float


@dataclass(frozen=True)
class SitePage:
    site: str
    cycle: str | None
    rated_by: tuple[Rating, ...]
    """Each sponsor's view of this site, with the tier it gives."""
    rates: tuple[Rating, ...]
    """This site's raters' view of each sponsor."""
    gaps: tuple[Gap, ...]


async def site_page(site_id: int) -> SitePage:
    """The site's results in the latest published cycle."""
    site = (
        await Organisation.select(Organisation.name, Organisation.slug)
        .where(Organisation.id == site_id)
        .first()
    )
    runs = await scored_cycles((CycleStatus.published.value,))
    if not runs:
        return SitePage(site["name"] if site else "?", None, (), (), ())
    run, cycle_id = runs[0]["run"], runs[0]["id"]
    tiers = {
        r["assessor"]: Tier(tier_in_force(r))
        for r in await TierAssignment.select(
            TierAssignment.assessor, TierAssignment.computed_tier, TierAssignment.override_tier
        ).where((TierAssignment.cycle == cycle_id) & (TierAssignment.target == site_id))
    }
    rated_by = (
        await TargetIndex.select(
            *_INDEX,
            TargetIndex.rater_organisation,
            TargetIndex.rater_organisation.slug.as_alias("rater_slug"),
        )
        .where(
            (TargetIndex.run == run)
            & (TargetIndex.target == site_id)
            & TargetIndex.rater_organisation.is_not_null()
        )
        .order_by(TargetIndex.rater_organisation.name)
    )
    rates = (
        await TargetIndex.select(*_INDEX)
        .where((TargetIndex.run == run) & (TargetIndex.rater_organisation == site_id))
        .order_by(TargetIndex.target.name)
    )
    gaps = (
        await PerceptionGap.select(
            PerceptionGap.partner.name.as_alias("partner"),
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
        .order_by(PerceptionGap.partner.name)
    )
    return SitePage(
        site["name"] if site else "?",
        str(runs[0]["key"]),
        tuple(
            replace(
                _rating(r, r["rater"], tiers.get(r["rater_organisation"])),
                link=f"/w/relationships/{r['rater_slug']}/{site['slug']}/",
            )
            for r in rated_by
        ),
        tuple(_rating(r, r["partner"]) for r in rates),
        tuple(
            Gap(g["partner"], g["mirror"], g["site_view"], g["partner_view"], g["gap"])
            for g in gaps
        ),
    )


async def network_sites(network_id: int) -> tuple[str, str | None, tuple[Rating, ...]]:
    """A network's name, the latest published cycle, and each of its sites' pooled index."""
    network = (
        await Organisation.select(Organisation.name).where(Organisation.id == network_id).first()
    )
    runs = await scored_cycles((CycleStatus.published.value,))
    if not runs:
        return network["name"] if network else "?", None, ()
    rows = (
        await TargetIndex.select(*_INDEX, TargetIndex.target.slug.as_alias("slug"))
        .where(
            (TargetIndex.run == runs[0]["run"])
            & TargetIndex.rater_organisation.is_null()
            & (TargetIndex.target.network == network_id)
            & (TargetIndex.target.kind == OrgKind.site.value)
        )
        .order_by(TargetIndex.target.name)
    )
    return (
        network["name"] if network else "?",
        str(runs[0]["key"]),
        tuple(replace(_rating(r, r["partner"]), link=f"/w/sites/{r['slug']}") for r in rows),
    )


_INDEX = (
    TargetIndex.target.name.as_alias("partner"),
    TargetIndex.rater_organisation.name.as_alias("rater"),
    TargetIndex.reliability_index,
    TargetIndex.ri_low,
    TargetIndex.ri_high,
    TargetIndex.n_raters,
    TargetIndex.shown,
)


def _rating(row: dict[str, object], name: object, tier: Tier | None = None) -> Rating:
    shown = bool(row["shown"])
    return Rating(
        str(name),
        shown_number(row["reliability_index"], shown),
        shown_number(row["ri_low"], shown),
        shown_number(row["ri_high"], shown),
        int(str(row["n_raters"] or 0)),
        shown,
        tier,
    )
