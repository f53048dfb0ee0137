"""The administrators' cycle API: bearer token, the same operations as the CLI, clear refusals."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.accounts.credentials import GrantRole, create_account, new_api_token
from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.directory.audit import AuditEntry
from surveys.directory.organisations import Person
from surveys.infra.database import use_engine
from surveys.infra.settings import load_settings
from surveys.web.app import create_app
from surveys.world.logins import DEMO_PASSWORD
from tests.conftest import url_of
from tests.web.test_workspaces import sign_in

pytestmark = pytest.mark.anyio
T = TypeVar("T")
NOW = dt.datetime.now(dt.UTC)


async def token_of(role: GrantRole) -> str:
    """A personal API token of someone with this role (an administrator has no organisation)."""
    person = await Person.select(Person.email, Person.organisation).first()
    organisation = None if role == GrantRole.administrator else person["organisation"]
    account = await create_account(person["email"], [(role, organisation)], NOW)
    return await new_api_token(account, "cycles", NOW)


async def with_api(
    engine: Engine, tmp_path: Path, steps: Callable[[AsyncTestClient[Any]], Awaitable[T]]
) -> T:
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "RAPPORT_VAR_DIR")}
    os.environ.update({"DATABASE_URL": url_of(engine), "RAPPORT_VAR_DIR": str(tmp_path / "var")})
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


async def test_the_api_needs_an_administrators_token(world_db: Engine, tmp_path: Path) -> None:
    admin = {"Authorization": f"Bearer {await token_of(GrantRole.administrator)}"}

    async def calls(client: AsyncTestClient[Any]) -> dict[str, Any]:
        nothing = await client.get("/api/cycles")
        wrong = await client.get("/api/cycles", headers={"Authorization": "Bearer rpt_wrong"})
        right = await client.get("/api/cycles", headers=admin)
        return locals()

    r = await with_api(world_db, tmp_path, calls)
    assert r["nothing"].status_code == 401
    assert "personal API token" in r["nothing"].json()["detail"]
    assert r["wrong"].status_code == 401 and "unknown or revoked" in r["wrong"].json()["detail"]
    assert r["right"].status_code == 200 and r["right"].json()


async def test_the_api_refuses_a_non_administrator_and_a_signed_in_browser(
    world_db: Engine, tmp_path: Path
) -> None:
    sponsor_token = await token_of(GrantRole.sponsor_user)
    person = (
        await Person.select(Person.email)
        .where(Person.email != (await Person.select(Person.email).first())["email"])
        .first()
    )
    await create_account(person["email"], [(GrantRole.administrator, None)], NOW, DEMO_PASSWORD)

    async def calls(client: AsyncTestClient[Any]) -> dict[str, Any]:
        other = await client.get(
            "/api/cycles", headers={"Authorization": f"Bearer {sponsor_token}"}
        )
        await sign_in(client, person["email"])
        cookie_only = await client.post(
            "/api/cycles", json={"key": "2030-Q1", "closes_on": "2099-01-01"}
        )
        return locals()

    r = await with_api(world_db, tmp_path, calls)
    assert r["other"].status_code == 403 and "administrators" in r["other"].json()["detail"]
    assert r["cookie_only"].status_code == 401, "a session cookie cannot run a cycle"
    assert not await Cycle.exists().where(Cycle.key == "2030-Q1")


async def test_a_cycle_runs_through_the_api(world_db: Engine, tmp_path: Path) -> None:
    auth = {"Authorization": f"Bearer {await token_of(GrantRole.administrator)}"}

    async def life(client: AsyncTestClient[Any]) -> dict[str, Any]:
        created = await client.post(
            "/api/cycles", json={"key": "2027-Q1", "closes_on": "2099-03-31"}, headers=auth
        )
        again = await client.post(
            "/api/cycles", json={"key": "2027-Q1", "closes_on": "2099-03-31"}, headers=auth
        )
        early = await client.post("/api/cycles/2027-Q1/close", headers=auth)
        opened = await client.post("/api/cycles/2027-Q1/open", headers=auth)
        status = await client.get("/api/cycles/2027-Q1", headers=auth)
        remind = await client.post("/api/cycles/2027-Q1/remind", headers=auth)
        closed = await client.post("/api/cycles/2027-Q1/close", headers=auth)
        missing = await client.get("/api/cycles/2031-Q1", headers=auth)
        bad = await client.post("/api/cycles", json={"key": "x", "closes_on": "soon"}, headers=auth)
        schema = await client.get("/schema/openapi.json")
        return {k: v for k, v in locals().items() if k != "client"}

    r = await with_api(world_db, tmp_path, life)
    assert r["created"].status_code == 201 and r["created"].json()["status"] == "draft"
    assert r["again"].status_code == 409 and "exists already" in r["again"].json()["detail"]
    assert r["early"].status_code == 409 and "from draft to closed" in r["early"].json()["detail"]
    assert r["opened"].status_code == 200
    invited = await Invitation.count().where(Invitation.cycle.key == "2027-Q1")
    assert r["opened"].json()["invitations"] == invited > 0
    people = len(
        {
            row["respondent"]
            for row in await Invitation.select(Invitation.respondent).where(
                Invitation.cycle.key == "2027-Q1"
            )
        }
    )
    assert r["opened"].json()["sent"] == people, "one e-mail per person"
    assert r["opened"].json()["failed"] == []
    progress = r["status"].json()["progress"]
    assert sum(p["invited"] for p in progress) == invited
    assert r["remind"].json()["sent"] == 0, "nobody is due a reminder on the day of invitation"
    assert r["remind"].json()["held"] == {"not_due": invited}
    assert r["closed"].json()["status"] == "closed"
    assert r["missing"].status_code == 404
    assert r["bad"].status_code == 400
    assert "/api/cycles/{key}/open" in r["schema"].json()["paths"]
    assert len(list((tmp_path / "var" / "outbox").glob("*.eml"))) == people
    admin = (await Person.select(Person.email).first())["email"]
    cycle = await Cycle.select(Cycle.id).where(Cycle.key == "2027-Q1").first()
    actors = {
        e["action"]: e["actor"]
        for e in await AuditEntry.select(AuditEntry.action, AuditEntry.actor).where(
            (AuditEntry.record_table == "cycle") & (AuditEntry.record_id == str(cycle["id"]))
        )
    }
    assert set(actors) == {"cycle.create", "cycle.open", "cycle.close"}
    assert set(actors.values()) == {admin}, "the audit log names the administrator"
