"""Signing in, and who may open which page: the access matrix, and the sponsor's portfolio."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.accounts.credentials import GrantRole, WebSession, create_account
from surveys.directory.audit import Act
from surveys.directory.organisations import Organisation, Person, Relationship
from surveys.results.score_runs import TargetIndex
from surveys.web.app import create_app
from surveys.world.logins import DEMO_PASSWORD, demo_logins
from tests.security.headers import assert_secure_headers
from tests.web.test_survey_form import CSRF, in_browser

pytestmark = pytest.mark.anyio
NOW = dt.datetime.now(dt.UTC)


async def sign_in(client: AsyncTestClient[Any], email: str, password: str = DEMO_PASSWORD) -> Any:
    page = await client.get("/sign-in/")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    return await client.post(
        "/sign-in/",
        data={"email": email, "password": password, "next": "/", "_csrf_token": token},
        follow_redirects=False,
    )


async def characters() -> dict[str, str]:
    """The demo's readers of results, plus an outsider with an account and no grants."""
    logins = {login.who: login.email for login in await demo_logins(NOW)}
    taken = set(logins.values())
    outsider = await Person.select(Person.email).where(Person.email.not_in(list(taken))).first()
    await create_account(outsider["email"], [], NOW, DEMO_PASSWORD)
    return {**logins, "outsider": outsider["email"]}


async def other_sponsor(sponsor_id: int) -> dict[str, Any]:
    """The id and slug of a sponsor other than this one."""
    row = (
        await Organisation.select(Organisation.id, Organisation.slug)
        .where((Organisation.kind == "sponsor") & (Organisation.id != sponsor_id))
        .first()
    )
    return dict(row)


async def organisation_of(email: str) -> dict[str, Any]:
    """The id, slug and network of the organisation a person works at."""
    row = (
        await Person.select(
            Person.organisation.id.as_alias("id"),
            Person.organisation.slug.as_alias("slug"),
            Person.organisation.network.as_alias("network"),
        )
        .where(Person.email == email)
        .first()
    )
    return dict(row)


async def test_signing_in_starts_a_new_session_and_signing_out_ends_it(world_db: Engine) -> None:
    people = await characters()

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        wrong = await sign_in(client, people["sponsor user"], "not the password")
        first = await sign_in(client, people["sponsor user"])
        first_cookie = client.cookies.get("rapport_session")
        second = await sign_in(client, people["sponsor user"])
        second_cookie = client.cookies.get("rapport_session")
        home = await client.get("/")
        client.cookies.set("rapport_session", first_cookie or "")
        stale = await client.get("/", follow_redirects=False)
        client.cookies.set("rapport_session", second_cookie or "")
        token = CSRF.search(home.text).group(1)  # type: ignore[union-attr]
        out = await client.post("/sign-in/out", data={"_csrf_token": token}, follow_redirects=False)
        client.cookies.set("rapport_session", second_cookie or "")
        after = await client.get("/", follow_redirects=False)
        return locals()

    r = await in_browser(world_db, steps)
    assert r["wrong"].status_code == 400 and "do not match" in r["wrong"].text
    assert r["first"].status_code == 303 and r["first_cookie"]
    assert r["second_cookie"] != r["first_cookie"], "a new session id at every sign-in"
    assert r["home"].status_code == 200 and "portfolio" in r["home"].text
    assert r["stale"].status_code == 303, "signing in again ended the previous session"
    assert r["out"].status_code == 303
    assert r["after"].status_code == 303 and "/sign-in" in r["after"].headers["location"]
    assert await WebSession.count() == 0


async def test_guessing_passwords_is_slowed_down(world_db: Engine) -> None:
    people = await characters()

    async def steps(client: AsyncTestClient[Any]) -> list[int]:
        return [
            (await sign_in(client, people["sponsor user"], f"guess {n}")).status_code
            for n in range(12)
        ]

    codes = await in_browser(world_db, steps)
    assert codes[:10] == [400] * 10 and codes[10:] == [429, 429]


async def test_a_reset_link_uses_the_public_address_works_once_and_ends_sessions(
    world_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await characters()
    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RAPPORT_PUBLIC_URL", "http://rapport.example.org")
    email = people["site coordinator"]

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, email)
        old_session = client.cookies.get("rapport_session")
        form = await client.get("/sign-in/forgot")
        token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        asked = await client.post(
            "/sign-in/forgot",
            data={"email": email, "purpose": "reset", "_csrf_token": token},
            headers={"Host": "evil.example"},
        )
        assert asked.status_code == 200, asked.text
        letters = list((tmp_path / "outbox").glob("*.eml"))
        text = message_from_bytes(letters[0].read_bytes()).get_payload(decode=True).decode()
        link = re.search(r"http://\S+", text).group(0)  # type: ignore[union-attr]
        path = link.removeprefix("http://rapport.example.org")
        page = await client.get(path)
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        new = "a much longer password"
        short = await client.post(
            path, data={"password": "short", "again": "short", "_csrf_token": token}
        )
        done = await client.post(
            path, data={"password": new, "again": new, "_csrf_token": token}, follow_redirects=False
        )
        again = await client.post(path, data={"password": new, "again": new, "_csrf_token": token})
        client.cookies.set("rapport_session", old_session or "")
        stale = await client.get("/", follow_redirects=False)
        signed = await sign_in(client, email, new)
        return locals()

    r = await in_browser(world_db, steps)
    assert "If " in r["asked"].text and "link is on its way" in r["asked"].text
    assert r["link"].startswith("http://rapport.example.org/sign-in/reset/"), "never the Host"
    assert r["short"].status_code == 400 and "12 characters" in r["short"].text
    assert r["done"].status_code == 303
    assert r["again"].status_code == 410, "a link works once"
    assert r["stale"].status_code == 303, "a new password signs every session out"
    assert r["signed"].status_code == 303


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    world_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path))

    async def steps(client: AsyncTestClient[Any]) -> Any:
        form = await client.get("/sign-in/forgot")
        token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        return await client.post(
            "/sign-in/forgot",
            data={"email": "nobody@nowhere.example", "purpose": "sign_in", "_csrf_token": token},
        )

    answer = await in_browser(world_db, steps)
    assert answer.status_code == 200 and "link is on its way" in answer.text
    assert not list((tmp_path / "outbox").glob("*.eml")) if (tmp_path / "outbox").exists() else True


PUBLIC = {"/healthz", "/metrics", "/s/{token:str}", "/static/{file_path:path}", "/language"}
"""Routes anyone may reach: health, survey links (their token is the key), the API schema,
the language switch (tests/web/test_languages.py)."""
SIGN_IN = "/sign-in"
"""The sign-in pages: open to everyone by nature."""


async def workspace_pages(people: dict[str, str]) -> dict[str, str]:
    """Every workspace page the characters touch, path → name, each with its API and CSV
    twins ("own portfolio (API)", "own portfolio (CSV)")."""
    sponsor = await organisation_of(people["sponsor user"])
    other = await other_sponsor(sponsor["id"])
    coordinator = await organisation_of(people["site coordinator"])
    network = (
        await Organisation.select(Organisation.slug)
        .where(Organisation.id == coordinator["network"])
        .first()
    )
    elsewhere = (
        await Organisation.select(Organisation.slug)
        .where((Organisation.kind == "site") & (Organisation.network != coordinator["network"]))
        .first()
    )
    tie = await coordinators_tie(people)
    pages = {
        "/": "home",
        "/directory": "directory",
        f"/w/sponsors/{sponsor['slug']}": "own portfolio",
        f"/w/sponsors/{other['slug']}": "other portfolio",
        f"/w/sponsors/{sponsor['slug']}/tiers": "own tiers",
        f"/w/sponsors/{other['slug']}/tiers": "other tiers",
        f"/w/sites/{coordinator['slug']}": "own site",
        f"/w/sites/{elsewhere['slug']}": "other site",
        f"/w/networks/{network['slug']}": "network",
        f"/w/trends/{sponsor['slug']}": "own trends",
        f"/w/trends/{other['slug']}": "other trends",
        f"/w/trends/{network['slug']}": "network trends",
        f"/w/relationships/{tie['slug']}/{coordinator['slug']}/": "meeting",
    }
    cycle = await latest_scored_cycle()
    if cycle is not None:
        cards = f"/w/scorecards/{cycle}/partners"
        far = (
            await Relationship.select(
                Relationship.site.slug.as_alias("site"), Relationship.sponsor.slug.as_alias("by")
            )
            .where(
                (Relationship.sponsor == other["id"])
                & Relationship.cro.is_null()
                & (Relationship.site.network != coordinator["network"])
            )
            .first()
        )
        pages.update(
            {
                f"{cards}/{sponsor['slug']}": "own sponsor scorecard",
                f"{cards}/{other['slug']}": "other sponsor scorecard",
                f"{cards}/{coordinator['slug']}/by/{tie['slug']}": "own site scorecard",
                f"{cards}/{far['site']}/by/{far['by']}": "other site scorecard",
                f"{cards}/{await outside_site(sponsor['id'])}/by/{sponsor['slug']}": (
                    "outside site scorecard"
                ),
                f"/w/scorecards/{cycle}/portfolios/{sponsor['slug']}": "own portfolio scorecard",
                f"/w/scorecards/{cycle}/portfolios/{other['slug']}": "other portfolio scorecard",
                f"/w/scorecards/{cycle}/networks/{network['slug']}": "network scorecard",
            }
        )
    # every API route answers as the page it mirrors: the same reach, JSON or CSV
    for path, name in list(pages.items()):
        for prefix, api in (
            ("/w/sponsors/", "/api/portfolios/"),
            ("/w/trends/", "/api/trends/"),
            ("/w/sites/", "/api/sites/"),
            ("/w/networks/", "/api/networks/"),
        ):
            if path.startswith(prefix):
                pages[path.replace(prefix, api)] = name + " (API)"
                pages[path.replace(prefix, api) + "/csv"] = name + " (CSV)"
        if path.startswith("/w/relationships/"):
            api = path.replace("/w/relationships/", "/api/relationships/") + "actions"
            pages[api], pages[api + "/csv"] = name + " (API)", name + " (CSV)"
    pages["/account/tokens/"] = "home"  # one's own tokens: anyone signed in
    pages["/account/"] = "home"  # one's own account and language: anyone signed in
    return pages


async def latest_scored_cycle() -> str | None:
    """The newest cycle with a score run, if any: its scorecards are the ones to open."""
    from surveys.results.score_runs import scored_cycles

    found = await scored_cycles()
    return str(found[0]["key"]) if found else None


async def outside_site(sponsor_id: int) -> str:
    """The slug of a site the sponsor does not work with (another sponsor does): no one
    opens its scorecard by this sponsor, for there is none."""
    theirs = Relationship.select(Relationship.site).where(Relationship.sponsor == sponsor_id)
    row = (
        await Relationship.select(Relationship.site.slug.as_alias("slug"))
        .where(Relationship.site.not_in(theirs))
        .first()
    )
    return str(row["slug"])


async def coordinators_tie(people: dict[str, str]) -> dict[str, Any]:
    """A relationship of the site coordinator's site, with whichever sponsor works with it."""
    coordinator = await organisation_of(people["site coordinator"])
    row = (
        await Relationship.select(
            Relationship.sponsor, Relationship.cro, Relationship.sponsor.slug.as_alias("slug")
        )
        .where(Relationship.site == coordinator["id"])
        .first()
    )
    return dict(row)


async def test_access_matrix(scored_world_db: Engine) -> None:
    """Every character against every workspace page; a new route must be added here."""
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    pages = await workspace_pages(people)
    tie = await coordinators_tie(people)
    # not "outside site scorecard": a sponsor's view of a site it does not work with is
    # nobody's to open, an administrator's neither
    everything = {
        "home",
        "directory",
        "own portfolio",
        "other portfolio",
        "own tiers",
        "other tiers",
        "own site",
        "other site",
        "network",
        "own trends",
        "other trends",
        "network trends",
        "meeting",
        "own sponsor scorecard",
        "other sponsor scorecard",
        "own site scorecard",
        "other site scorecard",
        "own portfolio scorecard",
        "other portfolio scorecard",
        "network scorecard",
    }
    sponsor_side = {"meeting"} if tie["sponsor"] == sponsor["id"] else set()
    cro = await organisation_of(people["CRO user"]) if "CRO user" in people else {"id": None}
    # a site's scorecard by a sponsor goes to the same people as their review meeting
    sponsor_side |= {"own site scorecard"} if sponsor_side else set()
    allowed = {
        "administrator": everything,
        "sponsor user": {"home", "own portfolio", "own tiers", "own sponsor scorecard"}
        | sponsor_side,
        # works for the sponsor: no site page, which shows other sponsors' views
        # its grant on a network is on the other side, so ignored: no network trends
        "relationship manager": {
            "home",
            "own portfolio",
            "own tiers",
            "own trends",
            "own sponsor scorecard",
        }
        | sponsor_side,
        "CRO user": {"home"}
        | ({"own portfolio"} if await _cro_works_for(people, sponsor) else set())
        | ({"meeting", "own site scorecard"} if tie["cro"] == cro["id"] else set()),
        "site coordinator": {"home", "own site", "meeting", "own site scorecard"},
        "network director": {"home", "own site", "network", "meeting", "own site scorecard"},
        "outsider": {"home"},
    }
    for who in allowed:
        # a portfolio's scorecard goes to whoever reviews its tiers; a network's, to whoever
        # opens its page
        allowed[who] |= {"own portfolio scorecard"} if "own tiers" in allowed[who] else set()
        allowed[who] |= {"network scorecard"} if "network" in allowed[who] else set()
        allowed[who] |= {n + suffix for n in allowed[who] for suffix in (" (API)", " (CSV)")}
    app = create_app()
    routes = {r.path for r in app.routes}
    templates = {
        "/",
        "/directory",
        "/w/sponsors/{slug:str}",
        "/w/sponsors/{slug:str}/tiers",
        "/w/sites/{slug:str}",
        "/w/networks/{slug:str}",
        "/w/trends/{slug:str}",
        "/w/relationships/{sponsor:str}/{site:str}",
        "/account/tokens",
        "/account",
    }
    cards = "/w/scorecards/{cycle:str}/partners/{subject:str}"
    templates |= {cards, f"{cards}/by/{{rater:str}}"}
    # the PDF twins ask the same rule (tests/web/test_scorecards.py); the reply form is
    # the rated partner's (test_scorecards.py too)
    templates |= {f"{cards}/pdf", f"{cards}/by/{{rater:str}}/pdf", f"{cards}/reply"}
    collections = "/w/scorecards/{cycle:str}/{kind:str}/{slug:str}"  # portfolios, networks
    templates |= {collections, f"{collections}/pdf"}
    mirrored = {
        "/api/portfolios/{slug:str}",
        "/api/trends/{slug:str}",
        "/api/sites/{slug:str}",
        "/api/relationships/{sponsor:str}/{site:str}/actions",
        "/api/networks/{slug:str}",
        "/api/portfolios/{slug:str}/tiers",
    }
    templates |= mirrored | {r + "/csv" for r in mirrored}
    posts = {
        "/w/sponsors/{slug:str}/tiers/{site:str}",
        "/w/sponsors/{slug:str}/tiers/{site:str}/accept",  # tests/web/test_tier_review.py
        "/w/sponsors/{slug:str}/tier-acceptance",  # tests/web/test_tier_review.py
        "/w/relationships/{sponsor:str}/{site:str}/actions",
        "/w/relationships/{sponsor:str}/{site:str}/actions/{item:int}",
        "/w/relationships/{sponsor:str}/{site:str}/actions/{item:int}/edit",
        "/account/tokens/{token_id:int}/revoke",
    }
    """Changes, checked by test_tier_review_* and test_both_sides_* below."""
    unlisted = {
        r
        for r in routes
        if r not in templates | posts
        and r not in PUBLIC
        and not r.startswith(SIGN_IN)
        and not r.startswith("/api/cycles")  # administrators' tokens only: tests/web/test_api.py
        and not r.startswith("/schema")
        and not r.startswith("/admin")  # the console's own matrix: tests/web/test_console.py
    }
    assert unlisted == set(), f"add these routes to the access matrix: {sorted(unlisted)}"

    async def steps(client: AsyncTestClient[Any]) -> dict[tuple[str, str], int]:
        seen = {}
        for path, name in pages.items():
            response = await client.get(path, follow_redirects=False)
            assert_secure_headers(response, f"anonymous on {name}")
            seen[("anonymous", name)] = response.status_code
        for who, email in people.items():
            if who not in allowed:
                continue
            client.cookies.clear()
            await sign_in(client, email)
            for path, name in pages.items():
                response = await client.get(path, follow_redirects=False)
                assert_secure_headers(response, f"{who} on {name}")
                seen[(who, name)] = response.status_code
        return seen

    seen = await in_browser(scored_world_db, steps)
    for (who, name), status in seen.items():
        if who == "anonymous" and name.endswith(("(API)", "(CSV)")):
            assert status == 401, f"anonymous on {name}: asked to authenticate"
        elif who == "anonymous":
            assert status == 303, f"anonymous on {name}: sent to sign in"
        elif name in allowed[who]:
            assert status == 200, f"{who} may open {name} (got {status})"
        else:
            assert status == 404, f"{who} may not open {name}, nor learn it exists (got {status})"


async def _cro_works_for(people: dict[str, str], sponsor: dict[str, Any]) -> bool:
    if "CRO user" not in people:
        return False
    cro = await organisation_of(people["CRO user"])
    return bool(
        await Relationship.exists().where(
            (Relationship.cro == cro["id"]) & (Relationship.sponsor == sponsor["id"])
        )
    )


async def test_the_portfolio_shows_the_sponsors_own_scores_and_only_sites_in_reach(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    sponsor_id, slug = sponsor["id"], sponsor["slug"]
    latest = (
        await TargetIndex.select(TargetIndex.run, TargetIndex.cycle)
        .where(TargetIndex.rater_organisation == sponsor_id)
        .order_by(TargetIndex.run, ascending=False)
        .first()
    )
    latest_cycle = latest["cycle"]
    scores = await TargetIndex.select(
        TargetIndex.target.name.as_alias("name"),
        TargetIndex.reliability_index,
        TargetIndex.ri_low,
        TargetIndex.ri_high,
        TargetIndex.shown,
    ).where((TargetIndex.run == latest["run"]) & (TargetIndex.rater_organisation == sponsor_id))

    async def steps(client: AsyncTestClient[Any]) -> str:
        await sign_in(client, people["sponsor user"])
        return (await client.get(f"/w/sponsors/{slug}?sort=name")).text

    html = await in_browser(scored_world_db, steps)
    shown = [s for s in scores if s["shown"] and s["reliability_index"] is not None]
    assert shown, "the demo world gives the sponsor scores to show"
    for s in shown:
        row = re.search(rf">{re.escape(s['name'])}(?:</a>)?</th>(.*?)</tr>", html, re.S)
        assert row, f"{s['name']} is in the portfolio"
        expected = f'{s["reliability_index"]:.0f} <span class="muted">[{s["ri_low"]:.0f}–{s["ri_high"]:.0f}]'
        assert expected in row.group(1)
    hidden = [s for s in scores if not s["shown"]]
    for s in hidden:
        row = re.search(rf">{re.escape(s['name'])}(?:</a>)?</th>(.*?)</tr>", html, re.S)
        assert row and "too few responses" in row.group(1)
    sites = await Relationship.count().where(Relationship.sponsor == sponsor_id)
    sites_table = html.split('<table class="portfolio">', 1)[1].split("</table>", 1)[0]
    assert sites_table.count('<th scope="row">') == sites
    # the response rate is the sponsor's own raters' for that site, in the cycle shown
    from surveys.cycles.invitations import Invitation

    s = shown[0]
    mine = (
        (Invitation.cycle == latest_cycle)
        & (Invitation.target.name == s["name"])
        & (Invitation.relationship.sponsor == sponsor_id)
    )
    rate = await Invitation.count().where(mine & (Invitation.status == "submitted")) / (
        await Invitation.count().where(mine)
    )
    row = re.search(rf">{re.escape(s['name'])}(?:</a>)?</th>(.*?)</tr>", html, re.S)
    assert row and f"{100 * rate:.0f}%" in row.group(1)


async def test_tier_review_overrides_with_a_reason_and_publishing_freezes(
    scored_world_db: Engine,
) -> None:
    from surveys.cycles.cycle import Cycle
    from surveys.directory.audit import AuditEntry
    from surveys.results.tier_assignments import TierAssignment, TierEvent

    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    sponsor_id, slug = sponsor["id"], sponsor["slug"]
    latest = (
        await Cycle.select(Cycle.key)
        .where(Cycle.status == "scored")
        .order_by(Cycle.opens_at, ascending=False)
        .first()
    )
    cycle = latest["key"]
    target = (
        await TierAssignment.select(
            TierAssignment.id,
            TierAssignment.computed_tier,
            TierAssignment.target.slug.as_alias("site"),
        )
        .where((TierAssignment.cycle.key == cycle) & (TierAssignment.assessor == sponsor_id))
        .first()
    )
    other_tier = 1 if target["computed_tier"] != 1 else 2
    where = f"/w/sponsors/{slug}/tiers/{target['site']}"

    async def as_(client: AsyncTestClient[Any], who: str) -> str:
        client.cookies.clear()
        await sign_in(client, people[who])
        page = await client.get(f"/w/sponsors/{slug}/tiers?cycle={cycle}")
        match = CSRF.search(page.text)  # a refused page has no form: take the cookie's
        return match.group(1) if match else str(client.cookies.get("csrftoken", ""))

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        token = await as_(client, "sponsor user")
        form = {"cycle": cycle, "tier": str(other_tier), "_csrf_token": token}
        no_reason = await client.post(where, data={**form, "reason": " "})
        overridden = await client.post(
            where, data={**form, "reason": "<b>Audit</b> findings"}, follow_redirects=False
        )
        page = await client.get(f"/w/sponsors/{slug}/tiers?cycle={cycle}")
        portfolio_page = await client.get(f"/w/sponsors/{slug}?cycle={cycle}")
        publish_by_sponsor = await client.post(
            f"/admin/cycles/{cycle}/publish", data={"_csrf_token": token}, follow_redirects=False
        )
        token = await as_(client, "CRO user") if "CRO user" in people else ""
        cro = await client.post(where, data={**form, "reason": "x", "_csrf_token": token})
        token = await as_(client, "administrator")
        confirm = await client.get(f"/admin/cycles/{cycle}/publish")
        published = await client.post(
            f"/admin/cycles/{cycle}/publish", data={"_csrf_token": token}, follow_redirects=False
        )
        after = await client.post(where, data={**form, "reason": "later", "_csrf_token": token})
        again = await client.post(f"/admin/cycles/{cycle}/publish", data={"_csrf_token": token})
        return locals()

    r = await in_browser(scored_world_db, steps)
    assert r["no_reason"].status_code == 400 and "needs a reason" in r["no_reason"].text
    assert r["overridden"].status_code == 303
    assert "&lt;b&gt;Audit&lt;/b&gt; findings" in r["page"].text, "reasons are shown escaped"
    assert "(reviewed)" in r["portfolio_page"].text
    assert r["publish_by_sponsor"].status_code == 404, "only administrators publish"
    if "CRO user" in people:
        assert r["cro"].status_code == 404, "a CRO user does not review the sponsor's tiers"
    assert (
        "set by a reviewer" in r["confirm"].text.lower() and "cannot be undone" in r["confirm"].text
    )
    assert r["published"].status_code == 303
    assert r["after"].status_code == 400 and "tiers are final" in r["after"].text
    assert r["again"].status_code == 400 and "final" in r["again"].text
    row = await TierAssignment.select().where(TierAssignment.id == target["id"]).first()
    assert row["override_tier"] == other_tier and row["override_reason"] == "<b>Audit</b> findings"
    events = [
        e["kind"]
        for e in await TierEvent.select(TierEvent.kind)
        .where(TierEvent.assignment == target["id"])
        .order_by(TierEvent.id)
    ]
    assert events[-2:] == ["override", "published"]
    actions = [a["action"] for a in await AuditEntry.select(AuditEntry.action)]
    assert actions.count("tier.override") == 1 and actions.count("cycle.publish") == 1
    assert (await Cycle.select(Cycle.status).where(Cycle.key == cycle).first())["status"] == (
        "published"
    )


async def test_a_site_sees_its_results_only_once_published(scored_world_db: Engine) -> None:
    from surveys.cycles.cycle import Cycle
    from surveys.results.tier_review import publish_cycle

    people = await characters()
    me = await organisation_of(people["site coordinator"])
    latest = (
        await Cycle.select(Cycle.key, Cycle.id)
        .where(Cycle.status == "scored")
        .order_by(Cycle.opens_at, ascending=False)
        .first()
    )

    async def look(client: AsyncTestClient[Any]) -> str:
        await sign_in(client, people["site coordinator"])
        return (await client.get(f"/w/sites/{me['slug']}")).text

    before = await in_browser(scored_world_db, look)
    assert "No cycle has been published yet" in before
    await publish_cycle(latest["key"], Act("test", NOW))
    after = await in_browser(scored_world_db, look)
    run = (
        await TargetIndex.select(TargetIndex.run)
        .where(TargetIndex.cycle == latest["id"])
        .order_by(TargetIndex.run, ascending=False)
        .first()
    )
    views = await TargetIndex.select(
        TargetIndex.rater_organisation.name.as_alias("sponsor"),
        TargetIndex.reliability_index,
        TargetIndex.ri_low,
        TargetIndex.ri_high,
        TargetIndex.shown,
    ).where(
        (TargetIndex.run == run["run"])
        & (TargetIndex.target == me["id"])
        & TargetIndex.rater_organisation.is_not_null()
    )
    assert views
    for v in views:
        row = re.search(rf">{re.escape(v['sponsor'])}(?:</a>)?</th>(.*?)</tr>", after, re.S)
        assert row, f"{v['sponsor']}'s view is listed"
        if v["shown"] and v["reliability_index"] is not None:
            assert f"{v['reliability_index']:.0f} <span" in row.group(1)
        else:
            assert "too few responses" in row.group(1)
    mine = await TargetIndex.select(TargetIndex.n_raters, TargetIndex.shown).where(
        (TargetIndex.run == run["run"]) & (TargetIndex.rater_organisation == me["id"])
    )
    for view in mine:
        assert view["shown"] == (view["n_raters"] >= 3), "the site's own view needs k raters"


async def test_a_deactivated_person_loses_their_session_and_links(world_db: Engine) -> None:
    from surveys.accounts.credentials import LinkPurpose, account_for_email, new_link

    people = await characters()
    email = people["sponsor user"]
    who = await account_for_email(email)
    assert who is not None
    token = await new_link(who.account_id, LinkPurpose.sign_in, NOW)

    async def signed_in(client: AsyncTestClient[Any]) -> tuple[int, str]:
        await sign_in(client, email)
        return (await client.get("/", follow_redirects=False)).status_code, str(
            client.cookies.get("rapport_session")
        )

    before, session = await in_browser(world_db, signed_in)
    await Person.update({Person.active: False}).where(Person.email == email)

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        client.cookies.set("rapport_session", session)
        after = await client.get("/", follow_redirects=False)
        client.cookies.clear()
        page = await client.get(f"/sign-in/link/{token}")
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        link = await client.post(
            f"/sign-in/link/{token}", data={"_csrf_token": csrf}, follow_redirects=False
        )
        return locals()

    r = await in_browser(world_db, steps)
    assert before == 200
    assert r["after"].status_code == 303, "deactivating a person ends their session"
    assert r["link"].status_code == 410, "and their links"


async def test_a_link_request_answers_the_same_when_mail_cannot_go(
    world_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import free_port

    people = await characters()
    monkeypatch.setenv("RAPPORT_SMTP_URL", f"smtp+plain://127.0.0.1:{free_port()}")

    async def steps(client: AsyncTestClient[Any]) -> list[Any]:
        answers = []
        for email in (people["sponsor user"], "nobody@nowhere.example"):
            form = await client.get("/sign-in/forgot")
            token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
            answers.append(
                await client.post(
                    "/sign-in/forgot",
                    data={"email": email, "purpose": "reset", "_csrf_token": token},
                )
            )
        return answers

    known, unknown = await in_browser(world_db, steps)
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace(people["sponsor user"], "X") == unknown.text.replace(
        "nobody@nowhere.example", "X"
    )


async def test_grants_across_the_line_are_ignored_and_bad_text_is_refused(
    world_db: Engine,
) -> None:
    """Someone at a network given a sponsor's grant still cannot read its portfolio."""
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    await create_account(
        people["network director"], [(GrantRole.relationship_manager, sponsor["id"])], NOW
    )

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, people["network director"])
        portfolio = await client.get(f"/w/sponsors/{sponsor['slug']}", follow_redirects=False)
        tiers = await client.get(f"/w/sponsors/{sponsor['slug']}/tiers", follow_redirects=False)
        nul = await client.get("/w/sites/a%00b", follow_redirects=False)
        page = await client.get("/sign-in/")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        nul_sign_in = await client.post(
            "/sign-in/", data={"email": "a\x00b@x.example", "password": "x", "_csrf_token": token}
        )
        return locals()

    r = await in_browser(world_db, steps)
    assert r["portfolio"].status_code == 404 and r["tiers"].status_code == 404
    assert r["nul"].status_code in {400, 404}, r["nul"].text
    assert r["nul_sign_in"].status_code == 400


async def test_the_sponsor_sees_how_sites_see_it_against_unnamed_peers(
    scored_world_db: Engine,
) -> None:
    """Its own pooled figures, and the peers' spread only with enough of them: the small
    world's 4 peers are too few for the default of 5 (tests/security/test_peer_disclosure.py
    shows the spread once there are enough, and that it gives no one away)."""
    people = await characters()
    me = await organisation_of(people["sponsor user"])
    run = (
        await TargetIndex.select(TargetIndex.run)
        .where(TargetIndex.rater_organisation == me["id"])
        .order_by(TargetIndex.run, ascending=False)
        .first()
    )["run"]
    pooled = await TargetIndex.select(
        TargetIndex.target,
        TargetIndex.target.name.as_alias("name"),
        TargetIndex.reliability_index,
        TargetIndex.shown,
    ).where(
        (TargetIndex.run == run)
        & TargetIndex.rater_organisation.is_null()
        & TargetIndex.target.kind.is_in(["sponsor", "cro"])
    )

    async def steps(client: AsyncTestClient[Any]) -> tuple[str, str]:
        await sign_in(client, people["sponsor user"])
        mine = (await client.get(f"/w/sponsors/{me['slug']}")).text
        client.cookies.clear()
        await sign_in(client, people["CRO user"])
        cro = (await client.get(f"/w/sponsors/{me['slug']}")).text
        return mine, cro

    html, cro_html = await in_browser(scored_world_db, steps)
    section = html.split('id="how-sites-see-you"', 1)[1]
    row = re.search(r">Reliability index</th>(.*?)</tr>", section, re.S).group(1)  # type: ignore[union-attr]
    own = next(p for p in pooled if p["target"] == me["id"])
    assert own["shown"] and f">{own['reliability_index']:.0f}<" in row
    peers = [p for p in pooled if p["target"] != me["id"] and p["shown"]]
    assert len(peers) == 4, "the small world has 3 sponsors and 2 CROs"
    assert "fewer than 5 peers to compare with" in row
    for peer in pooled:
        if peer["target"] != me["id"]:
            assert peer["name"] not in section, "peers are never named"
    assert 'id="how-sites-see-you"' not in cro_html, "the sponsor's feedback is not the CRO's"


async def test_a_relationship_manager_compares_sites_over_the_cycles(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    sponsor = await organisation_of(people["relationship manager"])
    sites = (
        await Relationship.select(
            Relationship.site.slug.as_alias("slug"),
            Relationship.site.name.as_alias("name"),
            Relationship.site.id.as_alias("id"),
        )
        .where(Relationship.sponsor == sponsor["id"])
        .order_by(Relationship.site.name)
    )
    hidden, kept = sites[0], sites[1]
    await TargetIndex.update({TargetIndex.shown: False}).where(
        (TargetIndex.target == hidden["id"]) & (TargetIndex.rater_organisation == sponsor["id"])
    )
    stored = await TargetIndex.select(TargetIndex.reliability_index).where(
        (TargetIndex.target == kept["id"]) & (TargetIndex.rater_organisation == sponsor["id"])
    )

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, people["relationship manager"])
        home = await client.get("/")
        default = await client.get(f"/w/trends/{sponsor['slug']}")
        chosen = await client.get(
            f"/w/trends/{sponsor['slug']}?org={hidden['slug']}&org={kept['slug']}&q=zzz-none"
        )
        return locals()

    r = await in_browser(scored_world_db, steps)
    assert f"/w/trends/{sponsor['slug']}" in r["home"].text
    assert r["default"].status_code == 200
    page = r["chosen"].text
    for section in ("Movers since", "Escalation flags in", "Side by side", "Dimensions in"):
        assert section in page
    assert page.count('class="chart"') >= 3, "two compared sites and how sites see the sponsor"
    assert page.count('<svg class="heat-map"') == 1
    # the hidden site: charted as empty, its figures never printed
    figures = page.split("The figures as a table", 1)[1].split("</table>", 1)[0]
    hidden_rows = [row for row in figures.split("<tr>") if hidden["name"] in row]
    assert hidden_rows and all("too few responses" in row for row in hidden_rows)
    for row in stored:
        assert f"{row['reliability_index']:.0f} <span" in figures
    assert "No other organisation matches" in page, "the search found nothing, the ticked stay"
    assert f'value="{hidden["slug"]}" checked' in page and f'value="{kept["slug"]}" checked' in page


async def test_both_sides_of_a_relationship_work_on_its_action_items(
    scored_world_db: Engine,
) -> None:
    from surveys.results.meetings import ActionItem
    from surveys.results.tier_review import publish_all_but_latest

    await publish_all_but_latest("test", NOW)
    people = await characters()
    site = await organisation_of(people["site coordinator"])
    tie = (
        await Relationship.select(Relationship.sponsor.slug.as_alias("slug"))
        .where(Relationship.site == site["id"])
        .first()
    )
    where = f"/w/relationships/{tie['slug']}/{site['slug']}/"

    async def as_(client: AsyncTestClient[Any], who: str) -> str:
        client.cookies.clear()
        await sign_in(client, people[who])
        page = await client.get(where)
        match = CSRF.search(page.text)
        return match.group(1) if match else str(client.cookies.get("csrftoken", ""))

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        token = await as_(client, "site coordinator")
        form = {
            "title": "Send <b>enrolment</b> forecasts monthly",
            "owner": "Site director",
            "side": "site",
            "due_on": (NOW.date() + dt.timedelta(days=60)).isoformat(),
            "_csrf_token": token,
        }
        refused = await client.post(where + "actions", data={**form, "due_on": "next week"})
        added = await client.post(where + "actions", data=form, follow_redirects=False)
        item = int(added.headers["location"].rsplit("-", 1)[1])
        site_view = await client.get(where)
        moved = await client.post(
            where + f"actions/{item}",
            data={"status": "in_progress", "_csrf_token": token},
            follow_redirects=False,
        )
        wrong = await client.post(
            where + f"actions/{item}", data={"status": "finished", "_csrf_token": token}
        )
        token = await as_(client, "outsider")
        outsider = await client.post(
            where + f"actions/{item}", data={"status": "done", "_csrf_token": token}
        )
        token = await as_(client, "administrator")
        admin_view = await client.get(where)
        return locals()

    r = await in_browser(scored_world_db, steps)
    assert r["refused"].status_code == 400 and "YYYY-MM-DD" in r["refused"].text
    assert 'value="Site director"' in r["refused"].text, "what was typed is kept"
    assert r["added"].status_code == 303
    assert "Send &lt;b&gt;enrolment&lt;/b&gt; forecasts monthly" in r["site_view"].text
    assert "Agenda" in r["site_view"].text
    assert r["moved"].status_code == 303
    assert r["wrong"].status_code == 400 and "open, in progress, done or dropped" in r["wrong"].text
    assert r["outsider"].status_code == 404
    assert "in progress" in r["admin_view"].text
    row = await ActionItem.select(ActionItem.status, ActionItem.title).first()
    assert row == {"status": "in_progress", "title": "Send <b>enrolment</b> forecasts monthly"}


async def test_unknown_filters_a_page_past_the_end_and_guessed_pages_are_told_and_logged(
    scored_world_db: Engine,
) -> None:
    import logging

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    # the app's logging set-up replaces the root's handlers: listen on the module's logger
    messages: list[str] = []
    kept, logger = Kept(), logging.getLogger("surveys.web.pages")
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    other = await other_sponsor(sponsor["id"])
    where = f"/w/sponsors/{sponsor['slug']}"

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, people["sponsor user"])
        plain = await client.get(where)
        odd = await client.get(
            where, params={"network": "Nowhere <b>", "cycle": "1999-Q1", "tier": "9"}
        )
        past = await client.get(f"/api/portfolios/{sponsor['slug']}", params={"page": 99})
        guessed = await client.get(f"/w/sponsors/{other['slug']}")
        return locals()

    logger.addHandler(kept)
    try:
        r = await in_browser(scored_world_db, steps)
    finally:
        logger.removeHandler(kept)
    assert r["odd"].status_code == 400
    text = r["odd"].text
    assert "no network “Nowhere &lt;b&gt;”" in text and "no scored cycle “1999-Q1”" in text
    assert "no tier “9”" in text
    count = re.compile(r"(\d+) of (\d+) sites")
    assert count.search(text).groups() == count.search(r["plain"].text).groups()  # type: ignore[union-attr]
    assert r["past"].status_code == 400 and "past the last page" in r["past"].json()["detail"]
    assert r["guessed"].status_code == 404
    assert any("out of reach" in m and other["slug"] in m for m in messages), messages
