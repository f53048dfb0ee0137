"""The first pages: health check, organisation directory, survey link states."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from httpx import Response
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.directory.organisations import Organisation
from surveys.infra.database import engine_for, use_engine
from surveys.infra.settings import load_settings, parse_database_url
from surveys.infra.tokens import new_token, token_hash
from surveys.jobs.beats import beat
from surveys.web.app import create_app
from tests.conftest import url_of

pytestmark = pytest.mark.anyio


async def fetch(engine: Engine, *paths: str) -> list[Response]:
    """Serve the app on `engine`'s database and GET each path.

    Tests set up their data before calling this: the app opens its own connection pool
    on the test client's event loop, so the test body must not share it.
    """
    import os

    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url_of(engine)
    try:
        async with AsyncTestClient(app=create_app(load_settings())) as client:
            return [await client.get(path) for path in paths]
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous


async def test_healthz_reports_the_database(world_db: Engine, engine_kind: str) -> None:
    # the app's own tick beats as it starts, but may not have yet when the request comes
    await beat("serve", dt.datetime.now(dt.UTC))
    [response] = await fetch(world_db, "/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["engine"] == {"sqlite": "SQLite", "postgres": "PostgreSQL"}[engine_kind]
    assert body["database"]["version"][0].isdigit()
    assert body["jobs"] == {"running": 0, "oldest_running_since": None, "failed_last_day": 0}
    assert body["queues"] == []  # SQLite, or PostgreSQL before `rapport migrate` made one
    [serving] = body["workers"]  # the app runs the programme itself (the tests' setting)
    assert serving["role"] == "serve" and serving["last_heartbeat"] is not None
    assert body["warnings"] == []


async def test_metrics_say_the_same_for_prometheus(world_db: Engine) -> None:
    await beat("serve", dt.datetime.now(dt.UTC))  # as the app's tick does
    [response] = await fetch(world_db, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    lines = response.text.splitlines()
    assert "rapport_database_up 1.0" in lines and "rapport_jobs_running 0.0" in lines
    [silent] = [line for line in lines if line.startswith("rapport_worker_seconds_since")]
    assert 'role="serve"' in silent and 0 <= float(silent.rsplit(" ", 1)[1]) < 60


async def test_healthz_is_503_when_the_database_is_gone(
    monkeypatch: pytest.MonkeyPatch, db: Engine, engine_kind: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url_of(db))
    gone = {
        "sqlite": "sqlite:////nonexistent-dir/gone.sqlite",
        "postgres": "postgresql://postgres@127.0.0.1:1/gone",
    }[engine_kind]
    async with AsyncTestClient(app=create_app(load_settings())) as client:
        # the database disappears while the app runs
        use_engine(engine_for(parse_database_url(gone)))
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def as_administrator(engine: Engine, path: str) -> Response:
    """GET a page signed in as the demo administrator."""
    from surveys.world.logins import demo_logins
    from tests.web.test_survey_form import in_browser
    from tests.web.test_workspaces import sign_in

    admin = next(x for x in await demo_logins(dt.datetime.now(dt.UTC)) if x.who == "administrator")

    async def steps(client: AsyncTestClient[Any]) -> Response:
        await sign_in(client, admin.email)
        return await client.get(path)

    return await in_browser(engine, steps)


async def test_the_directory_lists_every_organisation_by_kind(world_db: Engine) -> None:
    response = await as_administrator(world_db, "/directory")
    assert response.status_code == 200
    html = response.text
    for row in await Organisation.select(Organisation.name):
        assert row["name"].replace("'", "&#39;") in html
    for heading in ("Sponsors", "Contract research organisations", "Site networks", "Sites"):
        assert f">{heading} <span" in html
    assert '<html lang="en">' in html and 'name="viewport"' in html


async def test_the_directory_escapes_organisation_names(world_db: Engine) -> None:
    await Organisation.update({Organisation.name: "<script>alert(1)</script> Clinic"}).where(
        Organisation.kind == "site"
    )
    response = await as_administrator(world_db, "/directory")
    html = response.text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Clinic" in html


async def issue_link(status: str, cycle_status: str) -> str:
    invitation = (
        await Invitation.select(Invitation.id, Invitation.cycle)
        .where(Invitation.status == status)
        .first()
    )
    await Cycle.update({Cycle.status: cycle_status}).where(Cycle.id == invitation["cycle"])
    token = new_token()
    await Invitation.update({Invitation.token_hash: token_hash(token)}).where(
        Invitation.id == invitation["id"]
    )
    return token


async def test_open_link_names_the_partner(world_db: Engine) -> None:
    token = await issue_link("sent", "open")
    await Invitation.update(
        {Invitation.expires_at: dt.datetime.now(dt.UTC) + dt.timedelta(days=3)}
    ).where(Invitation.token_hash == token_hash(token))
    partner = await Invitation.select(Invitation.target.name).where(
        Invitation.token_hash == token_hash(token)
    )
    [response] = await fetch(world_db, f"/s/{token}")
    assert response.status_code == 200
    assert f"Rating <strong>{partner[0]['target.name']}</strong>" in response.text


async def test_submitted_link_thanks_and_closed_cycle_link_is_gone(world_db: Engine) -> None:
    submitted = await issue_link("submitted", "closed")
    expired = await issue_link("sent", "closed")
    thanks, gone = await fetch(world_db, f"/s/{submitted}", f"/s/{expired}")
    assert thanks.status_code == 200
    assert "your answers are in" in thanks.text
    assert gone.status_code == 410
    assert "has closed" in gone.text


@pytest.mark.parametrize("token", ["nonsense", "A" * 43])
async def test_unknown_link_reveals_nothing(world_db: Engine, token: str) -> None:
    [response] = await fetch(world_db, f"/s/{token}")
    assert response.status_code == 404
    assert "could not find this survey link" in response.text
    assert "Rating <strong>" not in response.text


async def test_every_page_names_an_icon_that_is_there(world_db: Engine) -> None:
    import re

    from surveys.scorecards._render import TEMPLATES

    [page] = await fetch(world_db, "/sign-in/")
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page.text)
    assert icon, "the page names its icon (browsers ask for one)"
    [served] = await fetch(world_db, icon.group(1))
    assert served.status_code == 200 and served.headers["content-type"].startswith("image/svg")
    scorecards = (TEMPLATES / "scorecards" / "_base.html").read_text(encoding="utf-8")
    assert f'<link rel="icon" href="{icon.group(1)}"' in scorecards, "scorecards too"


async def test_a_browser_gets_errors_as_pages_and_a_program_gets_json(world_db: Engine) -> None:
    async def steps(client: AsyncTestClient[Any]) -> list[Response]:
        html = {"Accept": "text/html,application/xhtml+xml"}
        return [
            await client.get("/no/such/page", headers=html),
            await client.get("/no/such/page"),
            await client.get("/api/cycles", headers=html),
        ]

    from tests.web.test_survey_form import in_browser

    page, program, api = await in_browser(world_db, steps)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "<h1>Page not found</h1>" in page.text and "Back to your workspaces" in page.text
    assert program.status_code == 404 and program.json()["status_code"] == 404
    assert api.headers["content-type"].startswith("application/json"), "the API answers JSON"
