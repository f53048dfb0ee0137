"""Signing in and out: password, e-mailed one-time link, password reset; who is asking.

Every workspace page and API route receives its viewer by dependency injection: a
handler declares `viewer: NamedDependency[Viewer]`, which the app provides with
`required_viewer` (the session cookie) and the workspace API with `api_viewer` (a
personal token, else the cookie). Both ask `surveys.accounts.policy` what the account may
reach. A page that needs a viewer and has none sends the browser to the sign-in page (an
API route answers 401). What the viewer may open is decided in surveys.web.reach.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, Parameter, URLEncodedBody
from litestar.response import Redirect, Template

from surveys.accounts.credentials import (
    AccountError,
    LinkPurpose,
    account_for_email,
    account_for_password,
    end_session,
    new_link,
    session_account,
    set_password,
    start_session,
    token_account,
    use_link,
)
from surveys.accounts.policy import Viewer, reach_of
from surveys.accounts.sign_in_mail import send_sign_in_link
from surveys.attempts import WINDOW_SECONDS, AttemptLimit
from surveys.infra.i18n import N_
from surveys.infra.mail import Mailer
from surveys.infra.settings import Settings
from surveys.web.contexts._forms import refusal

SESSION_COOKIE = "rapport_session"
log = logging.getLogger(__name__)
Any_Request = Request[Any, Any, Any]
Any_Connection = ASGIConnection[Any, Any, Any, Any]


RecordId = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="A record's id.")]
"""An id in a path: a number past what the database holds is a 400, not a crash."""


class SignInRequired(NotAuthorizedException):
    """The page needs a signed-in viewer; pages answer with the sign-in page, the API with 401."""


_SESSION_VIEWER = "session_viewer"
"""Where a request keeps its session's viewer once worked out (see viewer_of)."""


async def viewer_of(connection: Any_Connection) -> Viewer | None:
    """The signed-in viewer of a request, or None (no cookie, an ended or expired session).

    Worked out once per request and kept in its state: a route's guard and its handler's
    `viewer` dependency both ask, and the session and the grants are read once.
    """
    if _SESSION_VIEWER in connection.state:
        kept: Viewer | None = connection.state[_SESSION_VIEWER]
        return kept
    viewer = None
    session_id = connection.cookies.get(SESSION_COOKIE)
    who = await session_account(session_id, dt.datetime.now(dt.UTC)) if session_id else None
    if who is not None:
        viewer = Viewer(who, await reach_of(who.account_id))
    connection.state[_SESSION_VIEWER] = viewer
    return viewer


async def required_viewer(request: Any_Connection) -> Viewer:
    """The signed-in viewer, or SignInRequired.

    Litestar provides the `request` by that name; a guard passes its connection."""
    viewer = await viewer_of(request)
    if viewer is None:
        raise SignInRequired("sign in, or send a personal API token")
    return viewer


async def api_viewer(request: Any_Request) -> Viewer:
    """Who an API request acts for: a personal token (`Authorization: Bearer rpt_…`), else
    the browser's session (so a signed-in page can link to its CSV); SignInRequired (401)
    otherwise. Either way the reach is worked out afresh from the owner's grants."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return await token_viewer(request)
    return await required_viewer(request)


async def token_viewer(request: ASGIConnection[Any, Any, Any, Any]) -> Viewer:
    """Who a request's personal token acts for, or SignInRequired (401).

    Routes that change things through the API take a token only, never the session
    cookie: they are exempt from CSRF, so a cookie must not be enough to reach them.
    """
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    who = await token_account(token, dt.datetime.now(dt.UTC)) if token else None
    if who is None:
        log.warning(
            "API token refused (%s), starting %r, from %s for %s",
            "unknown or revoked" if token else "none given",
            token[:8],
            request.client.host if request.client else "?",
            request.url.path,
        )
        raise SignInRequired(
            "this token is unknown or revoked" if token else "a personal API token is required"
        )
    return Viewer(who, await reach_of(who.account_id))


VIEWER = Provide(required_viewer)
"""The `viewer` of pages: the session's, or the sign-in page first (the app provides it)."""
API_VIEWER = Provide(api_viewer)
"""The `viewer` of the workspace API: a personal token's or the session's, or 401."""


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//elsewhere`)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _session_cookie(settings: Settings, value: str, max_age: int | None) -> Cookie:
    """The session cookie: out of scripts' reach, sent over HTTPS only where served so."""
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=settings.public_url.startswith("https://"),
        samesite="lax",
    )


def _page(
    name: str, status: int = 200, background: BackgroundTask | None = None, **context: Any
) -> Template:
    """A sign-in page with what it shows (the address typed, an error: a text marked with
    `N_`, which the page translates); a "please wait" answer says how long (the limits
    count over a minute)."""
    headers = {"Retry-After": str(int(WINDOW_SECONDS))} if status == 429 else None
    return Template(
        f"pages/{name}.html",
        context={"page": context},
        status_code=status,
        background=background,
        headers=headers,
    )


class SignInController(Controller):
    """The sign-in pages. Answers never say whether an e-mail has an account."""

    path = "/sign-in"

    @get("/", name="sign-in")
    async def form(self, request: Any_Request) -> Template:
        return _page("sign_in", next=safe_next(request.query_params.get("next")))

    @post("/", name="sign-in-post")
    async def sign_in(
        self, data: URLEncodedBody[dict[str, str]], request: Any_Request
    ) -> Template | Redirect:
        """Check the password; on success start a new session (never reuse an old id).

        The attempt is counted, per address and per e-mail, before the password is
        checked: a check costs a fraction of a second of a thread, so a burst of
        concurrent guesses must not reach it beyond the limit. A match gives it back.
        """
        guesses: AttemptLimit = request.app.state.sign_in_guesses
        address = request.client.host if request.client else "unknown"
        email = data.get("email", "").strip().lower()
        target = safe_next(data.get("next"))
        allowed = await guesses.take(address)
        if allowed and not await guesses.take(email):
            await guesses.give_back(address)  # this address did not get to try
            allowed = False
        if not allowed:
            error = N_("Too many attempts. Please wait a minute and try again.")
            return _page("sign_in", 429, next=target, email=email, error=error)
        now = dt.datetime.now(dt.UTC)
        who = await account_for_password(email, data.get("password", ""), now)
        if who is None:
            return _page(
                "sign_in",
                400,
                next=target,
                email=email,
                error=N_("That e-mail and password do not match an account."),
            )
        await guesses.give_back(address)
        await guesses.give_back(email)
        return await _signed_in_redirect(request, who.account_id, target, now)

    @post("/out", name="sign-out")
    async def sign_out(self, request: Any_Request) -> Redirect:
        settings: Settings = request.app.state.settings
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            await end_session(session_id)
        return Redirect(
            "/sign-in?signed_out=1", status_code=303, cookies=[_session_cookie(settings, "", 0)]
        )

    @get("/forgot", name="forgot")
    async def forgot_form(self) -> Template:
        return _page("forgot")

    @post("/forgot", name="forgot-post")
    async def forgot(self, data: URLEncodedBody[dict[str, str]], request: Any_Request) -> Template:
        """E-mail a reset or sign-in link if the address has an account; say the same either way."""
        purpose = LinkPurpose.sign_in if data.get("purpose") == "sign_in" else LinkPurpose.reset
        guesses: AttemptLimit = request.app.state.sign_in_guesses
        address = request.client.host if request.client else "unknown"
        email = data.get("email", "").strip().lower()
        # every request counts, and counts before anything is done: links must not be
        # sprayed at inboxes
        if not await guesses.take(address):
            return _page("forgot", 429, error=N_("Too many requests. Please wait a minute."))
        # the link is made and sent after the answer, so the answer takes as long and
        # says the same whether the address has an account or not
        settings: Settings = request.app.state.settings
        mail = BackgroundTask(_link_by_mail, settings, email, purpose)
        return _page("forgot", background=mail, sent=True, email=email)

    @get("/link/{token:str}", name="link")
    async def link_form(self, token: FromPath[str]) -> Template:
        """A button, not an action: mail scanners that open links must not spend them."""
        return _page("use_link", token=token)

    @post("/link/{token:str}", name="link-post")
    async def use_sign_in_link(
        self, token: FromPath[str], request: Any_Request
    ) -> Template | Redirect:
        now = dt.datetime.now(dt.UTC)
        account_id = await use_link(token, LinkPurpose.sign_in, now)
        if account_id is None:
            error = N_("This link has expired or was used already.")
            return _page("use_link", 410, token=token, error=error)
        return await _signed_in_redirect(request, account_id, "/", now)

    @get("/reset/{token:str}", name="reset")
    async def reset_form(self, token: FromPath[str]) -> Template:
        return _page("reset", token=token)

    @post("/reset/{token:str}", name="reset-post")
    async def reset(
        self, token: FromPath[str], data: URLEncodedBody[dict[str, str]]
    ) -> Template | Redirect:
        """Set a new password (ending every session of the account), then ask to sign in."""
        password = data.get("password", "")
        if password != data.get("again", ""):
            return _page("reset", 400, token=token, error=N_("The two passwords differ."))
        if len(password) < 12:
            return _page(
                "reset", 400, token=token, error=N_("A password needs at least 12 characters.")
            )
        now = dt.datetime.now(dt.UTC)
        account_id = await use_link(token, LinkPurpose.reset, now)
        if account_id is None:
            error = N_("This link has expired or was used already. Ask for a new one.")
            return _page("reset", 410, token=token, error=error)
        try:
            await set_password(account_id, password)
        except AccountError as error:
            return _page("reset", 400, token=token, error=refusal(error))
        return Redirect("/sign-in?reset=1", status_code=303)


async def _signed_in_redirect(
    request: Any_Request, account_id: int, target: str, now: dt.datetime
) -> Redirect:
    """Start a new session (ending the browser's old one) and go where the person was going."""
    settings: Settings = request.app.state.settings
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await end_session(old)
    session_id = await start_session(account_id, now)
    cookie = _session_cookie(settings, session_id, None)
    return Redirect(target, status_code=303, cookies=[cookie])


async def _link_by_mail(settings: Settings, email: str, purpose: LinkPurpose) -> None:
    """If the address has an account, make a one-time link and e-mail it; failures are logged."""
    try:
        who = await account_for_email(email)
        if who is not None:
            now = dt.datetime.now(dt.UTC)
            token = await new_link(who.account_id, purpose, now)
            mailer = Mailer.from_settings(settings)
            await send_sign_in_link(
                mailer, who.name, who.email, purpose, token, now, language=who.language
            )
    except Exception:  # after the answer: nobody to tell but the log
        log.exception("could not e-mail a %s link", purpose.value)


def sign_in_redirect(request: Any_Request, error: Exception) -> Any:
    """Exception handler: a page that needs a viewer sends the browser to sign in first."""
    from litestar import Response

    if request.url.path.startswith("/api/"):
        detail = getattr(error, "detail", "") or "sign in, or send a personal API token"
        return Response({"detail": detail}, status_code=401)
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return Redirect(f"/sign-in?next={target}", status_code=303)


def unstorable_text(request: Any_Request, _: Exception) -> Any:
    """Exception handler: text the database cannot hold (a NUL character) is a bad request.

    PostgreSQL refuses NUL in text before any check of ours could; nothing was stored,
    as the statement's transaction is rolled back.
    """
    from litestar import Response

    message = "That text contains a character that cannot be stored (a NUL). Please remove it."
    if request.url.path.startswith("/api/"):
        return Response({"detail": message}, status_code=400)
    return Response(message, status_code=400, media_type="text/plain")
