"""The review meeting's action items on the page: each change confirmed after its redirect,
an item edited by either side and audited, and a due date in the past refused."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.directory.audit import AuditEntry
from surveys.directory.organisations import Relationship
from surveys.results.meetings import ActionItem
from surveys.results.tier_review import publish_all_but_latest
from tests.web.test_survey_form import CSRF, in_browser
from tests.web.test_workspaces import characters, organisation_of, sign_in

pytestmark = pytest.mark.anyio
NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()
STATUS = '<div class="notice" role="status"><p>{}</p></div>'


async def test_either_side_edits_an_item_and_each_change_is_confirmed(
    scored_world_db: Engine,
) -> None:
    await publish_all_but_latest("test", NOW)
    people = await characters()
    site = await organisation_of(people["site coordinator"])
    sponsor = await organisation_of(people["sponsor user"])
    tie = (
        await Relationship.select(Relationship.sponsor.slug.as_alias("slug"))
        .where((Relationship.site == site["id"]) & (Relationship.sponsor == sponsor["id"]))
        .first()
    )
    assert tie, "the demo's sponsor user works with the coordinator's site"
    where = f"/w/relationships/{tie['slug']}/{site['slug']}/"
    later = (TODAY + dt.timedelta(days=30)).isoformat()

    async def as_(client: AsyncTestClient[Any], who: str) -> str:
        client.cookies.clear()
        await sign_in(client, people[who])
        match = CSRF.search((await client.get(where)).text)
        return match.group(1) if match else str(client.cookies.get("csrftoken", ""))

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        token = await as_(client, "site coordinator")
        form = {"title": "Monthly forecasts", "owner": "Site director", "side": "site"}
        past = await client.post(
            where + "actions", data={**form, "due_on": "2020-03-01", "_csrf_token": token}
        )
        added = await client.post(
            where + "actions", data={**form, "due_on": later, "_csrf_token": token}
        )
        item = int(str(added.url).rsplit("-", 1)[1])
        token = await as_(client, "sponsor user")
        edit = {**form, "title": "Weekly forecasts", "side": "sponsor", "due_on": later}
        edited = await client.post(
            where + f"actions/{item}/edit", data={**edit, "_csrf_token": token}
        )
        moved_past = await client.post(
            where + f"actions/{item}/edit",
            data={**edit, "due_on": "2020-03-01", "_csrf_token": token},
        )
        status = await client.post(
            where + f"actions/{item}", data={"status": "done", "_csrf_token": token}
        )
        token = await as_(client, "outsider")
        outsider = await client.post(
            where + f"actions/{item}/edit", data={**edit, "_csrf_token": token}
        )
        return locals()

    r = await in_browser(scored_world_db, steps)
    assert r["past"].status_code == 400
    assert "The due date 2020-03-01 has passed" in r["past"].text
    assert 'id="due_on-error"' in r["past"].text and 'value="Site director"' in r["past"].text
    assert STATUS.format("Action item added.") in r["added"].text
    assert STATUS.format("Saved.") in r["edited"].text
    assert r["moved_past"].status_code == 400 and "has passed" in r["moved_past"].text
    assert f'id="edit-{r["item"]}-due_on-error"' in r["moved_past"].text, "marked at its field"
    assert 'value="2020-03-01"' in r["moved_past"].text, "what was typed is kept"
    assert STATUS.format("Status changed to done.") in r["status"].text
    assert r["outsider"].status_code == 404

    assert await ActionItem.count() == 1, "the item due in the past was not stored"
    assert await AuditEntry.count().where(AuditEntry.action == "action.add") == 1
    stored = await ActionItem.select().where(ActionItem.id == r["item"]).first()
    assert (stored["title"], stored["side"], stored["status"]) == (
        "Weekly forecasts",
        "sponsor",
        "done",
    )
    edits = await AuditEntry.select().where(AuditEntry.action == "action.edit")
    assert len(edits) == 1 and edits[0]["actor"] == people["sponsor user"]
    detail = edits[0]["detail"]
    assert (json.loads(detail) if isinstance(detail, str) else detail)["changed"] == {
        "title": {"from": "Monthly forecasts", "to": "Weekly forecasts"},
        "side": {"from": "site", "to": "sponsor"},
    }
