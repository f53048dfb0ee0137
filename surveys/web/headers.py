"""The headers every response carries: what a browser may load, frame, cache and refer.

Set in one place, on the way out (a `before_send` hook), so that no page, error, CSV or
API answer can be served without them, whichever handler or exception made it:

- a Content-Security-Policy that allows scripts, styles and images from Rapport only and
  no inline script (no page needs one); the scorecard's own inlined stylesheet is allowed
  by its hash, and style attributes (the positions of score bars) are allowed because an
  attribute cannot run script;
- `frame-ancestors 'none'` (and X-Frame-Options for older browsers): a form such as
  publish or tier override must never be clickable inside another site's frame;
- `X-Content-Type-Options: nosniff`, so a CSV or a comment is never run as a script;
- `Cache-Control: no-store` on everything but the static files: signed-in pages, the
  API, CSVs and the token page hold what a shared computer's next user must not see;
- `Referrer-Policy: same-origin`, and `no-referrer` on the pages whose address is a
  secret (survey links, one-time sign-in and reset links), which are also kept out of
  the access log (see `SECRET_PATH`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

SECRET_PATH = re.compile(r"(?<![\w/.-])/(?:s|sign-in/link|sign-in/reset)/[^/?\s\"]+")
"""A path whose last part is a working key: a survey link, a sign-in or a reset link
(where a path starts: at the start of the text, or after a space or a quote in a log)."""
REDACTED = "/[redacted]"


def redacted(text: str) -> str:
    """`text` with every secret path's key replaced, for logs."""
    return SECRET_PATH.sub(lambda m: m.group(0).rsplit("/", 1)[0] + REDACTED, text)


def style_hash(css: str) -> str:
    """The CSP source that allows one inline `<style>` element with exactly this text."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy(inline_styles: Iterable[str]) -> str:
    """The policy of every response; `inline_styles` are the `<style>` texts Rapport writes."""
    styles = " ".join(["'self'", *(style_hash(css) for css in inline_styles)])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            f"style-src {styles}",
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


class SecurityHeaders:
    """A `before_send` hook adding the headers above to every response's start."""

    def __init__(self, inline_styles: Iterable[str]) -> None:
        self.fixed = {
            "content-security-policy": content_security_policy(inline_styles),
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
        }

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in self.fixed.items():
            headers[name] = value
        path = str(scope.get("path", ""))
        secret = SECRET_PATH.match(path) is not None
        if secret or "referrer-policy" not in headers:
            headers["referrer-policy"] = "no-referrer" if secret else "same-origin"
        if not path.startswith("/static/"):
            headers["cache-control"] = "no-store"
