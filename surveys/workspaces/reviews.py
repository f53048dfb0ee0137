"""A sponsor's tier review as its page and its API twin read it."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.directory.organisations import Organisation
from surveys.results.tier_review import Review, review_in_cycle


@dataclass(frozen=True)
class SponsorReview:
    """The tiers a sponsor gives its sites in one scored cycle, under review."""

    sponsor: str
    """The sponsor's name."""
    review: Review
    """The cycle's tiers beside the previous cycle's, with their traces."""
    cycles: tuple[str, ...]
    """Every scored cycle, newest first: the ones the page can switch to."""


async def sponsor_review(
    sponsor_id: int, sites: frozenset[int] | None, cycle_key: str | None
) -> SponsorReview | None:
    """A sponsor's tier review in a scored cycle (the latest if the key is not one), limited
    to `sites` (None: all of them); None before any cycle is scored."""
    found = await review_in_cycle(sponsor_id, cycle_key, sites)
    if found is None:
        return None
    review, cycles = found
    named = (
        await Organisation.select(Organisation.name).where(Organisation.id == sponsor_id).first()
    )
    return SponsorReview(str(named["name"]) if named else "?", review, cycles)
