"""What a respondent does with the form: read it, check it, keep a draft, submit once.

The form works without JavaScript, so everything arrives as one POST of text fields.
Reading the form never trusts it: every value is checked against the questionnaire
(a tampered value is an error, not a stored answer). Saving is one transaction that
first takes the invitation's lock, so two submits at once (a double click, two tabs)
leave exactly one response, and a submitted response is never changed again.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from scoring.items import IMPORTANCE_POINTS
from surveys.cycles.cycle import Cycle, CycleStatus
from surveys.cycles.invitations import Invitation, InvitationStatus
from surveys.infra.i18n import N_, Text
from surveys.infra.numbers import whole_number
from surveys.infra.sql_scripts import Script, Statement, run_script
from surveys.instruments.questionnaires import (
    OVERALL_POINTS,
    Questionnaire,
    instrument_rows,
)
from surveys.responses.answers import (
    Answer,
    AnswerRow,
    Response,
    ResponseStatus,
    answers_digest,
)

NOT_APPLICABLE = "na"
"""The form value of "Not applicable" on a Likert question."""
COMMENT_LIMIT = 4000
"""Characters a comment may have: a long paragraph, not a document."""
FIELD_PREFIX = "item-"
"""Form fields are named `item-<item key>`, so no item key can clash with a control."""


def field_name(key: str) -> str:
    """Return the form field of an item."""
    return f"{FIELD_PREFIX}{key}"


@dataclass(frozen=True)
class FormAnswers:
    """The answers on a form: what the respondent chose, nothing more."""

    likert: dict[str, int | None] = field(default_factory=dict)
    """Item key → 1…A, or None for "Not applicable"; unanswered items are absent."""
    importance: dict[str, int] = field(default_factory=dict)
    overall: int | None = None
    comment: str = ""


@dataclass(frozen=True)
class CheckedForm:
    """A form as read: its answers and, per item key, what is wrong with it."""

    answers: FormAnswers
    errors: dict[str, Text]


def read_form(
    questionnaire: Questionnaire, form: Mapping[str, str], submitting: bool
) -> CheckedForm:
    """Return the answers in a posted form and an error for each item that needs one.

    A draft may leave anything out; a submission needs every statement answered (or
    marked not applicable) and the overall question. Importance and the comment are
    always optional. Values that are not among the choices are errors either way.
    """
    errors: dict[str, Text] = {}
    not_a_choice = Text(N_("This is not one of the choices."))
    likert: dict[str, int | None] = {}
    for key in questionnaire.likert_keys:
        raw = form.get(field_name(key), "").strip()
        if raw == NOT_APPLICABLE:
            likert[key] = None
        elif raw:
            value = _choice(raw, range(1, questionnaire.scale_points + 1))
            if value is None:
                errors[key] = not_a_choice
            else:
                likert[key] = value
        elif submitting:
            errors[key] = Text(N_("Please choose an answer, or “Not applicable”."))
    importance: dict[str, int] = {}
    for key in questionnaire.importance_keys:
        raw = form.get(field_name(key), "").strip()
        if raw:
            value = _choice(raw, range(1, IMPORTANCE_POINTS + 1))
            if value is None:
                errors[key] = not_a_choice
            else:
                importance[key] = value
    raw = form.get(field_name(questionnaire.overall_key), "").strip()
    overall = _choice(raw, OVERALL_POINTS) if raw else None
    if raw and overall is None:
        errors[questionnaire.overall_key] = not_a_choice
    elif overall is None and submitting:
        errors[questionnaire.overall_key] = Text(N_("Please choose a number from 0 to 10."))
    comment = without_control_characters(form.get(field_name(questionnaire.comment_key), ""))
    if len(comment) > COMMENT_LIMIT:
        errors[questionnaire.comment_key] = Text(
            N_("Please shorten your comment to %(limit)s characters (it has %(length)s)."),
            {"limit": COMMENT_LIMIT, "length": len(comment)},
        )
    return CheckedForm(FormAnswers(likert, importance, overall, comment), errors)


def without_control_characters(text: str) -> str:
    """Return text with line breaks made plain and other control characters removed.

    A NUL cannot be stored in PostgreSQL, and no one types the others on purpose.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()


def _choice(raw: str, allowed: range) -> int | None:
    """Return `raw` as one of the allowed whole numbers, or None."""
    value = whole_number(raw, allowed.stop)
    return value if value in allowed else None


class SaveOutcome(StrEnum):
    """What became of a save or a submit."""

    saved = "saved"
    submitted = "submitted"
    already_submitted = "already_submitted"
    """Submitted before (another tab, a double click): nothing was changed."""
    closed = "closed"
    """The cycle closed or the link expired meanwhile: nothing was stored."""


async def save_answers(
    invitation_id: int,
    questionnaire: Questionnaire,
    answers: FormAnswers,
    submit: bool,
    now: dt.datetime,
    language: str | None = None,
) -> SaveOutcome:
    """Store the form's answers as the invitation's draft, or submit them; once only.

    All in one transaction, with the invitation locked first: a second submit waits
    for the first, then finds the response submitted and changes nothing. The cycle
    is share-locked too, so closing it waits for this answer, or this answer sees the
    cycle closed.
    """
    item_ids = (await instrument_rows(questionnaire.instrument_id)).item_ids
    engine = Invitation._meta.db
    status = ResponseStatus.submitted if submit else ResponseStatus.draft
    rows = _answer_rows(item_ids, questionnaire, answers)
    shown_in = language or questionnaire.language  # the interface's, which a resume keeps
    return await run_script(
        engine, _saving(engine.engine_type, invitation_id, status, rows, shown_in, now)
    )


def _saving(
    engine_type: str,
    invitation_id: int,
    status: ResponseStatus,
    answers: list[AnswerRow],
    language: str,
    now: dt.datetime,
) -> Script[SaveOutcome]:
    """The statements of `save_answers`: check the invitation, write the response and answers."""
    found = yield Statement(_INVITATION_QUERY[engine_type], (invitation_id,))
    if not found:
        return SaveOutcome.closed
    invitation = found[0]
    if invitation["status"] == InvitationStatus.submitted:
        return SaveOutcome.already_submitted
    expired = invitation["expires_at"] is not None and invitation["expires_at"] <= now
    if invitation["cycle_status"] != CycleStatus.open or expired:
        return SaveOutcome.closed
    submit = status == ResponseStatus.submitted
    submitted_at = now if submit else None
    digest = answers_digest(answers) if submit else None
    if invitation["response"] is None:
        created = yield Statement(
            f"INSERT INTO {_RESPONSE} (invitation, status, language, started_at, updated_at,"  # noqa: S608
            " submitted_at, answers_digest) VALUES ({}, {}, {}, {}, {}, {}, {}) RETURNING id",
            (invitation_id, status.value, language, now, now, submitted_at, digest),
        )
        response_id = int(created[0]["id"])
    else:
        response_id = int(invitation["response"])
        yield Statement(
            f"UPDATE {_RESPONSE} SET status = {{}}, language = {{}}, updated_at = {{}},"  # noqa: S608
            " submitted_at = {}, answers_digest = {} WHERE id = {}",
            (status.value, language, now, submitted_at, digest, response_id),
        )
        yield Statement(f"DELETE FROM {_ANSWER} WHERE response = {{}}", (response_id,))  # noqa: S608
    if answers:
        yield Statement(
            f"INSERT INTO {_ANSWER} (response, item, value, not_applicable, text)"  # noqa: S608
            " VALUES ({}, {}, {}, {}, {})",
            many=[(response_id, *answer) for answer in answers],
        )
    invitation_status = InvitationStatus.submitted if submit else InvitationStatus.in_progress
    yield Statement(
        f"UPDATE {_INVITATION} SET status = {{}}, submitted_at = {{}} WHERE id = {{}}",  # noqa: S608
        (invitation_status.value, submitted_at, invitation_id),
    )
    return SaveOutcome.submitted if submit else SaveOutcome.saved


_INVITATION = Invitation._meta.get_formatted_tablename()
_RESPONSE = Response._meta.get_formatted_tablename()
_ANSWER = Answer._meta.get_formatted_tablename()
_INVITATION_BEFORE_SAVING = f"""
    SELECT i.status, i.expires_at, c.status AS cycle_status, r.id AS response
    FROM {_INVITATION} AS i
    JOIN {Cycle._meta.get_formatted_tablename()} AS c ON c.id = i.cycle
    LEFT JOIN {_RESPONSE} AS r ON r.invitation = i.id
    WHERE i.id = {{}}
"""  # noqa: S608  (Rapport's own table names; the id is a bound parameter)
_INVITATION_QUERY = {
    # BEGIN IMMEDIATE already holds SQLite's one write lock
    "sqlite": _INVITATION_BEFORE_SAVING,
    "postgres": _INVITATION_BEFORE_SAVING + " FOR UPDATE OF i FOR SHARE OF c",
}
"""The invitation, its cycle's status and its response, if any; locked where locks are rows."""


def _answer_rows(
    item_ids: dict[str, int], questionnaire: Questionnaire, answers: FormAnswers
) -> list[AnswerRow]:
    """The form's answers as Answer rows, less the response: item, value, not applicable, text."""
    rows: list[tuple[int, int | None, bool, str | None]] = [
        (item_ids[key], value, value is None, None) for key, value in answers.likert.items()
    ]
    rows += [(item_ids[key], value, False, None) for key, value in answers.importance.items()]
    if answers.overall is not None:
        rows.append((item_ids[questionnaire.overall_key], answers.overall, False, None))
    if answers.comment:
        rows.append((item_ids[questionnaire.comment_key], None, False, answers.comment))
    return rows


async def draft_answers(invitation_id: int) -> FormAnswers:
    """Return the answers kept for an invitation (its draft), or an empty form."""
    rows = await Answer.select(
        Answer.item._.key.as_alias("key"),
        Answer.item._.kind.as_alias("kind"),
        Answer.value,
        Answer.not_applicable,
        Answer.text,
    ).where(Answer.response._.invitation == invitation_id)
    likert: dict[str, int | None] = {}
    importance: dict[str, int] = {}
    overall, comment = None, ""
    for row in rows:
        if row["kind"] == "likert":
            likert[row["key"]] = None if row["not_applicable"] else row["value"]
        elif row["kind"] == "importance" and row["value"] is not None:
            importance[row["key"]] = row["value"]
        elif row["kind"] == "overall":
            overall = row["value"]
        elif row["kind"] == "text":
            comment = row["text"] or ""
    return FormAnswers(likert, importance, overall, comment)


async def draft_language(invitation_id: int) -> str | None:
    """Return the language a draft was last saved in, if there is a draft."""
    row = (
        await Response.select(Response.language).where(Response.invitation == invitation_id).first()
    )
    return None if row is None else str(row["language"])


async def mark_opened(first_opened: Mapping[int, dt.datetime]) -> None:
    """Record when links were first opened (for the cycle's status report), many at once.

    An invitation that got further meanwhile (in progress, submitted) keeps its status.
    """
    if first_opened:
        await run_script(Invitation._meta.db, _opening(first_opened))


def _opening(first_opened: Mapping[int, dt.datetime]) -> Script[None]:
    yield Statement(
        f"UPDATE {_INVITATION} SET status = {{}}, opened_at = {{}}"  # noqa: S608
        " WHERE id = {} AND status IN ({}, {})",
        many=[
            (
                InvitationStatus.opened.value,
                moment,
                invitation_id,
                InvitationStatus.created.value,
                InvitationStatus.sent.value,
            )
            for invitation_id, moment in first_opened.items()
        ],
    )
