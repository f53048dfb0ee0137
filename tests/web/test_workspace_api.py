"""The workspaces' JSON API and CSV downloads: personal tokens, pagination, the same
figures as the pages, hidden cells left empty, and spreadsheet formulas defused."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.directory.organisations import Organisation, Relationship
from surveys.results.score_runs import TargetIndex
from tests.web.test_survey_form import CSRF, in_browser
from tests.web.test_workspaces import characters, organisation_of, other_sponsor, sign_in

pytestmark = pytest.mark.anyio


async def test_a_token_reads_the_portfolio_as_its_owner_until_revoked(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    other = await other_sponsor(sponsor["id"])
    sites = (
        await Relationship.select(Relationship.site, Relationship.site.name.as_alias("name"))
        .where(Relationship.sponsor == sponsor["id"])
        .order_by(Relationship.site.name)
    )
    hidden = sites[0]
    await TargetIndex.update({TargetIndex.shown: False}).where(
        (TargetIndex.target == hidden["site"]) & (TargetIndex.rater_organisation == sponsor["id"])
    )
    await Organisation.update({Organisation.name: '=HYPERLINK("http://x")'}).where(
        Organisation.id == sites[1]["site"]
    )
    base = f"/api/portfolios/{sponsor['slug']}"

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, people["sponsor user"])
        form = await client.get("/account/tokens/")
        csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        unnamed = await client.post("/account/tokens/", data={"name": " ", "_csrf_token": csrf})
        made = await client.post("/account/tokens/", data={"name": "Power BI", "_csrf_token": csrf})
        token = re.search(r"rpt_[A-Za-z0-9_-]+", made.text).group(0)  # type: ignore[union-attr]
        listed = await client.get("/account/tokens/")
        client.cookies.clear()
        bearer = {"Authorization": f"Bearer {token}"}
        everything = await client.get(base, headers=bearer, params={"per_page": 1000})
        second = await client.get(base, headers=bearer, params={"per_page": 3, "page": 2})
        too_many = await client.get(base, headers=bearer, params={"per_page": 5000})
        other_one = await client.get(f"/api/portfolios/{other['slug']}", headers=bearer)
        as_csv = await client.get(base + "/csv", headers=bearer)
        nobody = await client.get(base)
        wrong = await client.get(base, headers={"Authorization": "Bearer rpt_not-a-token"})
        await sign_in(client, people["sponsor user"])
        form = await client.get("/account/tokens/")
        csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        # the page names the token's id (no query here: the app holds the database)
        token_id = re.search(r"/account/tokens/(\d+)/revoke", form.text).group(1)  # type: ignore[union-attr]
        revoked = await client.post(
            f"/account/tokens/{token_id}/revoke", data={"_csrf_token": csrf}, follow_redirects=False
        )
        client.cookies.clear()
        after = await client.get(base, headers=bearer)
        return locals()

    r = await in_browser(scored_world_db, steps)
    assert r["unnamed"].status_code == 400 and "give the token a name" in r["unnamed"].text.lower()
    assert "will not be shown again" in r["made"].text
    assert r["token"] not in r["listed"].text, "a token is shown once"
    assert r["token"][:8] in r["listed"].text
    body = r["everything"].json()
    assert r["everything"].status_code == 200 and body["total"] == len(sites)
    assert [s["name"] for s in body["sites"]] == sorted(s["name"] for s in body["sites"])
    assert [s["slug"] for s in r["second"].json()["sites"]] == [
        s["slug"] for s in body["sites"][3:6]
    ]
    assert r["too_many"].status_code == 400
    assert r["other_one"].status_code == 404, "scoped like its owner"
    rows = {s["name"]: s for s in body["sites"]}
    assert rows[hidden["name"]]["reliability_index"] is None, "a hidden cell stays empty"
    stored = await TargetIndex.select(
        TargetIndex.target.name.as_alias("name"), TargetIndex.reliability_index
    ).where(
        (TargetIndex.rater_organisation == sponsor["id"])
        & (
            TargetIndex.run
            == (
                await TargetIndex.select(TargetIndex.run)
                .order_by(TargetIndex.run, ascending=False)
                .first()
            )["run"]
        )
        & TargetIndex.shown.eq(True)
    )
    for row in stored:
        assert rows[row["name"]]["reliability_index"] == pytest.approx(row["reliability_index"])
    table = list(csv.DictReader(io.StringIO(r["as_csv"].text)))
    assert r["as_csv"].headers["content-type"].startswith("text/csv")
    assert "attachment" in r["as_csv"].headers["content-disposition"]
    assert len(table) == len(sites)
    by_name = {row["name"]: row for row in table}
    assert by_name[hidden["name"]]["reliability_index"] == ""
    assert '\'=HYPERLINK("http://x")' in by_name, "a formula is defused"
    assert r["nobody"].status_code == 401 and r["wrong"].status_code == 401
    assert r["revoked"].status_code == 303 and r["after"].status_code == 401


async def test_a_new_password_revokes_every_token_and_huge_ids_are_refused(
    world_db: Engine,
) -> None:
    import datetime as dt

    from surveys.accounts.credentials import (
        create_account,
        new_api_token,
        set_password,
        token_account,
    )

    people = await characters()
    now = dt.datetime.now(dt.UTC)
    account = await create_account(people["sponsor user"], [], now)
    token = await new_api_token(account, "BI", now, "someone")
    assert await token_account(token, now) is not None
    await set_password(account, "a brand new long password")
    assert await token_account(token, now) is None, "whoever had the old password made it"

    async def steps(client: AsyncTestClient[Any]) -> Any:
        await sign_in(client, people["sponsor user"], "a brand new long password")
        form = await client.get("/account/tokens/")
        csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        return await client.post(f"/account/tokens/{10**20}/revoke", data={"_csrf_token": csrf})

    assert (await in_browser(world_db, steps)).status_code == 400
