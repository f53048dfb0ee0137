"""Secret tokens (survey links, sessions, sign-in links, API tokens) and their stored form.

Only a token's hash is ever stored, so a copy of the database opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TOKEN_BYTES = 32
"""256 random bits per link."""


def new_token() -> str:
    """Return a fresh link token with 256 bits from the operating system's CSPRNG."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_nonce() -> str:
    """Return a fresh per-invitation nonce (256 random bits, hex) to derive its link from."""
    return secrets.token_hex(TOKEN_BYTES)


def link_token(secret: str, nonce: str) -> str:
    """Return the link token of an invitation: HMAC-SHA256 of its nonce under the server key.

    The database holds the nonce and the token's hash, never the token: a copy of the
    database alone opens no survey, yet the server can send a reminder with the same
    link as the invitation (it knows the key). The token carries the nonce's 256 bits.
    """
    digest = hmac.new(secret.encode(), f"rapport-survey-link:{nonce}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """Return the stored form of a token (SHA-256 hex; tokens have full entropy, so no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()
