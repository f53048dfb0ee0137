"""A relationship's review meeting: the pack both sides go over, and their action items.

Both sides of the relationship open the same page; the policy decides through each
person's own reach (surveys.accounts.policy.Reach.may_see_relationship).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.results.meetings import (
    ActionInput,
    ActionItemError,
    ActionStatus,
    MeetingPack,
    Side,
    add_action,
    meeting_pack,
    set_status,
)
from surveys.web.auth import RecordId, required_viewer
from surveys.web.workspaces import relationship_in_reach, sentence

Any_Request = Request[Any, Any, Any]


@dataclass(frozen=True)
class MeetingPage:
    """A relationship's review meeting: the pack, its action items and the form to add one."""

    pack: MeetingPack
    sponsor_slug: str
    site_slug: str
    viewer: Viewer
    given: ActionInput
    """What was typed, kept after a refusal (blank at first)."""
    error: str | None = None
    """Why the last item was refused, as a sentence."""
    sides: tuple[Side, ...] = tuple(Side)
    statuses: tuple[ActionStatus, ...] = tuple(ActionStatus)


class MeetingsController(Controller):
    """The review meeting of one sponsor and one site."""

    path = "/w/relationships/{sponsor:str}/{site:str}"

    @get("/", name="meeting")
    async def pack(
        self, sponsor: FromPath[str], site: FromPath[str], request: Any_Request
    ) -> Template:
        """The meeting pack from the latest published cycle, and the action items."""
        viewer, ids = await _relationship_in_reach(request, sponsor, site)
        return await _page(viewer, ids, sponsor, site)

    @post("/actions", name="action-add")
    async def add(
        self,
        sponsor: FromPath[str],
        site: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        request: Any_Request,
    ) -> Template | Redirect:
        """Add an action item; on a refusal the form comes back with the message and the input."""
        viewer, ids = await _relationship_in_reach(request, sponsor, site)
        given = ActionInput(
            data.get("title", ""),
            data.get("owner", ""),
            data.get("side", ""),
            data.get("dimension", ""),
            data.get("due_on", ""),
        )
        try:
            item = await add_action(*ids, given, viewer.who.person_id, viewer.who.email, _now())
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
        request: Any_Request,
    ) -> Template | Redirect:
        """Move an action item to another status."""
        viewer, ids = await _relationship_in_reach(request, sponsor, site)
        try:
            await set_status(
                *ids, item, data.get("status", ""), viewer.who.person_id, viewer.who.email, _now()
            )
        except ActionItemError as error:
            return await _page(viewer, ids, sponsor, site, sentence(error))
        return Redirect(f"/w/relationships/{sponsor}/{site}/#action-{item}", status_code=303)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _relationship_in_reach(
    request: Any_Request, sponsor: str, site: str
) -> tuple[Viewer, tuple[int, int]]:
    """The viewer and the relationship's two ids; 404 when it is out of reach or absent."""
    viewer = await required_viewer(request)
    return viewer, await relationship_in_reach(viewer, sponsor, site)


async def _page(
    viewer: Viewer,
    ids: tuple[int, int],
    sponsor: str,
    site: str,
    error: str | None = None,
    given: ActionInput | None = None,
) -> Template:
    try:
        pack = await meeting_pack(*ids, _now().date(), viewer.reach.may_see_sites_view(*ids))
    except ActionItemError:
        raise NotFoundException("no such page") from None
    page = MeetingPage(pack, sponsor, site, viewer, given or ActionInput("", "", ""), error)
    return Template("pages/meeting.html", context={"page": page}, status_code=400 if error else 200)
