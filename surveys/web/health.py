"""Health check for load balancers and `make demo`: is the database answering?"""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.response import Response

from surveys.infra.database import current_engine, ping


@get("/healthz", name="healthz")
async def healthz() -> Response[dict[str, Any]]:
    """Return 200 with the database's details when it answers, 503 when it does not."""
    database = await ping(current_engine())
    body = {"status": "ok" if database["ok"] else "unavailable", "database": database}
    return Response(body, status_code=200 if database["ok"] else 503)
