"""The console's response import: a file checked (writing nothing), then imported; a file
with problems shown line by line; administrators only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.directory.audit import AuditEntry
from tests.surveys.responses.test_imports import CYCLE, SAMPLES, sample, totals, two_invitations
from tests.web.test_survey_form import CSRF, in_browser
from tests.web.test_workspaces import characters, sign_in

pytestmark = pytest.mark.anyio
FORM = "/admin/responses/import/"
CONFIRM = re.compile(r'action="/admin/responses/import/([A-Za-z0-9_-]+)"')


@pytest.fixture(autouse=True)
def own_var_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Uploads wait in the test's own var folder."""
    var = tmp_path / "var"
    monkeypatch.setenv("RAPPORT_VAR_DIR", str(var))
    return var


def pending(var: Path) -> list[Path]:
    """The uploads waiting for their confirmation."""
    folder = var / "pending-responses"
    return sorted(folder.iterdir()) if folder.is_dir() else []


async def as_administrator(engine: Engine, administrator: str, steps: Any) -> Any:
    """Run `steps(client, token)` signed in as the administrator, in a browser of its own."""

    async def signed_in(client: AsyncTestClient[Any]) -> Any:
        await sign_in(client, administrator)
        form = await client.get(FORM)
        token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        return await steps(client, token)

    return await in_browser(engine, signed_in)


def posted(content: bytes, token: str, name: str = "plain.csv", **fields: str) -> dict[str, Any]:
    """The upload form as sent: the file, the cycle, and the format (by default, from the
    file's name)."""
    return {
        "data": {"_csrf_token": token, "cycle": CYCLE, "format": "", **fields},
        "files": {"file": (name, content, "text/csv")},
    }


async def test_a_check_says_what_would_be_imported_and_writes_nothing_then_the_import_does(
    world_db: Engine, tmp_path: Path, own_var_dir: Path
) -> None:
    administrator = (await characters())["administrator"]
    content = sample("plain.csv", tmp_path, await two_invitations()).read_bytes()
    before = await totals()
    audited = await AuditEntry.count().where(AuditEntry.action == "responses.import")

    async def check(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        form = await client.get(FORM)
        checked = await client.post(FORM, **posted(content, token))
        return locals()

    r = await as_administrator(world_db, administrator, check)
    after_check = await totals()
    waiting = pending(own_var_dir)
    key = CONFIRM.search(r["checked"].text).group(1)  # type: ignore[union-attr]

    async def confirm(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        imported = await client.post(f"{FORM}{key}", data={"_csrf_token": token})
        again = await client.post(f"{FORM}{key}", data={"_csrf_token": token})
        return locals()

    r |= await as_administrator(world_db, administrator, confirm)
    assert r["form"].status_code == 200
    assert f'<option value="{CYCLE}"' in r["form"].text, "the open cycle is offered"
    assert 'aria-current="page">Import responses</a>' in r["form"].text, "in the console's menu"
    assert r["checked"].status_code == 200
    assert "Rapport would import 2 responses" in r["checked"].text
    assert "Nothing has been written yet" in r["checked"].text
    assert "Import these responses" in r["checked"].text
    assert after_check == before, "a check writes nothing"
    assert len(waiting) == 1, "the checked file waits for its confirmation"
    assert r["imported"].status_code == 200
    assert "Rapport imported 2 responses" in r["imported"].text
    responses, answers, submitted = await totals()
    assert (responses, submitted) == (before[0] + 2, before[2] + 2)
    assert answers > before[1]
    assert pending(own_var_dir) == [], "an imported file is thrown away"
    assert r["again"].status_code == 404, "a checked file is imported once"
    entries = (
        await AuditEntry.select(AuditEntry.actor, AuditEntry.detail)
        .where(AuditEntry.action == "responses.import")
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )
    assert len(entries) == audited + 1
    assert entries[-1]["actor"] == administrator, "audited as the administrator who imported"
    assert entries[-1]["detail"]["file"] == "plain.csv", "the upload's own name, not a path"


async def test_a_file_with_problems_shows_each_by_line_and_writes_nothing(
    world_db: Engine, tmp_path: Path, own_var_dir: Path
) -> None:
    people = await two_invitations()
    lines = (SAMPLES / "plain.csv").read_text(encoding="utf-8").splitlines()
    broken = [*lines[:2], lines[1].replace("{email1}", "nobody@nowhere.example"), *lines[2:]]
    content = sample("broken.csv", tmp_path, people, "\n".join(broken) + "\n").read_bytes()
    before = await totals()
    administrator = (await characters())["administrator"]

    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        refused = await client.post(FORM, **posted(content, token, "broken.csv", format="csv"))
        unchosen = await client.post(
            FORM, data={"_csrf_token": token, "cycle": CYCLE, "format": "csv"}
        )
        return locals()

    r = await as_administrator(world_db, administrator, steps)
    page = r["refused"].text
    assert r["refused"].status_code == 400
    assert 'class="error-summary" role="alert"' in page
    assert "broken.csv cannot be imported as it is: nothing was written." in page
    assert re.search(r"<li>Line 3\b[^<]*nobody@nowhere.example", page), "the bad line, by number"
    assert str(own_var_dir) not in page, "the server's folders stay unsaid"
    assert f'<option value="{CYCLE}" selected>' in page, "the form keeps the cycle chosen"
    assert '<option value="csv" selected>' in page, "and the format"
    assert "Import these responses" not in page
    assert await totals() == before, "nothing written"
    assert pending(own_var_dir) == [], "a refused file is not kept"
    assert r["unchosen"].status_code == 400 and "Choose the file" in r["unchosen"].text


async def test_a_wrong_mapping_is_named_as_it_was_uploaded(
    world_db: Engine, tmp_path: Path, own_var_dir: Path
) -> None:
    content = sample("plain.csv", tmp_path, await two_invitations()).read_bytes()
    administrator = (await characters())["administrator"]

    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        upload = posted(content, token)
        upload["files"]["mapping"] = ("mine.toml", b"[colums]\nrespondent = 'mail'\n", "text/plain")
        refused = await client.post(FORM, **upload)
        return locals()

    page = (await as_administrator(world_db, administrator, steps))["refused"].text
    assert "mine.toml: colums: unknown" in page
    assert str(own_var_dir) not in page
    assert pending(own_var_dir) == []


async def test_a_qualtrics_export_is_checked_with_its_mapping_and_what_it_leaves_out(
    world_db: Engine, tmp_path: Path
) -> None:
    content = sample("qualtrics.csv", tmp_path, await two_invitations()).read_bytes()
    mapping = (SAMPLES / "qualtrics_mapping.toml").read_bytes()
    administrator = (await characters())["administrator"]

    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        upload = posted(content, token, "export.csv", format="qualtrics")
        upload["files"]["mapping"] = ("qualtrics.toml", mapping, "text/plain")
        checked = await client.post(FORM, **upload)
        return locals()

    page = (await as_administrator(world_db, administrator, steps))["checked"].text
    assert "Rapport would import 1 response from export.csv (qualtrics, mapped by " in page
    assert re.search(r"Left out: unfinished</th><td class=\"num\">1<", page), page
    assert "Times without a zone read as" in page, "the zone the times were read in"


async def test_only_administrators_reach_the_response_import(
    world_db: Engine, tmp_path: Path
) -> None:
    people = await characters()
    content = sample("plain.csv", tmp_path, await two_invitations()).read_bytes()
    before = await totals()

    async def steps(client: AsyncTestClient[Any]) -> dict[str, int]:
        seen: dict[str, int] = {}
        for who in ("site coordinator", "sponsor user", "relationship manager", "outsider"):
            client.cookies.clear()
            await sign_in(client, people[who])
            home = await client.get("/account/tokens/")
            token = CSRF.search(home.text).group(1)  # type: ignore[union-attr]
            seen[f"{who} GET"] = (await client.get(FORM)).status_code
            check = await client.post(FORM, **posted(content, token))
            seen[f"{who} POST"] = check.status_code
        return seen

    seen = await in_browser(world_db, steps)
    assert set(seen.values()) == {404}, seen
    assert await totals() == before
