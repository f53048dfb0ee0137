"""Server-rendered pages: the organisation directory."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from surveys.database import current_engine, engine_label
from surveys.organisations import OrgKind, directory
from surveys.web.contexts import HomeContext, KindGroup

GROUP_TITLES = {
    OrgKind.sponsor: "Sponsors",
    OrgKind.cro: "Contract research organisations",
    OrgKind.network: "Site networks",
    OrgKind.site: "Sites",
}


class PagesController(Controller):
    """Public pages that need no account."""

    @get("/", name="home")
    async def home(self) -> Template:
        """List every organisation, grouped by kind."""
        listings = await directory()
        groups = tuple(
            KindGroup(kind.value, title, tuple(o for o in listings if o.kind == kind))
            for kind, title in GROUP_TITLES.items()
        )
        context = HomeContext(
            groups=groups, total=len(listings), database=engine_label(current_engine())
        )
        return Template("pages/home.html", context={"page": context})
