"""The headers check the access matrices run on every answer they get (test_workspaces.py,
test_console.py) and the security tests on the rest (test_headers_and_input.py)."""

from __future__ import annotations

from typing import Any

SECURE = {"x-content-type-options": "nosniff", "x-frame-options": "DENY"}


def assert_secure_headers(response: Any, what: str) -> None:
    """Fail unless a response carries the headers every non-static answer must: a policy
    with no inline script that forbids framing, no sniffing, a referrer policy, no store."""
    headers = response.headers
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, f"{what}: may be framed ({policy!r})"
    assert "script-src 'self';" in policy, f"{what}: scripts not limited ({policy!r})"
    for name, value in SECURE.items():
        assert headers.get(name) == value, f"{what}: {name} is {headers.get(name)!r}"
    assert headers.get("referrer-policy") in {"same-origin", "no-referrer"}, what
    assert headers.get("cache-control") == "no-store", f"{what}: may be cached"
