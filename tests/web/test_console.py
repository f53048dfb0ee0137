"""The administrator's console: who may open it (every route), and the directory and audit
log worked from the browser, through the same functions as the commands."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.directory.audit import AuditEntry
from surveys.directory.organisations import Organisation, Person, Relationship, RelationshipContact
from surveys.instruments import Instrument
from surveys.web.app import create_app
from tests.web.test_survey_form import CSRF, in_browser
from tests.web.test_workspaces import characters, sign_in

pytestmark = pytest.mark.anyio


def console_routes() -> dict[str, set[str]]:
    """Every console route, path → its methods."""
    found: dict[str, set[str]] = {}
    for route in create_app().routes:
        if route.path.startswith("/admin"):
            found.setdefault(route.path, set()).update(route.methods - {"HEAD", "OPTIONS"})
    return found


async def filled(path: str) -> str:
    """A route's path with real ids in its parameters."""
    ids = {
        "organisation_id": (await Organisation.select(Organisation.id).first())["id"],
        "person_id": (await Person.select(Person.id).first())["id"],
        "relationship_id": (await Relationship.select(Relationship.id).first())["id"],
        "instrument_id": (await Instrument.select(Instrument.id).first())["id"],
    }
    for name, value in ids.items():
        path = path.replace(f"{{{name}:int}}", str(value))
    return path


async def test_only_administrators_reach_the_console_and_no_form_works_without_its_token(
    world_db: Engine,
) -> None:
    people = await characters()
    routes = console_routes()
    assert len(routes) >= 10, routes
    assert not [p for p in routes if "{" in await filled(p)], "a parameter the test cannot fill"

    paths = {p: await filled(p) for p in routes}

    async def steps(client: AsyncTestClient[Any]) -> dict[tuple[str, str, str], int]:
        seen: dict[tuple[str, str, str], int] = {}
        for path, methods in routes.items():
            if "GET" in methods:
                response = await client.get(paths[path], follow_redirects=False)
                seen[("anonymous", "GET", path)] = response.status_code
        for who in ("site coordinator", "sponsor user", "relationship manager", "administrator"):
            client.cookies.clear()
            await sign_in(client, people[who])
            home = await client.get("/account/tokens/")
            token = CSRF.search(home.text).group(1)  # type: ignore[union-attr]
            for path, methods in routes.items():
                if "GET" in methods:
                    response = await client.get(paths[path], follow_redirects=False)
                    seen[(who, "GET", path)] = response.status_code
                if "POST" in methods:
                    bare = await client.post(paths[path], data={}, follow_redirects=False)
                    seen[(who, "POST without token", path)] = bare.status_code
                    if who != "administrator":
                        signed = await client.post(
                            paths[path], data={"_csrf_token": token}, follow_redirects=False
                        )
                        seen[(who, "POST", path)] = signed.status_code
        return seen

    before = await AuditEntry.count()
    seen = await in_browser(world_db, steps)
    for (who, method, path), status in seen.items():
        if who == "anonymous":
            assert status == 303, f"anonymous GET {path}: sent to sign in (got {status})"
        elif method == "POST without token":
            assert status == 403, f"{who} POST {path} without a CSRF token (got {status})"
        elif who == "administrator":
            assert status == 200, f"the administrator opens {path} (got {status})"
        else:
            assert status == 404, f"{who} {method} {path}: no such page (got {status})"
    assert await AuditEntry.count() == before, "no refused request changed anything"


async def admin_client_steps(engine: Engine, steps: Any) -> Any:
    people = await characters()

    async def signed_in(client: AsyncTestClient[Any]) -> Any:
        await sign_in(client, people["administrator"])
        page = await client.get("/admin/")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        return await steps(client, token)

    return await in_browser(engine, signed_in)


async def test_an_administrator_adds_edits_and_deactivates_directory_records(
    world_db: Engine,
) -> None:
    network = (
        await Organisation.select(Organisation.id).where(Organisation.kind == "network").first()
    )
    sponsor = (
        await Organisation.select(Organisation.id).where(Organisation.kind == "sponsor").first()
    )

    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        bad_country = await client.post(
            "/admin/organisations/new",
            data={"_csrf_token": token, "name": "Klinikum Nord", "kind": "site", "country": "XX"},
        )
        made = await client.post(
            "/admin/organisations/new",
            data={
                "_csrf_token": token,
                "name": "Klinikum Nord",
                "kind": "site",
                "country": "de",
                "network": str(network["id"]),
                "external_id": "CTMS-9001",
                "areas": "Oncology; cardiology",
            },
            follow_redirects=False,
        )
        site_path = made.headers["location"].split("?")[0]
        site_id = int(site_path.rsplit("/", 1)[1])
        same_ctms = await client.post(
            "/admin/organisations/new",
            data={
                "_csrf_token": token,
                "name": "Other",
                "kind": "site",
                "external_id": "CTMS-9001",
            },
        )
        person = await client.post(
            "/admin/people/new",
            data={
                "_csrf_token": token,
                "name": "Dr. Ines Vogel",
                "email": " Ines.Vogel@Klinikum-Nord.example ",
                "organisation": str(site_id),
                "role": "pi",
                "language": "de",
            },
            follow_redirects=False,
        )
        twice = await client.post(
            "/admin/people/new",
            data={
                "_csrf_token": token,
                "name": "Someone Else",
                "email": "ines.vogel@klinikum-nord.example",
                "organisation": str(site_id),
                "role": "coordinator",
                "language": "en",
            },
        )
        cro_role_at_site = await client.post(
            "/admin/people/new",
            data={
                "_csrf_token": token,
                "name": "Wrong Role",
                "email": "wrong@klinikum-nord.example",
                "organisation": str(sponsor["id"]),
                "role": "pi",
            },
        )
        site_slug = "klinikum-nord"  # made from its name
        tie = await client.post(
            "/admin/relationships/new",
            data={"_csrf_token": token, "sponsor": str(sponsor["id"]), "site": site_slug},
            follow_redirects=False,
        )
        tie_path = tie.headers["location"].split("?")[0]
        person_id = int(person.headers["location"].split("?")[0].rsplit("/", 1)[1])
        contacts = await client.post(
            f"{tie_path}/contacts",
            data={"_csrf_token": token, "contact": str(person_id)},
            follow_redirects=False,
        )
        listed = await client.get("/admin/people", params={"search": "VOGEL"})
        off = await client.post(
            f"{site_path}/active",
            data={"_csrf_token": token, "active": "0"},
            follow_redirects=False,
        )
        return locals()

    r = await admin_client_steps(world_db, steps)
    assert r["bad_country"].status_code == 400
    assert "is not an ISO 3166 two-letter country code" in r["bad_country"].text
    assert r["made"].status_code == 303
    assert r["same_ctms"].status_code == 400 and "already has the CTMS id" in r["same_ctms"].text
    assert r["person"].status_code == 303
    assert r["twice"].status_code == 400 and "is already Dr. Ines Vogel" in r["twice"].text
    assert (
        r["cro_role_at_site"].status_code == 400 and "works at a site" in r["cro_role_at_site"].text
    )
    assert r["contacts"].status_code == 303
    assert "Dr. Ines Vogel" in r["listed"].text and "1–1 of 1" in r["listed"].text
    site = await Organisation.select().where(Organisation.id == r["site_id"]).first()
    assert (site["country"], site["external_id"], site["active"]) == ("DE", "CTMS-9001", False)
    person = await Person.select().where(Person.id == r["person_id"]).first()
    assert person["email"] == "ines.vogel@klinikum-nord.example"
    assert person["active"] is False, "deactivating a site deactivates its people"
    tie = await Relationship.select().where(Relationship.site == r["site_id"]).first()
    assert tie["active"] is False
    assert await RelationshipContact.exists().where(
        (RelationshipContact.relationship == tie["id"])
        & (RelationshipContact.person == r["person_id"])
    )
    actions = [
        e["action"] for e in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)
    ][-5:]
    assert actions == [
        "organisation.create",
        "person.create",
        "relationship.create",
        "relationship.contacts",
        "organisation.deactivate",
    ]


async def test_the_audit_log_filters_pages_and_downloads(world_db: Engine) -> None:
    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        for n in range(3):
            await client.post(
                "/admin/organisations/new",
                data={"_csrf_token": token, "name": f"Audit Site {n}", "kind": "site"},
            )
        page = await client.get("/admin/audit", params={"action": "organisation"})
        past = await client.get("/admin/audit", params={"action": "organisation", "page": "99"})
        download = await client.get("/admin/audit.csv", params={"action": "organisation.create"})
        bad_date = await client.get("/admin/audit", params={"since": "yesterday"})
        return locals()

    r = await admin_client_steps(world_db, steps)
    assert r["page"].status_code == 200
    assert len(re.findall(r"<th scope=\"row\">organisation\.create</th>", r["page"].text)) >= 3
    assert "There is no page 99" in r["past"].text
    rows = list(csv.DictReader(io.StringIO(r["download"].text)))
    assert r["download"].headers["content-type"].startswith("text/csv")
    created = await AuditEntry.count().where(AuditEntry.action == "organisation.create")
    assert len(rows) == created >= 3
    assert {row["action"] for row in rows} == {"organisation.create"}
    assert r["bad_date"].status_code == 400
