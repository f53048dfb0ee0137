"""Scorecards on the web: the PDF twin under the page's rule, and the partner's reply."""

from __future__ import annotations

import io
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine
from pypdf import PdfReader

from surveys.scorecards import PartnerReply
from tests.web.test_survey_form import CSRF, in_browser
from tests.web.test_workspaces import (
    characters,
    coordinators_tie,
    latest_scored_cycle,
    organisation_of,
    other_sponsor,
    sign_in,
)

pytestmark = pytest.mark.anyio


async def test_the_pdf_twin_follows_the_pages_rule_and_prints_on_letter(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    other = await other_sponsor(sponsor["id"])
    cards = f"/w/scorecards/{await latest_scored_cycle()}/partners"

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, people["sponsor user"])
        own = await client.get(f"{cards}/{sponsor['slug']}/pdf?paper=letter")
        theirs = await client.get(f"{cards}/{other['slug']}/pdf")
        page = await client.get(f"{cards}/{sponsor['slug']}?lang=fr")
        bad_paper = await client.get(f"{cards}/{sponsor['slug']}/pdf?paper=a3")
        return locals()

    r = await in_browser(scored_world_db, steps)
    assert r["own"].status_code == 200 and r["own"].headers["content-type"] == "application/pdf"
    box = PdfReader(io.BytesIO(r["own"].content)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792), "US Letter"
    assert r["theirs"].status_code == 404, "another sponsor's scorecard is out of reach"
    assert r["page"].status_code == 200 and '<html lang="fr">' in r["page"].text
    assert r["bad_paper"].status_code == 400


async def test_the_site_replies_to_its_scorecard_and_the_sponsor_cannot(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    site = await organisation_of(people["site coordinator"])
    tie = await coordinators_tie(people)
    card = f"/w/scorecards/{await latest_scored_cycle()}/partners/{site['slug']}"

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, people["site coordinator"])
        shown = await client.get(f"{card}/by/{tie['slug']}")
        form = await client.get(f"{card}/reply?by={tie['slug']}")
        token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        empty = await client.post(
            f"{card}/reply", data={"by": tie["slug"], "text": " ", "_csrf_token": token}
        )
        kept = await client.post(
            f"{card}/reply",
            data={
                "by": tie["slug"],
                "text": "<b>We</b> staffed up.",
                "_csrf_token": token,
            },
            follow_redirects=False,
        )
        after = await client.get(f"{card}/by/{tie['slug']}")
        # the site's network reads the scorecard but does not speak for the site
        client.cookies.clear()
        await sign_in(client, people["network director"])
        network_reads = await client.get(f"{card}/by/{tie['slug']}")
        network_asks = await client.get(f"{card}/reply?by={tie['slug']}")
        home = await client.get("/")
        token = CSRF.search(home.text).group(1)  # type: ignore[union-attr]
        words = {"by": tie["slug"], "text": "The network's words.", "_csrf_token": token}
        network_writes = await client.post(f"{card}/reply", data=words, follow_redirects=False)
        return locals()

    r = await in_browser(scored_world_db, steps)
    assert r["shown"].status_code == 200 and "Write or change the reply" in r["shown"].text
    assert r["empty"].status_code == 400 and "empty" in r["empty"].text
    assert r["kept"].status_code == 303
    assert "&lt;b&gt;We&lt;/b&gt; staffed up." in r["after"].text, "kept, and shown escaped"
    reads = r["network_reads"]
    assert reads.status_code == 200 and "&lt;b&gt;We&lt;/b&gt; staffed up." in reads.text
    assert "Write or change the reply" not in reads.text, "no reply form for the network"
    assert r["network_asks"].status_code == r["network_writes"].status_code == 404
    assert [row["text"] for row in await PartnerReply.select(PartnerReply.text)] == [
        "<b>We</b> staffed up."
    ], "only the site's own people write its reply"

    async def as_sponsor(client: AsyncTestClient[Any]) -> int:
        await sign_in(client, people["sponsor user"])
        return (await client.get(f"{card}/reply?by={tie['slug']}")).status_code

    if tie["sponsor"] == (await organisation_of(people["sponsor user"]))["id"]:
        assert await in_browser(scored_world_db, as_sponsor) == 404, (
            "the reply is the site's to write"
        )
