"""`rapport tiers accept`: a sponsor's computed tiers accepted from the command line.

The same domain steps as the review page's "Accept" and "Accept all" buttons
(surveys.results.tier_review), audited under the user running the command.
"""

from __future__ import annotations

import click

from surveys.cli._run import actor, console, run, settings_and_now
from surveys.directory.audit import Act
from surveys.directory.organisations import OrgKind, organisation_with_slug
from surveys.infra.errors import RapportError


class UnknownOrganisationError(RapportError):
    """A slug given on the command line names no organisation of the kind asked for."""


@click.group("tiers")
def tiers() -> None:
    """A sponsor's tier review: accept its computed tiers."""


@tiers.command("accept")
@click.option("--cycle", "cycle_key", required=True, help="A scored cycle, e.g. 2026-Q1.")
@click.option("--sponsor", "sponsor_slug", required=True, help="The sponsor's slug.")
@click.option("--all", "every", is_flag=True, help="Every computed tier no one has reviewed yet.")
@click.option("--site", "site_slug", default=None, help="One site's slug.")
def accept(cycle_key: str, sponsor_slug: str, every: bool, site_slug: str | None) -> None:
    """Accept the computed tier of one site (--site) or of every site not yet reviewed
    (--all). Overridden tiers stay as set; a published cycle's tiers are final."""
    if every == (site_slug is not None):
        raise click.UsageError("give either --all or --site SLUG")
    # lazy: surveys.results pulls in pandas and SciPy (start-up time)
    from surveys.results.tier_review import accept_all, accept_tier

    _, now = settings_and_now()
    act = Act(actor(), now)

    async def step() -> int:
        sponsor = await _organisation(sponsor_slug, OrgKind.sponsor)
        if site_slug is None:
            return await accept_all(cycle_key, sponsor, None, None, act)
        return await accept_tier(
            cycle_key, sponsor, await _organisation(site_slug, OrgKind.site), act
        )

    accepted = run(step)
    console.print(f"Accepted {accepted} computed tier(s) of {sponsor_slug} in {cycle_key}.")


async def _organisation(slug: str, kind: OrgKind) -> int:
    """The id of the organisation of this kind with this slug, or a one-line failure."""
    found = await organisation_with_slug(slug, kind)
    if found is None:
        raise UnknownOrganisationError(f"no {kind.value} has the slug {slug!r}")
    return found
