"""A relationship's review meeting: the pack both sides go over, and their action items.

Both sides of the relationship open the same page; the policy decides through each
person's own reach (surveys.accounts.policy.Reach.may_see_relationship).
"""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.results.meetings import ActionInput, ActionItemError, add_action, set_status
from surveys.web.auth import RecordId
from surveys.web.contexts import MeetingContext, sentence
from surveys.web.reach import NoSuchPage, relationship_in_reach
from surveys.workspaces.meeting_pack import meeting_pack


class MeetingsController(Controller):
    """The review meeting of one sponsor and one site."""

    path = "/w/relationships/{sponsor:str}/{site:str}"

    @get("/", name="meeting")
    async def pack(
        self, sponsor: FromPath[str], site: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Template:
        """The meeting pack from the latest published cycle, and the action items."""
        ids = await relationship_in_reach(viewer, sponsor, site)
        return await _page(viewer, ids, sponsor, site)

    @post("/actions", name="action-add")
    async def add(
        self,
        sponsor: FromPath[str],
        site: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        viewer: NamedDependency[Viewer],
    ) -> Template | Redirect:
        """Add an action item; on a refusal the form comes back with the message and the input."""
        ids = await relationship_in_reach(viewer, sponsor, site)
        given = ActionInput(
            data.get("title", ""),
            data.get("owner", ""),
            data.get("side", ""),
            data.get("dimension", ""),
            data.get("due_on", ""),
        )
        try:
            item = await add_action(*ids, given, viewer.who.acting(_now()))
        except ActionItemError as error:
            return await _page(viewer, ids, sponsor, site, sentence(error), given)
        return Redirect(f"/w/relationships/{sponsor}/{site}/#action-{item}", status_code=303)

    @post("/actions/{item:int}", name="action-status")
    async def status(
        self,
        sponsor: FromPath[str],
        site: FromPath[str],
        item: RecordId,
        data: URLEncodedBody[dict[str, str]],
        viewer: NamedDependency[Viewer],
    ) -> Template | Redirect:
        """Move an action item to another status."""
        ids = await relationship_in_reach(viewer, sponsor, site)
        try:
            await set_status(*ids, item, data.get("status", ""), viewer.who.acting(_now()))
        except ActionItemError as error:
            return await _page(viewer, ids, sponsor, site, sentence(error))
        return Redirect(f"/w/relationships/{sponsor}/{site}/#action-{item}", status_code=303)


def _now() -> dt.datetime:
    """Now, in UTC: when an item is added or moved, and the day items fall overdue."""
    return dt.datetime.now(dt.UTC)


async def _page(
    viewer: Viewer,
    ids: tuple[int, int],
    sponsor: str,
    site: str,
    error: str | None = None,
    given: ActionInput | None = None,
) -> Template:
    """The meeting page; after a refused change, its message and what was typed, kept.

    The sites' view of the sponsor is in the pack only for those who may read it (not a
    CRO's users, from whom the portfolio withholds it too)."""
    try:
        pack = await meeting_pack(*ids, _now().date(), viewer.reach.may_see_sites_view(*ids))
    except ActionItemError:  # the relationship went while the page was asked for
        raise NoSuchPage() from None
    page = MeetingContext(
        pack=pack,
        sponsor_slug=sponsor,
        site_slug=site,
        viewer=viewer,
        given=given or ActionInput("", "", ""),
        error=error,
    )
    return Template("pages/meeting.html", context={"page": page}, status_code=400 if error else 200)
