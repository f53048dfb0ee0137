"""What a viewer may open: the one place every page and API route authorises.

Handlers receive their viewer by dependency injection (`viewer`, provided by
surveys.web.auth) and then ask one helper here for what the page is about: a sponsor's
portfolio, its tier review, a site, a network, a relationship, a trends scope, or a
scorecard. Each helper answers with the ids the domain reads by, or raises OutOfReach.
Routes for administrators only (the console) are guarded instead.

Something out of reach answers 404, exactly as something that does not exist (NoSuchPage:
the same status, body and headers), so that the answer never confirms an organisation, a
relationship or a cycle is there; the refusal is logged for review
(surveys.web.pages.error_page, which answers every 404 the same way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler

from surveys.accounts.policy import Reach, Viewer
from surveys.directory.organisations import OrgKind, organisation_with_slug
from surveys.results.meetings import relationship_between
from surveys.web.auth import required_viewer
from surveys.workspaces.institution_trends import Scope, scope_of
from surveys.workspaces.places import Place, place_with_slug

Collection = Literal["portfolios", "networks"]
"""A scorecard of many sites: a sponsor's portfolio, or a network."""


class NoSuchPage(NotFoundException):
    """Nothing the viewer may open at this address: whatever is missing (an organisation, a
    relationship, a scored cycle) or out of reach, the answer is this one and says no more,
    so that no answer tells a missing thing from a hidden one."""

    def __init__(self) -> None:
        super().__init__("no such page")


class OutOfReach(NoSuchPage):
    """A page or API route the viewer may not open. It answers as NoSuchPage, so that it
    does not confirm the organisation is there, and it is logged for security review."""

    def __init__(self, viewer: Viewer, what: str) -> None:
        super().__init__()
        self.account = viewer.who.account_id
        self.what = what


async def administrators_only(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: a page about the whole deployment; anyone else is told there is no such page."""
    viewer = await required_viewer(connection)
    if not viewer.reach.administrator:
        raise NoSuchPage()


async def organisation_id(slug: str, kind: OrgKind) -> int:
    """The id of the organisation of this kind with this slug; 404 if there is none."""
    found = await organisation_with_slug(slug, kind)
    if found is None:
        raise NoSuchPage()
    return found


async def _works_with(sponsor_id: int, site_id: int) -> bool:
    """Whether a sponsor works with a site: their relationship exists (surveys.accounts.policy
    asks, since a sponsor's people reach no site without one)."""
    return await relationship_between(sponsor_id, site_id) is not None


async def _in_reach(
    viewer: Viewer, slug: str, kind: OrgKind, allowed: Callable[[Reach, int], bool]
) -> int:
    """The organisation a page is about, if the policy lets this viewer open it."""
    organisation = await organisation_id(slug, kind)
    if not allowed(viewer.reach, organisation):
        raise OutOfReach(viewer, f"{kind.value} {slug}")
    return organisation


async def portfolio_in_reach(viewer: Viewer, slug: str) -> int:
    """The sponsor whose portfolio (or part of it, for a CRO's users) the viewer may see."""
    return await _in_reach(viewer, slug, OrgKind.sponsor, Reach.may_see_portfolio)


async def tier_review_in_reach(viewer: Viewer, slug: str) -> int:
    """The sponsor whose tiers the viewer may review: the sponsor's own, not a CRO's."""
    return await _in_reach(viewer, slug, OrgKind.sponsor, Reach.may_review_tiers)


async def site_in_reach(viewer: Viewer, slug: str) -> int:
    """The site whose own results the viewer may see."""
    return await _in_reach(viewer, slug, OrgKind.site, Reach.may_see_site)


async def network_in_reach(viewer: Viewer, slug: str) -> int:
    """The network whose sites the viewer may see side by side."""
    return await _in_reach(viewer, slug, OrgKind.network, Reach.may_see_network)


async def relationship_in_reach(viewer: Viewer, sponsor: str, site: str) -> tuple[int, int]:
    """A relationship's sponsor and site ids, if the two work together and either side of
    it is in reach."""
    ids = await organisation_id(sponsor, OrgKind.sponsor), await organisation_id(site, OrgKind.site)
    if not viewer.reach.may_see_relationship(*ids, works_with=await _works_with(*ids)):
        raise OutOfReach(viewer, f"relationship {sponsor}/{site}")
    return ids


async def trends_in_reach(viewer: Viewer, slug: str) -> Scope:
    """The scope of a trends page or route, if the viewer manages it."""
    scope = await scope_of(slug)
    if scope is None or not viewer.reach.may_see_trends(scope.organisation_id):
        raise OutOfReach(viewer, f"trends of {slug}")
    return scope


async def scorecard_in_reach(
    viewer: Viewer, subject: str, rater: str | None
) -> tuple[Place, Place | None]:
    """A partner scorecard's partner and (for one sponsor's view of a site) that sponsor,
    if the policy lets this viewer read the scorecard: the HTML page, its PDF twin and the
    reply all ask here."""
    what = f"scorecard of {subject}" + (f" by {rater}" if rater else "")
    found = await place_with_slug(subject)
    view = await place_with_slug(rater) if rater else None
    if found is None or (rater and view is None) or (view and view.kind != OrgKind.sponsor):
        raise OutOfReach(viewer, what)
    works_with = (
        view is not None and found.kind == OrgKind.site and await _works_with(view.id, found.id)
    )
    if not viewer.reach.may_see_partner_scorecard(
        found.id, found.kind, view.id if view else None, works_with=works_with
    ):
        raise OutOfReach(viewer, what)
    return found, view


async def reply_in_reach(
    viewer: Viewer, subject: str, rater: str | None
) -> tuple[Place, Place | None]:
    """A scorecard the viewer may read and, speaking for the rated partner, answer."""
    found, view = await scorecard_in_reach(viewer, subject, rater)
    if not viewer.reach.may_reply_to_scorecard(found.id):
        raise OutOfReach(viewer, f"reply to the scorecard of {subject}")
    return found, view


async def collection_in_reach(viewer: Viewer, kind: Collection, slug: str) -> Place:
    """The sponsor of a portfolio scorecard (for those who review its tiers) or the network
    of a network scorecard (for whoever opens the network's page)."""
    found = await place_with_slug(slug)
    wanted, allowed = (
        (OrgKind.sponsor, viewer.reach.may_review_tiers)
        if kind == "portfolios"
        else (OrgKind.network, viewer.reach.may_see_network)
    )
    if found is None or found.kind != wanted or not allowed(found.id):
        raise OutOfReach(viewer, f"{kind} scorecard of {slug}")
    return found
