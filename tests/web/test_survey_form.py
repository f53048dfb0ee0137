"""The survey form: draft and resume, validation, CSRF, one response however often it is submitted."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.infra.database import use_engine
from surveys.infra.settings import load_settings
from surveys.infra.tokens import new_token, token_hash
from surveys.instruments.questionnaires import Questionnaire, questionnaire_for
from surveys.responses.answering import COMMENT_LIMIT, field_name
from surveys.responses.answers import Answer, Response
from surveys.web.app import create_app
from tests.conftest import url_of

pytestmark = pytest.mark.anyio
T = TypeVar("T")
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def in_browser(engine: Engine, steps: Callable[[AsyncTestClient[Any]], Awaitable[T]]) -> T:
    """Run `steps` against the app on `engine`'s database, as one browser with its cookies."""
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url_of(engine)
    try:
        async with AsyncTestClient(app=create_app(load_settings())) as client:
            return await steps(client)
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        use_engine(engine)  # the test's own engine again, for its checks


async def fresh_link(invitation_id: int) -> str:
    """A new survey link for the invitation (its old one stops working), valid for a week."""
    token = new_token()
    await Invitation.update(
        {
            Invitation.token_hash: token_hash(token),
            Invitation.expires_at: dt.datetime.now(dt.UTC) + dt.timedelta(days=7),
        }
    ).where(Invitation.id == invitation_id)
    return token


async def open_invitation() -> tuple[str, int, Questionnaire]:
    """Give an unanswered invitation of the open cycle a known token; return it."""
    invitation = (
        await Invitation.select(
            Invitation.id, Invitation.instrument, Invitation.target.name, Invitation.cycle
        )
        .where((Invitation.status == "sent") & (Invitation.cycle.status == "open"))
        .first()
    )
    token = await fresh_link(invitation["id"])
    questionnaire = await questionnaire_for(
        invitation["instrument"], invitation["target.name"], "en"
    )
    return token, invitation["id"], questionnaire


def complete(q: Questionnaire, comment: str = "") -> dict[str, str]:
    """A full set of answers: statements 4 (every third not applicable), overall 8."""
    form = {field_name(key): ("na" if i % 3 == 2 else "4") for i, key in enumerate(q.likert_keys)}
    form[field_name(q.importance_keys[0])] = "5"
    form[field_name(q.overall_key)] = "8"
    form[field_name(q.comment_key)] = comment
    return form


async def post(client: AsyncTestClient[Any], token: str, form: dict[str, str], action: str) -> Any:
    """GET the form (for its CSRF token), then POST it back with `action`."""
    page = await client.get(f"/s/{token}")
    match = CSRF.search(page.text)
    assert match, page.text[:500]
    return await client.post(
        f"/s/{token}", data={**form, "action": action, "_csrf_token": match.group(1)}
    )


async def stored(invitation_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    responses = await Response.select().where(Response.invitation == invitation_id)
    answers = await Answer.select(
        Answer.item.key.as_alias("key"), Answer.value, Answer.not_applicable, Answer.text
    ).where(Answer.response.invitation == invitation_id)
    return responses, answers


async def test_the_form_shows_every_question_with_its_choices(world_db: Engine) -> None:
    token, _, q = await open_invitation()
    page = await in_browser(world_db, lambda c: c.get(f"/s/{token}"))
    assert page.status_code == 200
    html = page.text
    assert page.headers["cache-control"] == "no-store"
    assert html.count("<fieldset") == len(q.likert_keys) + len(q.importance_keys) + 1
    assert html.count('value="na"') == len(q.likert_keys), "N/A on every statement"
    assert html.count("<legend>") == len(q.likert_keys) + len(q.importance_keys) + 1
    assert f'name="{field_name(q.comment_key)}"' in html
    assert "never sees your name" in html or "without your name" in html
    status = await Invitation.select(Invitation.status).where(
        Invitation.token_hash == token_hash(token)
    )
    assert status[0]["status"] == "opened"


async def test_a_post_without_the_csrf_token_is_refused(world_db: Engine) -> None:
    token, invitation_id, q = await open_invitation()

    async def forged(client: AsyncTestClient[Any]) -> Any:
        await client.get(f"/s/{token}")
        return await client.post(f"/s/{token}", data={**complete(q), "action": "submit"})

    response = await in_browser(world_db, forged)
    assert response.status_code == 403
    assert await stored(invitation_id) == ([], [])


async def test_a_draft_is_kept_and_the_same_link_resumes_it(world_db: Engine) -> None:
    token, invitation_id, q = await open_invitation()
    first, second = q.likert_keys[:2]
    draft = {
        field_name(first): "2",
        field_name(second): "na",
        field_name(q.comment_key): "So far <script>alert(1)</script>",
    }

    async def save_then_resume(client: AsyncTestClient[Any]) -> tuple[Any, Any]:
        saved = await post(client, token, draft, "save")
        return saved, await client.get(f"/s/{token}?notice=saved")

    saved, resumed = await in_browser(world_db, save_then_resume)
    assert [r.status_code for r in saved.history] == [303], "saved, then shown again"
    html = resumed.text
    assert "Your answers are saved" in html
    assert re.search(rf'name="{field_name(first)}" value="2" checked', html)
    assert re.search(rf'name="{field_name(second)}" value="na" checked', html)
    assert ">So far &lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html, "shown as text"
    assert "<script>alert(1)" not in html
    assert "Answered 2 of" in html
    responses, answers = await stored(invitation_id)
    assert [r["status"] for r in responses] == ["draft"]
    assert len(answers) == 3
    invitation = await Invitation.select(Invitation.status).where(Invitation.id == invitation_id)
    assert invitation[0]["status"] == "in_progress"


async def test_submitting_with_gaps_shows_every_problem_and_keeps_every_answer(
    world_db: Engine,
) -> None:
    token, invitation_id, q = await open_invitation()
    form = complete(q, comment="Keep this")
    missing = q.likert_keys[5]
    del form[field_name(missing)]
    del form[field_name(q.overall_key)]
    response = await in_browser(world_db, lambda c: post(c, token, form, "submit"))
    assert response.status_code == 400
    html = response.text
    assert "Please check 2 answers" in html
    assert f'href="#question-{missing}"' in html
    assert f'aria-describedby="error-{missing}"' in html and 'aria-invalid="true"' in html
    assert "Please choose a number from 0 to 10." in html
    assert re.search(rf'name="{field_name(q.likert_keys[0])}" value="4" checked', html)
    assert ">Keep this</textarea>" in html
    assert await stored(invitation_id) == ([], []), "nothing is stored from a failed submit"


async def test_a_submission_is_stored_once_and_then_read_only(world_db: Engine) -> None:
    token, invitation_id, q = await open_invitation()
    form = complete(q, comment="<script>alert(1)</script> =SUM(A1)")

    async def submit_twice(client: AsyncTestClient[Any]) -> tuple[Any, Any, Any]:
        first = await post(client, token, form, "submit")
        again = await client.post(
            f"/s/{token}",
            data={
                **form,
                field_name(q.overall_key): "0",
                "action": "submit",
                "_csrf_token": client.cookies.get("csrftoken", ""),
            },
        )
        return first, again, await client.get(f"/s/{token}")

    first, again, page = await in_browser(world_db, submit_twice)
    # both end on the thank-you page (after the redirect that keeps a refresh from re-posting)
    assert "your answers are in" in first.text and "your answers are in" in again.text
    assert "your answers are in" in page.text
    responses, answers = await stored(invitation_id)
    assert [r["status"] for r in responses] == ["submitted"]
    by_key = {a["key"]: a for a in answers}
    assert by_key[q.overall_key]["value"] == 8, "the second submit changed nothing"
    assert sum(a["not_applicable"] for a in answers) == len(q.likert_keys) // 3
    assert by_key[q.comment_key]["text"] == "<script>alert(1)</script> =SUM(A1)"
    assert len(answers) == len(q.likert_keys) + 3  # one importance, overall, comment


async def test_two_submits_at_once_leave_one_response(world_db: Engine) -> None:
    token, invitation_id, q = await open_invitation()
    form = complete(q)

    async def race(client: AsyncTestClient[Any]) -> list[Any]:
        page = await client.get(f"/s/{token}")
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        data = {**form, "action": "submit", "_csrf_token": csrf}
        return await asyncio.gather(*(client.post(f"/s/{token}", data=data) for _ in range(4)))

    results = await in_browser(world_db, race)
    assert all(r.status_code in (200, 303) for r in results)
    responses, answers = await stored(invitation_id)
    assert len(responses) == 1
    assert len(answers) == len(q.likert_keys) + 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"first": "9"}, "This is not one of the choices."),
        ({"overall": "11"}, "This is not one of the choices."),
        ({"comment": "x" * (COMMENT_LIMIT + 1)}, "Please shorten your comment"),
    ],
)
async def test_values_off_the_form_are_refused(
    world_db: Engine, change: dict[str, str], message: str
) -> None:
    token, invitation_id, q = await open_invitation()
    form = complete(q)
    names = {"first": q.likert_keys[0], "overall": q.overall_key, "comment": q.comment_key}
    form.update({field_name(names[k]): v for k, v in change.items()})
    response = await in_browser(world_db, lambda c: post(c, token, form, "save"))
    assert response.status_code == 400
    assert message in response.text
    assert await stored(invitation_id) == ([], [])


async def test_answers_to_a_closed_cycle_are_not_stored(world_db: Engine) -> None:
    token, invitation_id, q = await open_invitation()

    async def open_form(client: AsyncTestClient[Any]) -> tuple[str, dict[str, str]]:
        page = await client.get(f"/s/{token}")
        return CSRF.search(page.text).group(1), dict(client.cookies)  # type: ignore[union-attr]

    csrf, cookies = await in_browser(world_db, open_form)
    # the cycle closes while the form is open in the respondent's browser
    cycle = await Invitation.select(Invitation.cycle).where(Invitation.id == invitation_id)
    await Cycle.update({Cycle.status: "closed"}).where(Cycle.id == cycle[0]["cycle"])

    async def submit(client: AsyncTestClient[Any]) -> Any:
        client.cookies.update(cookies)
        return await client.post(
            f"/s/{token}", data={**complete(q), "action": "submit", "_csrf_token": csrf}
        )

    response = await in_browser(world_db, submit)
    assert response.status_code == 410
    assert "has closed" in response.text
    assert await stored(invitation_id) == ([], [])


async def test_guessing_links_is_slowed_but_answering_never_is(
    world_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_LINK_RATE", "5")
    token, _, q = await open_invitation()

    async def answer_often(client: AsyncTestClient[Any]) -> list[int]:
        return [(await post(client, token, complete(q), "save")).status_code for _ in range(8)]

    assert await in_browser(world_db, answer_often) == [200] * 8, "a real link is never limited"

    async def guess(client: AsyncTestClient[Any]) -> list[Any]:
        return [await client.get("/s/" + "C" * 43) for _ in range(7)]

    responses = await in_browser(world_db, guess)
    assert [r.status_code for r in responses] == [404] * 5 + [429, 429]
    assert "Please wait a moment" in responses[-1].text
    assert responses[-1].headers["retry-after"] == "60"
    page = await in_browser(world_db, lambda c: c.get("/"))
    assert page.status_code == 200, "other pages are not limited"


async def test_control_characters_never_reach_the_database(world_db: Engine) -> None:
    token, invitation_id, q = await open_invitation()
    form = {field_name(q.comment_key): "fine\x00 thanks\x07\r\nbye"}
    response = await in_browser(world_db, lambda c: post(c, token, form, "save"))
    assert response.status_code == 200
    _, answers = await stored(invitation_id)
    assert [a["text"] for a in answers] == ["fine thanks\nbye"]


async def test_switching_language_keeps_every_answer(world_db: Engine) -> None:
    token, invitation_id, q = await open_invitation()
    first = q.likert_keys[0]
    japanese = await questionnaire_for(q.instrument_id, "X", "ja")

    async def switch(client: AsyncTestClient[Any]) -> Any:
        page = await client.get(f"/s/{token}")
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        data = {
            field_name(first): "5",
            field_name(q.comment_key): "ありがとう",
            "lang": "ja",
            "lang_shown": "en",
            "action": "language",
            "_csrf_token": csrf,
        }
        return await client.post(f"/s/{token}", data=data)

    page = await in_browser(world_db, switch)
    html = page.text
    assert page.status_code == 200
    assert '<html lang="ja">' in html
    assert japanese.sections[0].name in html and "保存して後で続ける" in html
    assert re.search(rf'name="{field_name(first)}" value="5" checked', html)
    assert ">ありがとう</textarea>" in html
    responses, answers = await stored(invitation_id)
    assert [(r["status"], r["language"]) for r in responses] == [("draft", "ja")]
    assert {(a["key"], a["value"]) for a in answers if a["value"] is not None} == {(first, 5)}


async def test_pages_without_a_person_follow_the_browser_language(world_db: Engine) -> None:
    response = await in_browser(
        world_db, lambda c: c.get("/s/" + "D" * 43, headers={"Accept-Language": "de-DE,de;q=0.9"})
    )
    assert response.status_code == 404
    assert '<html lang="de">' in response.text
    assert "Wir konnten diesen Umfragelink nicht finden" in response.text


async def test_an_empty_submit_names_each_problem_once_and_links_its_questions_by_number(
    world_db: Engine,
) -> None:
    token, _, q = await open_invitation()
    response = await in_browser(world_db, lambda c: post(c, token, {}, "submit"))
    assert response.status_code == 400
    html = response.text
    summary = html[
        html.index('<div class="error-summary"') : html.index(
            "</div>", html.index('<div class="error-summary"')
        )
    ]
    assert f"Please check {len(q.likert_keys) + 1} answers" in summary
    assert summary.count("Please choose an answer, or “Not applicable”.") == 1, "said once"
    assert summary.count("Please choose a number from 0 to 10.") == 1
    links = re.findall(
        r'<a href="#question-([\w-]+)"><span class="visually-hidden">Question </span>(\d+)</a>',
        summary,
    )
    assert links == [(key, str(n)) for n, key in enumerate((*q.likert_keys, q.overall_key), 1)]
    assert ". :" not in html and ".:" not in summary
    for key, n in links:  # each number is the one its question shows
        assert re.search(rf'id="question-{key}">\s*<legend><span class="number">{n}\.</span>', html)


async def test_the_language_switch_is_at_the_top_and_enter_there_saves_the_draft(
    world_db: Engine,
) -> None:
    token, invitation_id, q = await open_invitation()
    first = q.likert_keys[0]

    async def enter(client: AsyncTestClient[Any]) -> tuple[str, Any]:
        page = (await client.get(f"/s/{token}")).text
        # Enter in a form presses its first button: the language switch's, language unchanged
        form = {field_name(first): "3", "lang": "en", "lang_shown": "en"}
        return page, await post(client, token, form, "language")

    page, saved = await in_browser(world_db, enter)
    form = page[page.index("<form") :]
    assert form.index('id="language-switch"') < form.index("<h1>") < form.index("<fieldset")
    assert re.search(r'<button type="submit"[^>]*>', form).group(0) == (  # type: ignore[union-attr]
        '<button type="submit" name="action" value="language">'
    )
    assert 'href="#language-switch"' not in page, "no link jumps to the bottom any more"
    assert [r.status_code for r in saved.history] == [303]
    assert "notice=saved" in str(saved.url) and "Your answers are saved" in saved.text
    assert re.search(rf'name="{field_name(first)}" value="3" checked', saved.text)
    responses, _ = await stored(invitation_id)
    assert [(r["status"], r["language"]) for r in responses] == [("draft", "en")]


async def test_importance_is_asked_once_after_every_dimension_one_short_row_each(
    world_db: Engine,
) -> None:
    token, _, q = await open_invitation()
    html = (await in_browser(world_db, lambda c: c.get(f"/s/{token}"))).text
    grid = html.index('<section class="dimension importance-grid"')
    last_statement = html.index(f'id="question-{q.likert_keys[-1]}"')
    assert last_statement < grid < html.index(f'id="question-{q.overall_key}"')
    rows = re.findall(
        r'<fieldset class="question importance" id="question-([\w-]+)" '
        r'aria-describedby="importance-scale">\s*<legend>([^<]+)</legend>',
        html,
    )
    assert [key for key, _ in rows] == list(q.importance_keys)
    assert [name for _, name in rows] == [s.name for s in q.sections if s.importance_key]
    assert html.count("How important is this to your site?") == 1, "the prompt is asked once"
    for key in q.importance_keys:
        assert html.count(f'name="{field_name(key)}"') == 5
