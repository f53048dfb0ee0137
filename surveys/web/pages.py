"""Server-rendered pages: the organisation directory, for administrators."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from surveys.database import current_engine, engine_label
from surveys.organisations import OrgKind, directory
from surveys.web.auth import required_viewer
from surveys.web.contexts import HomeContext, KindGroup

GROUP_TITLES = {
    OrgKind.sponsor: "Sponsors",
    OrgKind.cro: "Contract research organisations",
    OrgKind.network: "Site networks",
    OrgKind.site: "Sites",
}


class PagesController(Controller):
    """Pages about the deployment as a whole."""

    @get("/directory", name="directory")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        """List every organisation, grouped by kind (administrators only)."""
        viewer = await required_viewer(request)
        if not viewer.reach.administrator:
            raise NotFoundException("no such page")
        listings = await directory()
        groups = tuple(
            KindGroup(kind.value, title, tuple(o for o in listings if o.kind == kind))
            for kind, title in GROUP_TITLES.items()
        )
        context = HomeContext(
            groups=groups, total=len(listings), database=engine_label(current_engine())
        )
        return Template("pages/home.html", context={"page": context})
