"""The survey link: the form a respondent answers, and the page for every other state."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from markupsafe import Markup, escape

from surveys.attempts import AttemptLimit
from surveys.cycles.invitations import LinkState, LinkView, link_view
from surveys.infra.database import current_engine, database_identity
from surveys.infra.i18n import (
    LANGUAGES,
    N_,
    Text,
    choose_language,
    language_from_header,
    long_date,
    translated,
)
from surveys.infra.settings import programme_scoring_config
from surveys.instruments.questionnaires import privacy_note, questionnaire_for
from surveys.responses.answering import (
    COMMENT_LIMIT,
    CheckedForm,
    FormAnswers,
    SaveOutcome,
    draft_answers,
    draft_language,
    read_form,
    save_answers,
)
from surveys.web.contexts import LinkContext, SurveyContext
from surveys.web.opened_marks import OpenedMarks

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
"""The URL is a secret: keep it out of caches and out of other sites' Referer."""
FORM_BODY_LIMIT = COMMENT_LIMIT * 4 * 3 + 16 * 1024
"""Bytes a survey form's POST may have: the longest comment in 4-byte characters, each
percent-encoded, and room for every other field. Anything larger is no respondent's
form: it is refused (413) before it is read, and never echoed back."""
NOTICES = {
    "saved": Text(
        N_("Your answers are saved. This link brings you back to them until the survey closes.")
    ),
}
Any_Request = Request[Any, Any, Any]


class SurveyController(Controller):
    """`/s/<token>`: open → the form; submitted, expired, unknown → their own page."""

    @get("/s/{token:str}", name="survey-link")
    async def show(self, token: FromPath[str], request: Any_Request) -> Template:
        """Show the form (with any draft), or the page for the link's state."""
        now = dt.datetime.now(dt.UTC)
        link = await looked_up(token, now, request)
        if isinstance(link, Template):
            return link
        if link.state != LinkState.open or link.invitation_id is None:
            return state_page(link, request)
        if link.status in {"created", "sent"}:
            opened: OpenedMarks = request.app.state.opened
            opened.note(link.invitation_id, now)
        # only a link in progress has a draft to read back
        drafted = link.status == "in_progress"
        answers = await draft_answers(link.invitation_id) if drafted else FormAnswers()
        language = choose_language(
            request.query_params.get("lang"),
            await draft_language(link.invitation_id) if drafted else None,
            link.language,
            language_from_header(request.headers.get("accept-language")),
        )
        notice = NOTICES.get(request.query_params.get("notice", ""))
        return await form_page(
            token, link, language, CheckedForm(answers, {}), notice, 200, request
        )

    @post("/s/{token:str}", name="survey-answer", request_max_body_size=FORM_BODY_LIMIT)
    async def answer(
        self, token: FromPath[str], data: URLEncodedBody[dict[str, str]], request: Any_Request
    ) -> Template | Redirect:
        """Save a draft, switch language or submit; on errors show the form with every answer."""
        now = dt.datetime.now(dt.UTC)
        link = await looked_up(token, now, request)
        if isinstance(link, Template):
            return link
        if link.state != LinkState.open or link.invitation_id is None or link.instrument_id is None:
            return state_page(link, request)
        action = data.get("action", "save")
        submitting = action == "submit"
        # the form says which language it was shown in; switching saves a draft in the new one
        shown_in = choose_language(data.get("lang_shown"), link.language)
        language = choose_language(data.get("lang"), shown_in) if action == "language" else shown_in
        questionnaire = await questionnaire_for(link.instrument_id, link.partner or "", language)
        checked = read_form(questionnaire, data, submitting)
        if checked.errors:
            return await form_page(token, link, shown_in, checked, None, 400, request)
        outcome = await save_answers(
            link.invitation_id, questionnaire, checked.answers, submitting, now, language
        )
        if outcome == SaveOutcome.saved:
            # Enter in the form presses its first button, the language switch at the top: with
            # the language unchanged that is a save, and says so
            switched = action == "language" and language != shown_in
            notice = "" if switched else "notice=saved&"
            return Redirect(f"/s/{token}?{notice}lang={language}", status_code=303, headers=PRIVATE)
        # submitted now or before, or closed meanwhile: the link's page says which
        return Redirect(f"/s/{token}?lang={language}", status_code=303, headers=PRIVATE)


async def looked_up(token: str, now: dt.datetime, request: Any_Request) -> LinkView | Template:
    """Return what a link leads to, or a "please wait" page for an address that keeps guessing.

    The link is always looked up first, so a working link opens from any address, even
    one that is over its limit (a hospital's staff may share it with a guesser). Only a
    lookup that found nothing is counted, and it is counted and judged in one step
    (`AttemptLimit.take`): however many unknown links one address asks for at once, at most
    RAPPORT_LINK_RATE a minute are answered "no such link", the rest "please wait".
    """
    link = await link_view(token, now)
    if link.state != LinkState.unknown:
        return link
    guesses: AttemptLimit = request.app.state.guesses
    if await guesses.take(request.client.host if request.client else "unknown"):
        return link
    language = choose_language(language_from_header(request.headers.get("accept-language")))
    return Template(
        "pages/too_many.html",
        context=translated({}, language),
        status_code=429,
        headers={**PRIVATE, "Retry-After": "60"},
    )


def state_page(link: LinkView, request: Any_Request) -> Template:
    """The page for a link that leads to no form: submitted, expired or unknown."""
    language = choose_language(
        request.query_params.get("lang"),
        link.language if link.partner else None,
        language_from_header(request.headers.get("accept-language")),
    )
    status = {LinkState.unknown: 404, LinkState.expired: 410}.get(link.state, 200)
    return Template(
        "pages/link.html",
        context=translated({"page": LinkContext(link=link)}, language),
        status_code=status,
        headers=PRIVATE,
    )


async def form_page(
    token: str,
    link: LinkView,
    language: str,
    checked: CheckedForm,
    notice: Text | None,
    status: int,
    request: Any_Request,
) -> Template:
    """The form, filled with `checked`'s answers and showing its errors."""
    if link.instrument_id is None:
        raise ValueError("an open link always has an instrument")
    partner = link.partner or ""
    questionnaire = await questionnaire_for(link.instrument_id, partner, language)
    privacy = privacy_note(questionnaire.direction, partner, programme_scoring_config())
    context = SurveyContext(
        link=link,
        questionnaire=questionnaire,
        answers=checked.answers,
        errors={key: text.render(language) for key, text in checked.errors.items()},
        answered=answered(checked.answers),
        questions=len(questionnaire.likert_keys) + 1,
        notice=notice.render(language) if notice else None,
        privacy=privacy.render(language),
        comment_limit=COMMENT_LIMIT,
        token=token,
        language=language,
        languages=LANGUAGES,
        closes=long_date(link.closes_at, language) if link.closes_at else None,
    )
    if not checked.errors and checked.answers == FormAnswers():
        blank = replace(
            context, questionnaire=await questionnaire_for(link.instrument_id, PARTNER, language)
        )
        context = replace(context, questions_html=blank_questions(request, blank, partner))
    return Template(
        "pages/survey.html",
        context=translated({"page": context}, language),
        status_code=status,
        headers=PRIVATE,
    )


PREVIEW_PARTNER = "Example Partner"
"""The partner a preview of a questionnaire rates."""


async def preview_page(
    instrument_id: int, cycle: str, language: str, request: Any_Request
) -> Template:
    """A questionnaire exactly as a respondent sees it, for an administrator to check: the
    same page and questions, about an example partner, with nothing to post it to."""
    link = LinkView(
        LinkState.open,
        partner=PREVIEW_PARTNER,
        cycle=cycle,
        language=language,
        instrument_id=instrument_id,
    )
    page = await form_page(
        "preview", link, language, CheckedForm(FormAnswers(), {}), None, 200, request
    )
    page.context["page"] = replace(page.context["page"], preview=True)
    return page


_blank_questions: dict[tuple[str, int, str], str] = {}
BLANK_CACHE_SIZE = 256
"""Fresh forms kept rendered: one per instrument version and language."""
PARTNER = "\ue000partner\ue000"
"""Stands for the partner's name in a kept form (private-use characters: never in a text,
left alone by HTML escaping)."""


def blank_questions(request: Any_Request, context: SurveyContext, partner: str) -> Markup:
    """Return the questions of a fresh form, rendered once per instrument and language.

    They are most of the page and, before anything is answered, the same for everyone
    but for the partner's name; rendering them for each respondent cost about 5 ms a
    view. `context` is the form about `PARTNER`, whose escaped name then takes its place.
    """
    q = context.questionnaire
    key = (database_identity(current_engine()), q.instrument_id, context.language)
    if key not in _blank_questions:
        if len(_blank_questions) >= BLANK_CACHE_SIZE:
            _blank_questions.pop(next(iter(_blank_questions)))
        engine = request.app.template_engine
        if not isinstance(engine, JinjaTemplateEngine):
            raise TypeError("the survey form's questions are Jinja templates")
        environment = engine.engine
        template = environment.get_template("pages/_questions.html")
        _blank_questions[key] = template.render(translated({"page": context}, context.language))
    return Markup(_blank_questions[key].replace(PARTNER, str(escape(partner))))  # noqa: S704  (our own template's escaped output, an escaped name)


def answered(answers: FormAnswers) -> int:
    """Questions answered: statements (N/A counts) and the overall question."""
    return len(answers.likert) + (answers.overall is not None)
