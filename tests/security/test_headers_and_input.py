"""The probe's findings on secrets, headers and bad input, replayed against the app.

Each test plays the request the outside probe sent and asserts the fixed answer: link
tokens kept out of logs and Referer, the headers every response carries, numbers read
from ASCII digits only, checked cycle keys, direction controls kept inside people's
text, an oversized form refused unread, and the small ones. The header check over every
route of the access matrices is in tests/web/test_workspaces.py and test_console.py
(`tests.security.headers.assert_secure_headers`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.accounts.credentials import GrantRole
from surveys.cycles.cycle import Cycle, CycleError, checked_cycle_key
from surveys.directory.organisations import Organisation
from surveys.infra.numbers import whole_number
from surveys.infra.templating import contained_direction, environment
from surveys.infra.tokens import new_token
from surveys.responses.answering import field_name
from surveys.web.headers import redacted
from tests.security.headers import assert_secure_headers
from tests.web.test_api import token_of, with_api
from tests.web.test_survey_form import CSRF, complete, in_browser, open_invitation, stored
from tests.web.test_workspaces import characters, organisation_of, sign_in

pytestmark = pytest.mark.anyio

# 9. secrets in the access log, and on the pages whose address is one


def test_no_link_token_reaches_the_access_log() -> None:
    from surveys.web.app import RedactSecretPaths

    for path in ("/s/{}?lang=fr", "/sign-in/link/{}", "/sign-in/reset/{}"):
        token = new_token()
        record = logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "GET", path.format(token), "1.1", 200),
            None,
        )
        assert RedactSecretPaths().filter(record)
        assert token not in record.getMessage()
        assert path.format("[redacted]") in record.getMessage()
    assert redacted("/w/sites/s/x") == "/w/sites/s/x", "only whole secret paths"


async def test_link_pages_send_no_referrer_and_are_not_stored(world_db: Engine) -> None:
    async def steps(client: AsyncTestClient[Any]) -> list[Any]:
        return [
            await client.get(path)
            for path in (
                "/sign-in/link/" + "A" * 43,
                "/sign-in/reset/" + "B" * 43,
                "/s/" + "C" * 43,
            )
        ]

    for response in await in_browser(world_db, steps):
        assert response.headers["referrer-policy"] == "no-referrer", response.url
        assert_secure_headers(response, str(response.url))


# 10. headers everywhere, and an API reference with no third party


async def test_every_kind_of_answer_carries_the_headers_and_the_schema_is_self_contained(
    world_db: Engine,
) -> None:
    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        answers = {
            path: await client.get(path, headers={"Accept": "text/html"})
            for path in ("/sign-in/", "/no/such/page", "/schema", "/api/cycles", "/healthz")
        }
        page = answers["/schema"].text
        assets = re.findall(r'(?:src|href)="([^"]+)"', page)
        answers["assets"] = {a: await client.get(a) for a in assets}
        answers["static"] = await client.get("/static/rapport.css")
        return answers

    answers = await in_browser(world_db, steps)
    for path in ("/sign-in/", "/no/such/page", "/schema", "/api/cycles", "/healthz"):
        assert_secure_headers(answers[path], path)
    assets = answers["assets"]
    assert assets, "the reference page loads its scripts and styles"
    assert all(a.startswith("/static/") for a in assets), f"third-party assets: {list(assets)}"
    assert all(r.status_code == 200 for r in assets.values())
    assert "<script>" not in answers["/schema"].text, "no inline script"
    assert "cache-control" not in answers["static"].headers, "static files may be cached"
    assert answers["static"].headers["x-content-type-options"] == "nosniff"


def test_the_policy_allows_the_scorecard_stylesheet_and_nothing_inline_else() -> None:
    from surveys.scorecards import inline_styles
    from surveys.web.headers import content_security_policy, style_hash

    policy = content_security_policy(inline_styles())
    assert all(style_hash(css) in policy for css in inline_styles())
    assert style_hash("body { color: red }") not in policy
    assert "'unsafe-inline'" not in policy.replace("style-src-attr 'unsafe-inline'", "")


# 11. numbers from ASCII digits only


def test_whole_numbers_are_ascii_digits_only() -> None:
    assert [whole_number(t) for t in ("0", "7", "042")] == [0, 7, 42]
    assert [whole_number(t) for t in ("²", "٣", "३", "-1", "1.0", " 3", "", None)] == [None] * 8
    assert whole_number("9" * 30) is None and whole_number("5", largest=4) is None


async def test_unicode_digits_in_a_survey_answer_are_refused_not_stored(world_db: Engine) -> None:
    token, invitation_id, q = await open_invitation()

    async def steps(client: AsyncTestClient[Any]) -> list[Any]:
        page = await client.get(f"/s/{token}")
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        sent = []
        for digit in ("²", "٣"):
            form = {**complete(q), field_name(q.likert_keys[0]): digit}
            sent.append(
                await client.post(
                    f"/s/{token}", data={**form, "action": "save", "_csrf_token": csrf}
                )
            )
        return sent

    for response in await in_browser(world_db, steps):
        assert response.status_code == 400
        assert 'class="error-summary"' in response.text
    assert await stored(invitation_id) == ([], []), "nothing stored"


# 12. cycle keys


def test_cycle_keys_follow_the_documented_pattern() -> None:
    for key in ("2027-Q1", "h2.2027", "wave_3", "a" * 40):
        assert checked_cycle_key(key) == key
    for key in ('../../x"<>', "..", ".hidden", "a/b", "a" * 41, "", "2027 Q1", "Q１"):
        with pytest.raises(CycleError, match="letters, digits"):
            checked_cycle_key(key)


async def test_the_api_and_the_cli_refuse_a_bad_cycle_key(world_db: Engine, tmp_path: Path) -> None:
    admin = {"Authorization": f"Bearer {await token_of(GrantRole.administrator)}"}
    closes = (dt.date.today() + dt.timedelta(days=30)).isoformat()

    async def steps(client: AsyncTestClient[Any]) -> list[Any]:
        return [
            await client.post("/api/cycles", json={"key": key, "closes_on": closes}, headers=admin)
            for key in ('../../x"<>', "k" * 41)
        ]

    for response in await with_api(world_db, tmp_path, steps):
        assert response.status_code == 400, response.text
        assert "key" in response.text
    assert not await Cycle.exists().where(Cycle.key.like("%x%") | Cycle.key.like("kkkk%"))


# 13. direction controls kept inside people's text


def test_direction_controls_are_closed_inside_the_text_that_opens_them() -> None:
    rlo, pdf, rli, pdi = "\u202e", "\u202c", "\u2067", "\u2069"
    assert contained_direction(f"bad{rlo}text") == f"bad{rlo}text{pdf}"
    assert contained_direction(f"a{rli}b{rlo}c") == f"a{rli}b{rlo}c{pdf}{pdi}"
    assert contained_direction(f"closed{rlo}x{pdf}") == f"closed{rlo}x{pdf}"
    assert contained_direction("plain") == "plain"
    page = environment().from_string("<p>{{ name }} scores {{ score }}</p>")
    shown = page.render(name=f"Kestrel{rlo}<b>", score=72)
    assert shown == f"<p>Kestrel{rlo}&lt;b&gt;{pdf} scores 72</p>"


# 14. an oversized survey body


async def test_an_oversized_survey_form_is_refused_unread_and_not_echoed(world_db: Engine) -> None:
    token, invitation_id, q = await open_invitation()
    huge = "x" * 5_000_000

    async def steps(client: AsyncTestClient[Any]) -> list[Any]:
        page = await client.get(f"/s/{token}")
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        form = {**complete(q, huge), "action": "save", "_csrf_token": csrf}
        return [
            await client.post(f"/s/{token}", data=form, headers={"Accept": accept})
            for accept in ("text/html", "application/json")
        ]

    browser, program = await in_browser(world_db, steps)
    assert browser.status_code == program.status_code == 413
    assert "text/html" in browser.headers["content-type"]
    assert "shorten" in browser.text and len(browser.content) < 20_000
    assert len(program.content) < 1_000 and "xxxxxxxx" not in program.text
    assert await stored(invitation_id) == ([], [])


# the portfolio page, the tier review and the CSV as a sponsor sees them


async def test_a_sponsors_pages_refuse_odd_input_and_contain_odd_names(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    where = f"/w/sponsors/{sponsor['slug']}"
    rlo = "\u202e"
    site = await Organisation.select(Organisation.id, Organisation.name).where(
        Organisation.kind == "site"
    )
    for row in site:  # every site, so that the sponsor's portfolio shows one
        await Organisation.update({Organisation.name: row["name"] + rlo + " (test)"}).where(
            Organisation.id == row["id"]
        )

    outside = await _site_outside(sponsor["id"])

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, people["sponsor user"])
        superscript = await client.get(where, params={"page": "²"})
        review = await client.get(f"{where}/tiers")
        csrf = CSRF.search(review.text).group(1)  # type: ignore[union-attr]
        cycle = re.search(r'name="cycle" value="([^"]+)"', review.text).group(1)  # type: ignore[union-attr]
        overrides = {
            slug: await client.post(
                f"{where}/tiers/{slug}",
                data={"cycle": cycle, "tier": "2", "reason": "probe", "_csrf_token": csrf},
            )
            for slug in ("no-such-site", outside)
        }
        superscript_count = await client.post(
            f"/w/sponsors/{sponsor['slug']}/tier-acceptance",
            data={"cycle": cycle, "expected": "²", "_csrf_token": csrf},
        )
        csv = await client.get(f"/api/portfolios/{sponsor['slug']}/csv")
        return {
            "superscript": superscript,
            "superscript_count": superscript_count,
            "overrides": overrides,
            "csv": csv,
            "page": review,
        }

    seen = await in_browser(scored_world_db, steps)
    assert seen["superscript"].status_code == 400
    assert seen["superscript_count"].status_code == 400, "a count in other digits is no count"
    assert "no page “²”" in seen["superscript"].text or "page" in seen["superscript"].text
    answers = list(seen["overrides"].values())
    for answer in answers:
        assert answer.status_code == 400
        assert "not in this cycle&#39;s review" in answer.text, answer.text[:2000]
    first, second = (re.sub(r"no-such-site|[a-z0-9-]+(?=: this)", "", a.text) for a in answers)
    assert first.count("not in this cycle") == second.count("not in this cycle")
    assert seen["csv"].headers["content-type"] == "text/csv; charset=utf-8"
    html = seen["page"].text
    assert rlo in html
    for match in re.finditer(rlo, html):
        assert "\u202c" in html[match.end() : html.index("<", match.end())], "contained"


async def _site_outside(sponsor_id: int) -> str:
    """The slug of a site that has no relationship with this sponsor (so not in its review)."""
    from surveys.directory.organisations import Relationship

    mine = await Relationship.select(Relationship.site).where(Relationship.sponsor == sponsor_id)
    taken = [r["site"] for r in mine]
    row = (
        await Organisation.select(Organisation.slug)
        .where((Organisation.kind == "site") & Organisation.id.not_in(taken or [0]))
        .first()
    )
    return str(row["slug"])


# 15. the small ones


def test_a_nul_refused_by_postgresql_is_not_logged_as_an_uncaught_error() -> None:
    from asyncpg.exceptions import CharacterNotInRepertoireError

    from surveys.web.app import log_exception

    logged: list[str] = []

    class Logger:
        def error(self, message: str, *args: Any) -> None:
            logged.append(message % args)

    try:
        raise CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00")
    except CharacterNotInRepertoireError:
        log_exception(Logger(), {"type": "http", "path": "/s/x"}, ["Traceback"])  # type: ignore[arg-type, typeddict-item]
    assert logged == []
    try:
        raise RuntimeError("a real fault")
    except RuntimeError:
        log_exception(Logger(), {"type": "http", "path": "/s/secret"}, ["Traceback"])  # type: ignore[arg-type, typeddict-item]
    assert logged and "secret" not in logged[0]


def test_a_command_without_a_database_leaves_no_file_behind(tmp_path: Path) -> None:
    from tests.surveys.cli.test_cli import here

    missing = tmp_path / "var" / "rapport.sqlite"
    result = here("cycle", "status", "2026-Q1", env={"DATABASE_URL": f"sqlite:///{missing}"})
    assert result.returncode == 1
    assert "run `rapport migrate`" in result.stderr
    assert not missing.exists()
