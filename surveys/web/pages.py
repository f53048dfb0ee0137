"""Server-rendered pages: the organisation directory, for administrators."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import HTTPException
from litestar.response import Template
from litestar.status_codes import HTTP_404_NOT_FOUND

from surveys.directory.organisations import OrgKind, directory
from surveys.directory.rules import area_name
from surveys.infra.database import current_engine, engine_label
from surveys.infra.i18n import N_
from surveys.web.contexts import HomeContext, KindGroup
from surveys.web.reach import NoSuchPage, OutOfReach, administrators_only

GROUP_TITLES = {
    OrgKind.sponsor: N_("Sponsors"),
    OrgKind.cro: N_("Contract research organisations"),
    OrgKind.network: N_("Site networks"),
    OrgKind.site: N_("Sites"),
}
"""Headings of the directory's groups (the page translates them)."""


class PagesController(Controller):
    """Pages about the deployment as a whole."""

    @get("/directory", name="directory", guards=[administrators_only])
    async def home(self) -> Template:
        """List every organisation, grouped by kind (administrators only)."""
        listings = await directory()
        groups = tuple(
            KindGroup(
                kind=kind.value,
                title=title,
                organisations=tuple(o for o in listings if o.kind == kind),
            )
            for kind, title in GROUP_TITLES.items()
        )
        context = HomeContext(
            groups=groups,
            total=len(listings),
            database=engine_label(current_engine()),
            area_names={a: area_name(a) for o in listings for a in o.areas},
        )
        return Template("pages/home.html", context={"page": context})


log = logging.getLogger(__name__)
TITLES = {
    400: N_("That did not work"),
    403: N_("Not allowed"),
    404: N_("Page not found"),
    405: N_("Not allowed here"),
    410: N_("No longer available"),
    413: N_("Too much was sent"),
    429: N_("Please wait a moment"),
}
"""Headings of error pages, by status code (the page translates them)."""
DETAILS = {
    404: N_("There is no page at this address, or it is not one you can open."),
    413: N_(
        "What was sent is far longer than this form takes, so nothing was saved. "
        "Go back, shorten the longest text and send it again."
    ),
}
"""What an error page says, for the statuses that always say the same (the page
translates them; other errors show their own detail, translated where the catalogue has it)."""


def error_page(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    """Exception handler: a person in a browser gets the error as a page, a program gets JSON.

    The API and the schema always answer JSON, as Litestar does by default. Every 404 gets
    one answer, whatever was raised and why (NoSuchPage: the same status, body and headers),
    so that nothing missing can be told from something out of reach; only the log says
    which it was.
    """
    if isinstance(error, OutOfReach):
        log.warning(
            "out of reach: account %s asked for %s (%s %s) from %s",
            error.account,
            error.what,
            request.method,
            request.url.path,
            request.client.host if request.client else "?",
        )
    if error.status_code == HTTP_404_NOT_FOUND:
        error = NoSuchPage()
    wants_page = "text/html" in request.headers.get("accept", "")
    if request.url.path.startswith(("/api/", "/schema")) or not wants_page:
        body: dict[str, Any] = {"status_code": error.status_code, "detail": error.detail}
        if error.extra:
            body["extra"] = error.extra
        return Response(body, status_code=error.status_code, headers=error.headers)
    title = TITLES.get(error.status_code, N_("Something went wrong"))
    detail = DETAILS.get(
        error.status_code,
        error.detail if error.status_code < 500 else N_("Please try again later."),
    )
    return Template(
        "pages/error.html",
        context={"title": title, "detail": detail, "status": error.status_code},
        status_code=error.status_code,
        headers=error.headers,
    )
