"""The places a signed-in person opens: the workspaces their home page lists, and the
organisations a page names by slug (a scorecard's partner and the sponsor whose view it is).

Every list is scoped by the viewer's reach (surveys.accounts.policy) in the query itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveys.accounts.policy import Reach
from surveys.directory.organisations import Organisation, OrgKind
from surveys.infra.i18n import N_, Text


@dataclass(frozen=True)
class Workspace:
    """A link on the home page."""

    title: Text
    """What the link says, translated where the page shows it."""
    href: str
    kind: str
    """portfolio, trends, tiers, network or site."""


@dataclass(frozen=True)
class Place:
    """An organisation as a page names it, with what the policy asks about it."""

    id: int
    slug: str
    name: str
    kind: OrgKind


async def place_with_slug(slug: str) -> Place | None:
    """The organisation with this slug, of any kind, if there is one."""
    row = (
        await Organisation.select(
            Organisation.id, Organisation.kind, Organisation.name, Organisation.slug
        )
        .where(Organisation.slug == slug)
        .first()
    )
    if row is None:
        return None
    return Place(int(row["id"]), str(row["slug"]), str(row["name"]), OrgKind(row["kind"]))


async def workspaces_of(reach: Reach) -> list[Workspace]:
    """The portfolios, tier reviews, networks and sites a viewer may open, by name."""
    return [*await _sponsor_workspaces(reach), *await _site_workspaces(reach)]


async def _sponsor_workspaces(reach: Reach) -> list[Workspace]:
    """Each sponsor's portfolio in reach, with its trends and tier review where allowed."""
    scope = (
        Organisation.kind == OrgKind.sponsor.value
        if reach.administrator
        else Organisation.id.is_in(list(reach.portfolios) or [-1])
    )
    sponsors = (
        await Organisation.select(Organisation.id, Organisation.slug, Organisation.name)
        .where(scope)
        .order_by(Organisation.name)
    )
    found = []
    for s in sponsors:
        sponsor_id, slug, name = int(s["id"]), str(s["slug"]), str(s["name"])
        found.append(
            Workspace(
                _titled(N_("%(name)s: portfolio of sites"), name),
                f"/w/sponsors/{slug}",
                "portfolio",
            )
        )
        if reach.may_see_trends(sponsor_id):
            found.append(
                Workspace(
                    _titled(N_("%(name)s: trends across its sites"), name),
                    f"/w/trends/{slug}",
                    "trends",
                )
            )
        if reach.may_review_tiers(sponsor_id):
            found.append(
                Workspace(
                    _titled(N_("%(name)s: tier review"), name), f"/w/sponsors/{slug}/tiers", "tiers"
                )
            )
    return found


async def _site_workspaces(reach: Reach) -> list[Workspace]:
    """Each network (with its trends where allowed) and site in reach, networks first."""
    places = (
        await Organisation.select(
            Organisation.id, Organisation.slug, Organisation.name, Organisation.kind
        )
        .where(
            Organisation.kind.is_in([OrgKind.network.value, OrgKind.site.value])
            if reach.administrator
            else Organisation.id.is_in(list(reach.sites | reach.networks) or [-1])
        )
        .order_by(Organisation.kind, Organisation.name)
    )
    found = []
    for place in places:
        place_id, slug, name, kind = (
            int(place["id"]),
            str(place["slug"]),
            str(place["name"]),
            str(place["kind"]),
        )
        if kind == OrgKind.network:
            href, title = (
                f"/w/networks/{slug}",
                _titled(N_("%(name)s: its sites side by side"), name),
            )
        else:
            href, title = f"/w/sites/{slug}", _titled(N_("%(name)s: results"), name)
        found.append(Workspace(title, href, kind))
        if kind == OrgKind.network and reach.may_see_trends(place_id):
            found.append(
                Workspace(
                    _titled(N_("%(name)s: trends across its sites"), name),
                    f"/w/trends/{slug}",
                    "trends",
                )
            )
    return found


def _titled(message: str, name: str) -> Text:
    """A home page link's words about the organisation `name`."""
    return Text(message, {"name": name})
