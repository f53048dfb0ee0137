"""A sponsor's tier review as its page and its API twin read it."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.directory.organisations import Organisation
from surveys.infra.i18n import N_, Text
from surveys.results.tier_review import Review, review_in_cycle
from surveys.workspaces.portfolio import PortfolioRow, portfolio


@dataclass(frozen=True)
class Untiered:
    """A site of the sponsor's portfolio with no computed tier in the cycle, and why."""

    slug: str
    name: str
    reason: str
    """Why, as the API says it, in English (see `untiered_reason`)."""
    words: Text
    """Why, as the page says it, translated where shown."""


@dataclass(frozen=True)
class SponsorReview:
    """The tiers a sponsor gives its sites in one scored cycle, under review."""

    sponsor: str
    """The sponsor's name."""
    review: Review
    """The cycle's tiers beside the previous cycle's, with their traces."""
    cycles: tuple[str, ...]
    """Every scored cycle, newest first: the ones the page can switch to."""
    untiered: tuple[Untiered, ...] = ()
    """The portfolio's sites the review does not hold, by name: a reader counting the
    portfolio's sites against the review's is told where the others went."""


def untiered_reason(row: PortfolioRow) -> str:
    """Why a portfolio site has no computed tier, in English (the API's words)."""
    return untiered_words(row).render("en")


def untiered_words(row: PortfolioRow) -> Text:
    """Why a portfolio site has no computed tier, from what the score run stored: the same
    `shown` flag behind the portfolio's "too few responses", never a threshold again."""
    if row.raters == 0:
        return Text(N_("not rated this cycle"))
    if not row.shown:
        if row.raters == 1:
            return Text(N_("no index this cycle: too few responses (1 rater)"))
        return Text(
            N_("no index this cycle: too few responses (%(raters)s raters)"),
            {"raters": row.raters},
        )
    return Text(N_("no tier computed this cycle"))


async def sponsor_review(
    sponsor_id: int, sites: frozenset[int] | None, cycle_key: str | None
) -> SponsorReview | None:
    """A sponsor's tier review in a scored cycle (the latest if the key is not one), limited
    to `sites` (None: all of them), with the sites it lacks and why; None before any cycle
    is scored."""
    found = await review_in_cycle(sponsor_id, cycle_key, sites)
    if found is None:
        return None
    review, cycles = found
    named = (
        await Organisation.select(Organisation.name).where(Organisation.id == sponsor_id).first()
    )
    tiered = {row.site_id for row in review.rows}
    sites_in_portfolio = (await portfolio(sponsor_id, sites, review.cycle)).by_name
    return SponsorReview(
        str(named["name"]) if named else "?",
        review,
        cycles,
        tuple(
            Untiered(row.slug, row.name, untiered_reason(row), untiered_words(row))
            for row in sites_in_portfolio
            if row.site_id not in tiered
        ),
    )
