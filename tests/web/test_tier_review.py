"""The sponsor's tier review: accepting computed tiers, one or all, audited; the sites it
lacks and why; nothing accepted once published; the command line doing the same."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.cli._run import RapportGroup
from surveys.cli.tiers import tiers
from surveys.cycles.cycle import Cycle
from surveys.directory.audit import Act, AuditEntry
from surveys.directory.organisations import Organisation
from surveys.results.score_runs import TargetIndex
from surveys.results.tier_assignments import TierAssignment
from surveys.results.tier_review import publish_cycle
from tests.conftest import url_of
from tests.web.test_survey_form import CSRF, in_browser
from tests.web.test_workspaces import characters, organisation_of, sign_in

COUNT = re.compile(r"(\d+) sites; (\d+) with a reviewed tier")
RAPPORT = RapportGroup(commands={"tiers": tiers})
"""The group as `rapport` holds it: an expected failure is one line, status 1."""


async def latest_cycle() -> dict[str, Any]:
    """The id and key of the scored cycle awaiting its tier review."""
    row = (
        await Cycle.select(Cycle.id, Cycle.key)
        .where(Cycle.status == "scored")
        .order_by(Cycle.opens_at, ascending=False)
        .first()
    )
    return dict(row)


async def tiers_of(cycle_id: int, sponsor_id: int) -> list[dict[str, Any]]:
    """The sponsor's tier assignments in the cycle, by site slug."""
    rows = await TierAssignment.select(
        TierAssignment.id,
        TierAssignment.target._.slug.as_alias("site"),
        TierAssignment.override_tier,
        TierAssignment.accepted_by,
        TierAssignment.accepted_at,
    ).where((TierAssignment.cycle == cycle_id) & (TierAssignment.assessor == sponsor_id))
    return sorted(rows, key=lambda r: str(r["site"]))


async def accept_audits() -> list[str]:
    """The site of every `tier.accept` entry in the audit log."""
    rows = (
        await AuditEntry.select(AuditEntry.detail)
        .where(AuditEntry.action == "tier.accept")
        .output(load_json=True)
    )
    return sorted(str(r["detail"]["site"]) for r in rows)


async def untier(cycle_id: int, sponsor_id: int, site: str, rated: bool) -> str:
    """Make a site of the portfolio one the run gave no tier: hidden for too few responses
    (`rated`) or not rated at all; returns its name."""
    found = await Organisation.select(Organisation.id, Organisation.name).where(
        Organisation.slug == site
    )
    site_id, name = found[0]["id"], found[0]["name"]
    scope = (
        (TargetIndex.cycle == cycle_id)
        & (TargetIndex.rater_organisation == sponsor_id)
        & (TargetIndex.target == site_id)
    )
    if rated:
        await TargetIndex.update({TargetIndex.shown: False, TargetIndex.n_raters: 1}).where(scope)
    else:
        await TargetIndex.delete().where(scope)
    await TierAssignment.delete().where(
        (TierAssignment.cycle == cycle_id)
        & (TierAssignment.assessor == sponsor_id)
        & (TierAssignment.target == site_id)
    )
    return str(name)


@pytest.mark.anyio
async def test_accepting_one_then_all_is_shown_counted_audited_and_frozen_by_publishing(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    cycle = await latest_cycle()
    before = await tiers_of(cycle["id"], sponsor["id"])
    hidden = await untier(cycle["id"], sponsor["id"], before[0]["site"], rated=True)
    unrated = await untier(cycle["id"], sponsor["id"], before[1]["site"], rated=False)
    shown = [row["site"] for row in before[2:]]
    first, rest = shown[0], shown[1:]
    review = f"/w/sponsors/{sponsor['slug']}/tiers?cycle={cycle['key']}"
    everything = f"/w/sponsors/{sponsor['slug']}/tier-acceptance"

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, people["outsider"])
        token = CSRF.search((await client.get("/")).text).group(1)  # type: ignore[union-attr]
        outsider = [
            await client.post(path, data={"cycle": cycle["key"], "_csrf_token": token})
            for path in (f"/w/sponsors/{sponsor['slug']}/tiers/{first}/accept", everything)
        ]
        client.cookies.clear()
        await sign_in(client, people["sponsor user"])
        start = await client.get(review)
        form = {"cycle": cycle["key"], "_csrf_token": CSRF.search(start.text).group(1)}  # type: ignore[union-attr]
        accepted = await client.post(
            f"/w/sponsors/{sponsor['slug']}/tiers/{first}/accept", data=form
        )
        again = await client.post(f"/w/sponsors/{sponsor['slug']}/tiers/{first}/accept", data=form)
        confirm = await client.get(f"{review}&confirm=accept-all")
        stale = await client.post(everything, data={**form, "expected": str(len(rest) + 1)})
        accepted_all = await client.post(everything, data={**form, "expected": str(len(rest))})
        api = await client.get(f"/api/portfolios/{sponsor['slug']}/tiers?cycle={cycle['key']}")
        client.cookies.clear()
        await sign_in(client, people["administrator"])
        token = CSRF.search((await client.get(review)).text).group(1)  # type: ignore[union-attr]
        form = {"cycle": cycle["key"], "_csrf_token": token}
        await client.post(f"/admin/cycles/{cycle['key']}/publish", data=form)
        after = await client.post(everything, data={**form, "expected": "0"})
        one_after = await client.post(
            f"/w/sponsors/{sponsor['slug']}/tiers/{first}/accept", data=form
        )
        return locals()

    r = await in_browser(scored_world_db, steps)
    assert [o.status_code for o in r["outsider"]] == [404, 404], "no hint the review exists"
    start = COUNT.search(r["start"].text)
    assert start and start.groups() == (str(len(shown)), "0")
    assert f"{hidden}: no index this cycle: too few responses (1 rater)" in r["start"].text
    assert f"{unrated}: not rated this cycle" in r["start"].text
    assert "2 more of the portfolio's sites have no computed tier" in r["start"].text

    page = r["accepted"].text  # the redirect, followed: the review again
    one = COUNT.search(page)
    assert one and one.groups() == (str(len(shown)), "1"), "the count goes up by one"
    assert "Accepted by Kevin Sutton on " in page and page.count("Not yet reviewed") == len(rest)
    assert r["again"].status_code == 200, "a second click accepts nothing more"

    assert f"Accept {len(rest)} computed tiers?" in r["confirm"].text
    assert f'name="expected" value="{len(rest)}"' in r["confirm"].text
    assert f"Accept {len(rest)} computed tiers</button>" in r["confirm"].text
    assert r["stale"].status_code == 400 and "review changed since you looked" in r["stale"].text

    done = COUNT.search(r["accepted_all"].text)
    assert done and done.groups() == (str(len(shown)), str(len(shown)))
    assert "Not yet reviewed" not in r["accepted_all"].text
    assert 'class="accept' not in r["accepted_all"].text, "nothing is left to accept"
    api = r["api"].json()
    assert all(s["reviewed"] and s["accepted_by"] == "Kevin Sutton" for s in api["sites"])
    assert {u["name"] for u in api["untiered"]} == {hidden, unrated}

    rows = await tiers_of(cycle["id"], sponsor["id"])
    assert all(row["accepted_at"] is not None and row["accepted_by"] for row in rows)
    assert await accept_audits() == sorted(shown), "one audit entry per site, no more"

    for refused in (r["after"], r["one_after"]):
        assert refused.status_code == 400 and "tiers are final" in refused.text
    assert 'class="accept' not in r["after"].text, "a published review offers no acceptance"
    assert await accept_audits() == sorted(shown), "nothing accepted once published"


def rapport(engine: Engine, tmp_path: Path, *args: str) -> Result:
    environment = {"DATABASE_URL": url_of(engine), "RAPPORT_VAR_DIR": str(tmp_path / "var")}
    return CliRunner().invoke(RAPPORT, list(args), env=environment)


def test_the_command_accepts_one_site_or_all_and_stops_once_published(
    scored_world_db: Engine, tmp_path: Path
) -> None:
    people = asyncio.run(characters())
    sponsor = asyncio.run(organisation_of(people["sponsor user"]))
    cycle = asyncio.run(latest_cycle())
    sites = [row["site"] for row in asyncio.run(tiers_of(cycle["id"], sponsor["id"]))]
    base = ("tiers", "accept", "--cycle", cycle["key"], "--sponsor", sponsor["slug"])

    neither = rapport(scored_world_db, tmp_path, *base)
    assert neither.exit_code == 2 and "either --all or --site" in neither.output
    one = rapport(scored_world_db, tmp_path, *base, "--site", sites[0])
    assert one.exit_code == 0 and "Accepted 1 computed tier(s)" in one.output, one.output
    every = rapport(scored_world_db, tmp_path, *base, "--all")
    assert every.exit_code == 0, every.output
    assert f"Accepted {len(sites) - 1} computed tier(s)" in every.output

    rows = asyncio.run(tiers_of(cycle["id"], sponsor["id"]))
    assert all(row["accepted_at"] is not None for row in rows)
    assert all(row["accepted_by"] is None for row in rows), "a command is no signed-in person"
    assert asyncio.run(accept_audits()) == sorted(sites)
    actors = AuditEntry.select(AuditEntry.actor).where(AuditEntry.action == "tier.accept")
    assert all(a["actor"].startswith("cli") for a in actors.run_sync())

    asyncio.run(publish_cycle(cycle["key"], Act("test", dt.datetime.now(dt.UTC))))
    late = rapport(scored_world_db, tmp_path, *base, "--all")
    assert late.exit_code == 1 and "tiers are final" in late.output
