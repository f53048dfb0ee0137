"""The administrators' cycle API: bearer token, the same operations as the CLI, clear refusals."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.database import use_engine
from surveys.invitations import Invitation
from surveys.settings import load_settings
from surveys.web.app import create_app
from tests.conftest import url_of

pytestmark = pytest.mark.anyio
T = TypeVar("T")
TOKEN = "s3cret-admin-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def with_api(
    engine: Engine, tmp_path: Path, steps: Callable[[AsyncTestClient[Any]], Awaitable[T]],
    token: str = TOKEN,
) -> T:  # fmt: skip
    saved = {
        k: os.environ.get(k) for k in ("DATABASE_URL", "RAPPORT_ADMIN_TOKEN", "RAPPORT_VAR_DIR")
    }
    os.environ.update({"DATABASE_URL": url_of(engine), "RAPPORT_ADMIN_TOKEN": token,
                       "RAPPORT_VAR_DIR": str(tmp_path / "var")})  # fmt: skip
    try:
        async with AsyncTestClient(app=create_app(load_settings())) as client:
            return await steps(client)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        use_engine(engine)


async def test_the_api_needs_its_token(world_db: Engine, tmp_path: Path) -> None:
    async def calls(client: AsyncTestClient[Any]) -> list[int]:
        return [
            (await client.get("/api/cycles")).status_code,
            (
                await client.get("/api/cycles", headers={"Authorization": "Bearer wrong"})
            ).status_code,
            (await client.get("/api/cycles", headers=AUTH)).status_code,
        ]

    assert await with_api(world_db, tmp_path, calls) == [401, 401, 200]
    off = await with_api(world_db, tmp_path, lambda c: c.get("/api/cycles", headers=AUTH), token="")
    assert off.status_code == 503
    assert "RAPPORT_ADMIN_TOKEN" in off.json()["detail"]


async def test_a_cycle_runs_through_the_api(world_db: Engine, tmp_path: Path) -> None:
    async def life(client: AsyncTestClient[Any]) -> dict[str, Any]:
        created = await client.post(
            "/api/cycles", json={"key": "2027-Q1", "closes_on": "2099-03-31"}, headers=AUTH
        )
        again = await client.post(
            "/api/cycles", json={"key": "2027-Q1", "closes_on": "2099-03-31"}, headers=AUTH
        )
        early = await client.post("/api/cycles/2027-Q1/close", headers=AUTH)
        opened = await client.post("/api/cycles/2027-Q1/open", headers=AUTH)
        status = await client.get("/api/cycles/2027-Q1", headers=AUTH)
        remind = await client.post("/api/cycles/2027-Q1/remind", headers=AUTH)
        closed = await client.post("/api/cycles/2027-Q1/close", headers=AUTH)
        missing = await client.get("/api/cycles/2031-Q1", headers=AUTH)
        bad = await client.post("/api/cycles", json={"key": "x", "closes_on": "soon"}, headers=AUTH)
        schema = await client.get("/schema/openapi.json")
        return {k: v for k, v in locals().items() if k != "client"}

    r = await with_api(world_db, tmp_path, life)
    assert r["created"].status_code == 201 and r["created"].json()["status"] == "draft"
    assert r["again"].status_code == 409 and "exists already" in r["again"].json()["detail"]
    assert r["early"].status_code == 409 and "from draft to closed" in r["early"].json()["detail"]
    assert r["opened"].status_code == 200
    invited = await Invitation.count().where(Invitation.cycle.key == "2027-Q1")
    assert r["opened"].json()["sent"] == invited > 0
    assert r["opened"].json()["failed"] == []
    progress = r["status"].json()["progress"]
    assert sum(p["invited"] for p in progress) == invited
    assert r["remind"].json()["sent"] == 0, "nobody is due a reminder on the day of invitation"
    assert r["closed"].json()["status"] == "closed"
    assert r["missing"].status_code == 404
    assert r["bad"].status_code == 400
    assert "/api/cycles/{key}/open" in r["schema"].json()["paths"]
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) == invited
