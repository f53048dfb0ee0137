"""Server-rendered pages: the organisation directory and the survey link page."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Template

from surveys.database import current_engine, engine_label
from surveys.invitations import LinkState, link_view
from surveys.organisations import OrgKind, directory
from surveys.web.contexts import HomeContext, KindGroup, LinkContext

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

    @get("/s/{token:str}", name="survey-link")
    async def survey_link(self, token: FromPath[str]) -> Template:
        """Say what a survey link leads to, with a status code that matches."""
        view = await link_view(token, dt.datetime.now(dt.UTC))
        status = {LinkState.unknown: 404, LinkState.expired: 410}.get(view.state, 200)
        return Template(
            "pages/link.html",
            context={"page": LinkContext(view)},
            status_code=status,
            # the URL is a secret: keep it out of caches and out of other sites' Referer
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )
