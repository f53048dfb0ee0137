"""The survey link: the form a respondent answers, and the page for every other state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from scoring.config import ScoringConfig
from surveys.answering import (
    COMMENT_LIMIT,
    CheckedForm,
    FormAnswers,
    SaveOutcome,
    draft_answers,
    mark_opened,
    read_form,
    save_answers,
)
from surveys.invitations import LinkState, LinkView, link_view
from surveys.questionnaires import privacy_note, questionnaire_for
from surveys.web.contexts import LinkContext, SurveyContext

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
"""The URL is a secret: keep it out of caches and out of other sites' Referer."""
NOTICES = {
    "saved": "Your answers are saved. This link brings you back to them until the survey closes."
}


class SurveyController(Controller):
    """`/s/<token>`: open → the form; submitted, expired, unknown → their own page."""

    @get("/s/{token:str}", name="survey-link")
    async def show(self, token: FromPath[str], request: Request[Any, Any, Any]) -> Template:
        """Show the form (with any draft), or the page for the link's state."""
        now = dt.datetime.now(dt.UTC)
        link = await link_view(token, now)
        if link.state != LinkState.open or link.invitation_id is None:
            return state_page(link)
        await mark_opened(link.invitation_id, now)
        answers = await draft_answers(link.invitation_id)
        notice = NOTICES.get(request.query_params.get("notice", ""))
        return await form_page(token, link, CheckedForm(answers, {}), notice, 200)

    @post("/s/{token:str}", name="survey-answer")
    async def answer(
        self, token: FromPath[str], data: URLEncodedBody[dict[str, str]]
    ) -> Template | Redirect:
        """Save a draft or submit; on errors show the form again with every answer kept."""
        now = dt.datetime.now(dt.UTC)
        link = await link_view(token, now)
        if link.state != LinkState.open or link.invitation_id is None or link.instrument_id is None:
            return state_page(link)
        submitting = data.get("action") == "submit"
        questionnaire = await questionnaire_for(
            link.instrument_id, link.partner or "", link.language
        )
        checked = read_form(questionnaire, data, submitting)
        if checked.errors:
            return await form_page(token, link, checked, None, 400)
        outcome = await save_answers(
            link.invitation_id, questionnaire, checked.answers, submitting, now
        )
        if outcome == SaveOutcome.saved:
            return Redirect(f"/s/{token}?notice=saved", status_code=303, headers=PRIVATE)
        # submitted now or before, or closed meanwhile: the link's page says which
        return Redirect(f"/s/{token}", status_code=303, headers=PRIVATE)


def state_page(link: LinkView) -> Template:
    """The page for a link that leads to no form: submitted, expired or unknown."""
    status = {LinkState.unknown: 404, LinkState.expired: 410}.get(link.state, 200)
    return Template(
        "pages/link.html", context={"page": LinkContext(link)}, status_code=status,
        headers=PRIVATE,
    )  # fmt: skip


async def form_page(
    token: str, link: LinkView, checked: CheckedForm, notice: str | None, status: int
) -> Template:
    """The form, filled with `checked`'s answers and showing its errors."""
    assert link.instrument_id is not None
    partner = link.partner or ""
    questionnaire = await questionnaire_for(link.instrument_id, partner, link.language)
    context = SurveyContext(
        link=link,
        questionnaire=questionnaire,
        answers=checked.answers,
        errors=checked.errors,
        answered=answered(checked.answers),
        questions=len(questionnaire.likert_keys) + 1,
        notice=notice,
        privacy=privacy_note(questionnaire.direction, partner, ScoringConfig()),
        comment_limit=COMMENT_LIMIT,
        token=token,
    )
    return Template(
        "pages/survey.html", context={"page": context}, status_code=status, headers=PRIVATE
    )


def answered(answers: FormAnswers) -> int:
    """Questions answered: statements (N/A counts) and the overall question."""
    return len(answers.likert) + (answers.overall is not None)
