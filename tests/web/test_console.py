"""The administrator's console: who may open it (every route), and the directory and audit
log worked from the browser, through the same functions as the commands."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.accounts.credentials import AccessGrant, Account, GrantRole
from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.directory.audit import AuditEntry
from surveys.directory.organisations import Organisation, Person, Relationship, RelationshipContact
from surveys.instruments import Instrument
from surveys.web.app import create_app
from tests.security.headers import assert_secure_headers
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
        "account_id": (await Account.select(Account.id).first())["id"],
        "grant_id": (await AccessGrant.select(AccessGrant.id).first())["id"],
        "token_id": 1,  # refused before it is looked up: by the guard or the CSRF check
    }
    for name, value in ids.items():
        path = path.replace(f"{{{name}:int}}", str(value))
    cycle = (await Cycle.select(Cycle.key).where(Cycle.status == "open").first())["key"]
    return path.replace("{key:str}", cycle)


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
                assert_secure_headers(response, f"anonymous GET {path}")
                seen[("anonymous", "GET", path)] = response.status_code
        for who in ("site coordinator", "sponsor user", "relationship manager", "administrator"):
            client.cookies.clear()
            await sign_in(client, people[who])
            home = await client.get("/account/tokens/")
            token = CSRF.search(home.text).group(1)  # type: ignore[union-attr]
            for path, methods in routes.items():
                if "GET" in methods:
                    response = await client.get(paths[path], follow_redirects=False)
                    assert_secure_headers(response, f"{who} GET {path}")
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
        elif who == "administrator" and path.endswith("/account"):
            assert status in {200, 303}, f"the invitation form, or the account (got {status})"
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


async def test_an_administrator_invites_grants_and_deactivates(
    world_db: Engine, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path))
    await characters()  # the accounts the test signs in with
    holders = [a["person"] for a in await Account.select(Account.person)]
    newcomer = (
        await Person.select(Person.id, Person.email, Person.organisation)
        .where(Person.id.not_in(holders) & (Person.organisation.kind == "site"))
        .first()
    )
    site_slug = (
        await Organisation.select(Organisation.slug)
        .where(Organisation.id == newcomer["organisation"])
        .first()
    )["slug"]
    network = (
        await Organisation.select(Organisation.id).where(Organisation.kind == "network").first()
    )

    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        form = await client.get(f"/admin/people/{newcomer['id']}/account")
        no_org = await client.post(
            f"/admin/people/{newcomer['id']}/invite",
            data={"_csrf_token": token, "role": "site_user"},
        )
        invited = await client.post(
            f"/admin/people/{newcomer['id']}/invite",
            data={"_csrf_token": token, "role": "site_user", "site": site_slug},
            follow_redirects=False,
        )
        account_path = invited.headers["location"].split("?")[0]
        wrong_kind = await client.post(
            f"{account_path}/grants",
            data={"_csrf_token": token, "role": "sponsor_user", "organisation": str(network["id"])},
        )
        granted = await client.post(
            f"{account_path}/grants",
            data={"_csrf_token": token, "role": "site_user", "organisation": str(network["id"])},
            follow_redirects=False,
        )
        shown = await client.get(account_path)
        off = await client.post(
            f"{account_path}/active", data={"_csrf_token": token, "active": "0"}
        )
        listed = await client.get("/admin/accounts", params={"status": "inactive"})
        return locals()

    r = await admin_client_steps(world_db, steps)
    assert r["form"].status_code == 200 and "Invite" in r["form"].text, r["form"].url
    assert r["no_org"].status_code == 400 and "type a site&#39;s short name" in r["no_org"].text
    assert r["invited"].status_code == 303
    assert r["wrong_kind"].status_code == 400
    assert r["granted"].status_code == 303
    account = await Account.select().where(Account.person == newcomer["id"]).first()
    grants = await AccessGrant.select(AccessGrant.role, AccessGrant.organisation).where(
        AccessGrant.account == account["id"]
    )
    assert {(g["role"], g["organisation"]) for g in grants} == {
        (GrantRole.site_user.value, newcomer["organisation"]),
        (GrantRole.site_user.value, network["id"]),
    }
    assert account["active"] is False
    assert newcomer["email"] in r["listed"].text
    letters = list((tmp_path / "outbox").glob("*.eml"))
    assert len(letters) == 1 and newcomer["email"] in letters[0].read_text()
    assert "works once within 7 days" in r["shown"].text or "7 days" in r["shown"].text


async def test_an_administrator_exports_then_erases_a_person(world_db: Engine) -> None:
    await characters()
    holders = [a["person"] for a in await Account.select(Account.person)]
    subject = (
        await Person.select(Person.id, Person.name, Person.email)
        .where(Person.id.not_in(holders))
        .order_by(Person.id, ascending=False)
        .first()
    )

    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        shown = await client.get(f"/admin/people/{subject['id']}/data")
        exported = await client.get(f"/admin/people/{subject['id']}/data.json")
        mistyped = await client.post(
            f"/admin/people/{subject['id']}/erase",
            data={"_csrf_token": token, "confirm": "someone@else.example"},
        )
        erased = await client.post(
            f"/admin/people/{subject['id']}/erase",
            data={"_csrf_token": token, "confirm": subject["email"].upper()},
            follow_redirects=False,
        )
        return locals()

    r = await admin_client_steps(world_db, steps)
    assert r["shown"].status_code == 200 and "invitations" in r["shown"].text
    assert r["exported"].json()["person"]["email"] == subject["email"]
    assert r["mistyped"].status_code == 400 and "Type the person" in r["mistyped"].text
    assert r["erased"].status_code == 303
    after = await Person.select().where(Person.id == subject["id"]).first()
    assert after["name"].startswith("Erased person") and after["erased_at"] is not None
    assert subject["email"] not in after["email"]


async def test_a_directory_file_is_previewed_then_imported_from_the_console(
    db: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """On an empty directory (the administrator alone), the CTMS file of tests/data."""
    from pathlib import Path

    from surveys.accounts.administration import create_first_administrator
    from surveys.accounts.credentials import set_password
    from surveys.directory.audit import Act
    from surveys.directory.organisations import OrgKind
    from surveys.world.logins import DEMO_PASSWORD

    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path))
    data = Path(__file__).parents[1] / "data"
    act = Act("test", dt.datetime.now(dt.UTC))
    made = await create_first_administrator(
        "ada@operator.example", "Ada Admin", "Programme Office", OrgKind.sponsor, act
    )
    await set_password(made.account_id, DEMO_PASSWORD)
    csv_bytes = (data / "ctms_directory.csv").read_bytes()
    mapping = (data / "ctms_directory.toml").read_bytes()
    lines = csv_bytes.decode("utf-8-sig").splitlines()
    broken = ("\n".join([*lines, lines[1].replace("@", " at ")]) + "\n").encode()

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, "ada@operator.example")
        page = await client.get("/admin/directory/import/")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]

        def files(content: bytes) -> dict[str, Any]:
            return {
                "file": ("ctms_directory.csv", content, "text/csv"),
                "mapping": ("ctms_directory.toml", mapping, "text/plain"),
            }

        refused = await client.post(
            "/admin/directory/import/", data={"_csrf_token": token}, files=files(broken)
        )
        preview = await client.post(
            "/admin/directory/import/", data={"_csrf_token": token}, files=files(csv_bytes)
        )
        key = re.search(r'action="/admin/directory/import/([^"]+)"', preview.text)
        imported = await client.post(
            f"/admin/directory/import/{key.group(1)}",
            data={"_csrf_token": token},  # type: ignore[union-attr]
        )
        again = await client.post(
            f"/admin/directory/import/{key.group(1)}",
            data={"_csrf_token": token},  # type: ignore[union-attr]
        )
        return locals()

    before = await Person.count()
    r = await in_browser(db, steps)
    assert r["refused"].status_code == 400
    assert f'<td class="num">{len(lines) + 1}</td>' in r["refused"].text, "the bad row's line"
    imports = await AuditEntry.count().where(AuditEntry.action == "directory.import")
    assert imports == 1, "the file with a problem wrote nothing; the previewed one once"
    assert r["preview"].status_code == 200 and "Nothing has been written yet" in r["preview"].text
    assert r["imported"].status_code == 200 and "Imported" in r["imported"].text
    assert await Organisation.count().where(Organisation.kind == "site") == 12
    assert await Person.count() == before + 40
    assert r["again"].status_code == 404, "a preview is imported once"


async def test_a_cycle_is_run_from_the_console(
    world_db: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Create, open (after seeing who is invited), remind, close, reopen, close, and score in
    the background: a cycle nobody answered fails to score, and its page says why."""
    import asyncio

    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path))

    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        async def settled(key: str) -> Any:
            for _ in range(120):
                shown = await client.get(f"/admin/cycles/{key}")
                if "running" not in shown.text:
                    return shown
                await asyncio.sleep(0.5)
            raise AssertionError("the background job did not end")

        bad_date = await client.post(
            "/admin/cycles/", data={"_csrf_token": token, "key": "2099-Q1", "closes": "soon"}
        )
        created = await client.post(
            "/admin/cycles/",
            data={"_csrf_token": token, "key": "2099-Q1", "title": "Q1", "closes": "2099-03-31"},
            follow_redirects=False,
        )
        confirm = await client.get("/admin/cycles/2099-Q1/open")
        opened = await client.post(
            "/admin/cycles/2099-Q1/open", data={"_csrf_token": token}, follow_redirects=False
        )
        running = await client.get("/admin/cycles/2099-Q1")
        after_open = await settled("2099-Q1")
        by_role = await client.get("/admin/cycles/2099-Q1", params={"by": "role"})
        remind_confirm = await client.get("/admin/cycles/2099-Q1/remind")
        reminded = await client.post(
            "/admin/cycles/2099-Q1/remind", data={"_csrf_token": token}, follow_redirects=False
        )
        after_remind = await settled("2099-Q1")
        close_confirm = await client.get("/admin/cycles/2099-Q1/close")
        closed = await client.post(
            "/admin/cycles/2099-Q1/close", data={"_csrf_token": token}, follow_redirects=False
        )
        reopened = await client.post(
            "/admin/cycles/2099-Q1/reopen",
            data={"_csrf_token": token, "closes": "2099-04-30"},
            follow_redirects=False,
        )
        await client.post("/admin/cycles/2099-Q1/close", data={"_csrf_token": token})
        scored = await client.post(
            "/admin/cycles/2099-Q1/score", data={"_csrf_token": token}, follow_redirects=False
        )
        after_score = await settled("2099-Q1")
        return locals()

    r = await admin_client_steps(world_db, steps)
    invited = await Invitation.count().where(Invitation.cycle.key == "2099-Q1")
    people = len(
        {
            i["respondent"]
            for i in await Invitation.select(Invitation.respondent).where(
                Invitation.cycle.key == "2099-Q1"
            )
        }
    )
    assert r["bad_date"].status_code == 400 and "closing day as a date" in r["bad_date"].text
    assert r["created"].status_code == 303
    assert f"Opening sends {invited} invitations to {people} people" in r["confirm"].text
    assert r["opened"].status_code == 303 and r["opened"].headers["location"].endswith("#jobs")
    assert "<strong>open</strong>" in r["running"].text, "the job is listed at once"
    assert "Status: <strong>open</strong>" in r["after_open"].text
    assert f"invitation e-mails sent ({invited:,} of {invited:,} invitations due)" in (
        r["after_open"].text
    )
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == people, "one e-mail a person"
    assert "coordinator" in r["by_role"].text
    assert "Nobody is due a reminder now" in r["remind_confirm"].text
    assert f"Held back: {invited} not due yet" in r["remind_confirm"].text
    assert "0 reminders sent" in r["after_remind"].text
    assert "Closing stops every link" in r["close_confirm"].text
    assert r["closed"].status_code == 303 and r["reopened"].status_code == 303
    failure = re.search(
        r"<strong>score</strong>.*?failed\.\s*<ul><li>([^<]+)", r["after_score"].text, re.S
    )
    assert failure and "has no submitted answers to score" in failure.group(1)
    assert await Cycle.select(Cycle.status).where(Cycle.key == "2099-Q1").first() == {
        "status": "closed"
    }
    actions = [e["action"] for e in await AuditEntry.select(AuditEntry.action)]
    assert {"cycle.create", "cycle.open", "cycle.close", "cycle.reopen"} <= set(actions)
