"""A signed-in person's own account: the language they read in, and their personal API
tokens (they make, list and revoke their own)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_400_BAD_REQUEST

from surveys.accounts.credentials import (
    AccountError,
    api_tokens,
    new_api_token,
    revoke_api_token,
    set_language,
)
from surveys.accounts.policy import Viewer
from surveys.directory.organisations import Person
from surveys.infra.i18n import LANGUAGES, N_, Text, choose_language, supported
from surveys.web.auth import RecordId
from surveys.web.contexts import TokenListing, TokensContext
from surveys.web.contexts._forms import refusal

AS_IN_DIRECTORY = ""
"""The language form's value for "as in the directory" (no choice of one's own)."""


@dataclass(frozen=True)
class AccountContext:
    """A person's account page: who they are, and the language they read in."""

    viewer: Viewer
    """Who is signed in."""
    chosen: str | None
    """The language they chose (None: as in the directory)."""
    directory_language: str
    """The interface language of their directory record."""
    languages: dict[str, str]
    """Every interface language: code → its name in itself."""
    error: Text | None = None
    """Why the choice was refused; None otherwise."""


class TokensController(Controller):
    """A person's own account page, and their API tokens, for BI tools; each token reads
    what its owner may read."""

    path = "/account"

    @get("/", name="account")
    async def account(self, viewer: NamedDependency[Viewer]) -> Template:
        return await _account_page(viewer)

    @post("/", name="account-language", status_code=HTTP_303_SEE_OTHER)
    async def choose(
        self, data: URLEncodedBody[dict[str, str]], viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        """Keep the language chosen (or follow the directory again), then show the page in it."""
        language = data.get("language", AS_IN_DIRECTORY)
        if language != AS_IN_DIRECTORY and supported(language) != language:
            error = Text(
                N_("There is no language “%(code)s” here. Choose one of those offered."),
                {"code": language[:20]},
            )
            return await _account_page(viewer, error)
        await set_language(viewer.who.account_id, language or None)
        return Redirect("/account/", status_code=HTTP_303_SEE_OTHER)

    @get("/tokens/", name="tokens")
    async def tokens(self, viewer: NamedDependency[Viewer]) -> Template:
        return await _page(viewer)

    @post("/tokens/", name="token-new")
    async def new(
        self, data: URLEncodedBody[dict[str, str]], viewer: NamedDependency[Viewer]
    ) -> Template:
        """Make a token and show it, once; it is never shown again."""
        try:
            token = await new_api_token(
                viewer.who.account_id,
                data.get("name", ""),
                dt.datetime.now(dt.UTC),
                viewer.who.email,
            )
        except AccountError as error:
            return await _page(viewer, error=refusal(error), name=data.get("name", ""))
        return await _page(viewer, token=token)

    @post("/tokens/{token_id:int}/revoke", name="token-revoke")
    async def revoke(self, token_id: RecordId, viewer: NamedDependency[Viewer]) -> Redirect:
        now = dt.datetime.now(dt.UTC)
        if not await revoke_api_token(viewer.who.account_id, token_id, now, viewer.who.email):
            raise NotFoundException("no such token")
        return Redirect("/account/tokens/", status_code=303)


async def _account_page(viewer: Viewer, error: Text | None = None) -> Template:
    """The account page; a refused choice of language says why (400)."""
    row = await Person.select(Person.language).where(Person.id == viewer.who.person_id).first()
    page = AccountContext(
        viewer=viewer,
        chosen=viewer.who.chosen_language,
        directory_language=choose_language(row["language"] if row else None),
        languages=LANGUAGES,
        error=error,
    )
    return Template(
        "pages/account.html",
        context={"page": page},
        status_code=HTTP_400_BAD_REQUEST if error else 200,
    )


async def _page(
    viewer: Viewer, token: str | None = None, error: str | Text | None = None, name: str = ""
) -> Template:
    """The tokens page; a new token shown this once, or why none was made."""
    page = TokensContext(
        viewer=viewer,
        tokens=tuple(TokenListing.of(row) for row in await api_tokens(viewer.who.account_id)),
        token=token,
        error=error,
        name=name,
    )
    return Template("pages/tokens.html", context={"page": page}, status_code=400 if error else 200)
