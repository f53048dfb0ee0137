"""A relationship's review meeting: the pack both sides go over, and their action items.

Both sides of the relationship open the same page; the policy decides through each
person's own reach (surveys.accounts.policy.Reach.may_see_relationship). Every change
goes back to the page with a notice saying what it did (`NOTICES`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.infra.i18n import N_
from surveys.results.meetings import (
    ActionInput,
    ActionItemError,
    ActionStatus,
    add_action,
    edit_action,
    set_status,
)
from surveys.web.auth import RecordId
from surveys.web.contexts import MeetingContext
from surveys.web.contexts._forms import refusal
from surveys.web.reach import NoSuchPage, relationship_in_reach
from surveys.workspaces.meeting_pack import meeting_pack

STATUS_CHANGED = {
    ActionStatus.open: N_("Status changed to open."),
    ActionStatus.in_progress: N_("Status changed to in progress."),
    ActionStatus.done: N_("Status changed to done."),
    ActionStatus.dropped: N_("Status changed to dropped."),
}
NOTICES = {
    "added": N_("Action item added."),
    "saved": N_("Saved."),
    "unchanged": N_("Nothing was changed."),
    **{f"status-{s.value}": STATUS_CHANGED[s] for s in ActionStatus},
}
"""What a redirect's `done` code says once (codes, not text, so a link cannot make the
page say anything else); marked, the page translates it."""


class MeetingsController(Controller):
    """The review meeting of one sponsor and one site."""

    path = "/w/relationships/{sponsor:str}/{site:str}"

    @get("/", name="meeting")
    async def pack(
        self,
        sponsor: FromPath[str],
        site: FromPath[str],
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
    ) -> Template:
        """The meeting pack from the latest published cycle, and the action items."""
        ids = await relationship_in_reach(viewer, sponsor, site)
        notice = NOTICES.get(request.query_params.get("done", ""))
        item = request.query_params.get("item", "")
        noticed = int(item) if notice and item.isdecimal() else None
        return await _page(viewer, ids, sponsor, site, notice=notice, noticed=noticed)

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
        given = _typed(data)
        try:
            item = await add_action(*ids, given, viewer.who.acting(_now()))
        except ActionItemError as error:
            return await _page(viewer, ids, sponsor, site, error, given)
        return _done(sponsor, site, item, "added")

    @post("/actions/{item:int}/edit", name="action-edit")
    async def edit(
        self,
        sponsor: FromPath[str],
        site: FromPath[str],
        item: RecordId,
        data: URLEncodedBody[dict[str, str]],
        viewer: NamedDependency[Viewer],
    ) -> Template | Redirect:
        """Change an item's what, owner, side, dimension or due date; on a refusal its form
        comes back open, with the message and the input."""
        ids = await relationship_in_reach(viewer, sponsor, site)
        given = _typed(data)
        try:
            changed = await edit_action(*ids, item, given, viewer.who.acting(_now()))
        except ActionItemError as error:
            return await _page(viewer, ids, sponsor, site, error, given, item)
        return _done(sponsor, site, item, "saved" if changed else "unchanged")

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
        status = data.get("status", "")
        try:
            changed = await set_status(*ids, item, status, viewer.who.acting(_now()))
        except ActionItemError as error:
            return await _page(viewer, ids, sponsor, site, error, refused=item)
        return _done(sponsor, site, item, f"status-{status}" if changed else "unchanged")


def _now() -> dt.datetime:
    """Now, in UTC: when an item is added or moved, and the day items fall overdue."""
    return dt.datetime.now(dt.UTC)


def _typed(data: dict[str, str]) -> ActionInput:
    """An item's form as posted, each field as typed (blank if left out)."""
    return ActionInput(
        data.get("title", ""),
        data.get("owner", ""),
        data.get("side", ""),
        data.get("dimension", ""),
        data.get("due_on", ""),
    )


def _done(sponsor: str, site: str, item: int, code: str) -> Redirect:
    """Back to the item on the meeting page after a change, saying `code`'s notice there."""
    where = f"/w/relationships/{sponsor}/{site}/?done={code}&item={item}#action-{item}"
    return Redirect(where, status_code=303)


async def _page(
    viewer: Viewer,
    ids: tuple[int, int],
    sponsor: str,
    site: str,
    error: ActionItemError | None = None,
    given: ActionInput | None = None,
    refused: int | None = None,
    notice: str | None = None,
    noticed: int | None = None,
) -> Template:
    """The meeting page; after a refused change, its message and what was typed, kept.

    The sites' view of the sponsor is in the pack only for those who may read it (not a
    CRO's users, from whom the portfolio withholds it too)."""
    try:
        pack = await meeting_pack(
            *ids, _now().date(), viewer.reach.may_see_sites_view(*ids), viewer.who.language
        )
    except ActionItemError:  # the relationship went while the page was asked for
        raise NoSuchPage() from None
    page = MeetingContext(
        pack=pack,
        sponsor_slug=sponsor,
        site_slug=site,
        viewer=viewer,
        given=given or ActionInput("", "", ""),
        error=refusal(error) if error else None,
        error_field=error.field if error else None,
        refused=refused,
        notice=notice,
        noticed=noticed,
    )
    return Template("pages/meeting.html", context={"page": page}, status_code=400 if error else 200)
