"""The console's programme page: rules set from a form (bad ones refused with why), the
timeline with every stage, a cycle's dates moved and refused, a cycle skipped, a pause."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.directory.audit import AuditEntry
from surveys.programme import planned_cycle, the_programme
from tests.web.test_console import admin_client_steps

pytestmark = pytest.mark.anyio
RULES = {
    "cadence": "quarterly",
    "first_opens": "2027-01-04",
    "open_days": "28",
    "reminder_days": "14, 7",
    "most_reminders": "2",
    "review_days": "14",
    "review_reminder_days": "3",
}


async def test_an_administrator_sets_moves_skips_and_pauses_the_programme(
    world_db: Engine,
) -> None:
    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        empty = await client.get("/admin/programme/")
        not_a_number = await client.post(
            "/admin/programme/", data={**RULES, "open_days": "four weeks", "_csrf_token": token}
        )
        too_long = await client.post(
            "/admin/programme/", data={**RULES, "open_days": "80", "_csrf_token": token}
        )
        saved = await client.post(
            "/admin/programme/", data={**RULES, "_csrf_token": token}, follow_redirects=False
        )
        timeline = await client.get("/admin/programme/")
        overlap = await client.post(
            "/admin/programme/2027-Q1/move",
            data={"closes": "2027-04-20", "_csrf_token": token},
        )
        moved = await client.post(
            "/admin/programme/2027-Q1/move",
            data={"closes": "2027-02-10", "_csrf_token": token},
            follow_redirects=False,
        )
        skipped = await client.post(
            "/admin/programme/2027-Q2/skip",
            data={"skipped": "1", "_csrf_token": token},
            follow_redirects=False,
        )
        paused = await client.post(
            "/admin/programme/pause", data={"paused": "1", "_csrf_token": token}
        )
        return locals()

    r = await admin_client_steps(world_db, steps)
    assert r["empty"].status_code == 200 and "Set up the programme" in r["empty"].text
    assert r["not_a_number"].status_code == 400
    assert "Days a cycle takes answers: &#39;four weeks&#39; is not a whole number." in (
        r["not_a_number"].text
    )
    assert 'value="four weeks"' in r["not_a_number"].text  # what was typed stays
    assert r["too_long"].status_code == 400
    assert "would still be open when the next one opens" in r["too_long"].text
    assert r["saved"].status_code == 303
    page = r["timeline"].text
    assert 'id="cycle-2027-Q1"' in page and 'id="cycle-2027-Q4"' in page
    assert "Reminder to those who have not answered" in page and "Tier reviewers told" in page
    assert "Published by an administrator" in page
    assert r["overlap"].status_code == 400
    assert "overlap: 2027-Q2 opens on 2027-04-04, before 2027-Q1 closes on 2027-04-20" in (
        r["overlap"].text
    )
    assert r["moved"].status_code == 303
    assert f"{(await planned_cycle('2027-Q1')).dates.closes_at:%Y-%m-%d}" == "2027-02-10"
    assert (await planned_cycle("2027-Q2")).done.skipped
    assert "The programme is paused" in r["paused"].text
    found = await the_programme()
    assert found is not None and found.paused and found.rules.reminder_days == (14, 7)
    actions = [
        row["action"]
        for row in await AuditEntry.select(AuditEntry.action, AuditEntry.actor)
        .where(AuditEntry.action.like("programme.%"))
        .order_by(AuditEntry.id)
    ]
    assert actions == ["programme.set", "programme.move", "programme.skip", "programme.pause"]
