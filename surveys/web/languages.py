"""The language a page is read in, and the switch on every page that changes it.

A signed-in person reads in the language they chose on their account page, else the one
of their directory record; someone not signed in, in the one they picked with the switch
(kept in a cookie), else their browser's (Accept-Language); else English. The survey
form and its link pages choose their own (the respondent's, see surveys.web.survey) and
pass it to their templates, which takes precedence.
"""

from __future__ import annotations

from typing import Any

from jinja2.runtime import Context
from litestar import Controller, Request, post
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.params import URLEncodedBody
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_400_BAD_REQUEST

from surveys.accounts.credentials import set_language
from surveys.infra.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    choose_language,
    language_from_header,
    language_in_context,
    supported,
)
from surveys.web.auth import safe_next, viewer_of

LANGUAGE_COOKIE = "rapport_language"
"""The language someone not signed in picked with the switch."""
_STATE = "reader_language"
"""Where a request keeps its reader's language once worked out."""
Any_Connection = ASGIConnection[Any, Any, Any, Any]


def browser_language(connection: Any_Connection) -> str:
    """The language of someone not signed in: the switch's cookie, else Accept-Language."""
    return choose_language(
        connection.cookies.get(LANGUAGE_COOKIE),
        language_from_header(connection.headers.get("accept-language")),
    )


async def reader_language(connection: Any_Connection) -> str:
    """The language this request's reader reads pages in (worked out once per request)."""
    if _STATE not in connection.state:
        viewer = await viewer_of(connection)
        connection.state[_STATE] = (
            viewer.who.language if viewer is not None else browser_language(connection)
        )
    found: str = connection.state[_STATE]
    return found


async def note_reader_language(request: Request[Any, Any, Any]) -> None:
    """Before every handler: work out the reader's language, for its templates."""
    await reader_language(request)


def page_language(render: Context) -> str:
    """The language a page renders in: the one it was given (the survey's), else its
    reader's (worked out before the handler ran; an error page raised before that, as a
    404 is, reads the browser's)."""
    if "language" in render:
        return language_in_context(render)
    request = render.get("request")
    if request is None:
        return DEFAULT_LANGUAGE
    kept = request.state.get(_STATE)
    return kept if isinstance(kept, str) else browser_language(request)


class LanguageController(Controller):
    """The language switch every page shows."""

    @post("/language", name="language", status_code=HTTP_303_SEE_OTHER)
    async def switch(
        self, data: URLEncodedBody[dict[str, str]], request: Request[Any, Any, Any]
    ) -> Redirect:
        """Read pages in another language from now on, and go back to the same page.

        A signed-in person's choice is kept on their account (as the account page's
        choice is); anyone else's in a cookie for a year."""
        language = data.get("language", "")
        if supported(language) != language:
            raise HTTPException(
                status_code=HTTP_400_BAD_REQUEST,
                detail=N_("Choose one of the languages offered."),
            )
        back = Redirect(safe_next(data.get("next")), status_code=HTTP_303_SEE_OTHER)
        viewer = await viewer_of(request)
        if viewer is not None:
            await set_language(viewer.who.account_id, language)
            return back
        back.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.public_url.startswith("https://"),
        )
        return back
