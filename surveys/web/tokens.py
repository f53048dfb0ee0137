"""Personal API tokens: a signed-in person makes, lists and revokes their own."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from surveys.accounts.credentials import AccountError, api_tokens, new_api_token, revoke_api_token
from surveys.accounts.policy import Viewer
from surveys.web.auth import RecordId
from surveys.web.contexts import TokenListing, TokensContext


class TokensController(Controller):
    """A person's own API tokens, for BI tools; each reads what its owner may read."""

    path = "/account/tokens"

    @get("/", name="tokens")
    async def tokens(self, viewer: NamedDependency[Viewer]) -> Template:
        return await _page(viewer)

    @post("/", name="token-new")
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
            return await _page(viewer, error=str(error), name=data.get("name", ""))
        return await _page(viewer, token=token)

    @post("/{token_id:int}/revoke", name="token-revoke")
    async def revoke(self, token_id: RecordId, viewer: NamedDependency[Viewer]) -> Redirect:
        now = dt.datetime.now(dt.UTC)
        if not await revoke_api_token(viewer.who.account_id, token_id, now, viewer.who.email):
            raise NotFoundException("no such token")
        return Redirect("/account/tokens/", status_code=303)


async def _page(
    viewer: Viewer, token: str | None = None, error: str | None = None, name: str = ""
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
