"""Responses and their answers; drafts are kept while the person is still answering."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from enum import StrEnum
from operator import itemgetter

import pandas as pd
from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from surveys.cycles.invitations import Invitation
from surveys.instruments import Item


class ResponseStatus(StrEnum):
    """Draft until the respondent submits."""

    draft = "draft"
    submitted = "submitted"


class Response(Table):
    """The answers behind one invitation (at most one: the unique key enforces it)."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    invitation = ForeignKey(Invitation, on_delete=OnDelete.restrict, null=False, unique=True)
    status = Varchar(length=10, choices=ResponseStatus, default="draft")
    language = Varchar(length=8, default="en")
    """Language the form was answered in (scores do not depend on it)."""
    started_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    answers_digest = Varchar(length=64, null=True, default=None)
    """`answers_digest` of the submitted answers (None for a draft, or when unknown: a
    response stored before digests, or whose texts an erasure rewrote). It lets a file
    imported again be recognised without reading every stored answer back."""

    response_status_is_known = Check("status IN ('draft', 'submitted')")
    response_submitted_has_time = Check("status != 'submitted' OR submitted_at IS NOT NULL")


class Answer(Table):
    """One item's answer: a value, not applicable, or a comment's text."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    response = ForeignKey(Response, on_delete=OnDelete.cascade, null=False)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False, index=True)
    value = Integer(null=True, default=None)
    """1…scale_points for Likert, 1–5 for importance, 0–10 for the overall item."""
    not_applicable = Boolean(default=False)
    text = Text(null=True, default=None)

    answer_one_per_item = Unique(["response", "item"])
    answer_value_in_widest_range = Check("value IS NULL OR (value >= 0 AND value <= 11)")
    answer_not_applicable_has_no_value = Check("not_applicable = false OR value IS NULL")


AnswerRow = tuple[int, int | None, bool, str | None]
"""One answer as it is stored: item id, value, not applicable, text."""


def answers_digest(answers: Iterable[AnswerRow]) -> str:
    """A fingerprint of a response's answers, whatever their order: equal exactly when the
    answers are (SHA-256 of one line per answer, sorted by item; numbers written as whole
    numbers, whichever type holds them; a missing value or text written apart from an
    empty one)."""
    lines = (
        f"{int(item)}|{'' if value is None else int(value)}|{'n' if not_applicable else ''}|"
        f"{'' if text is None else '+' + text}"
        for item, value, not_applicable, text in sorted(answers, key=itemgetter(0))
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


async def forget_digests(answer_ids: list[int]) -> None:
    """Mark the digests of the responses holding these answers unknown (their answers were
    rewritten in place, as an erasure does with texts that named someone)."""
    if answer_ids:
        responses = Answer.select(Answer.response).where(Answer.id.is_in(answer_ids))
        await Response.update({Response.answers_digest: None}).where(Response.id.is_in(responses))


ANSWER_COLUMNS = (
    "cycle",
    "rater",
    "rater_org",
    "target",
    "item",
    "value",
    "not_applicable",
    "sponsor",
)
"""The scoring engine's long format, one row per submitted non-text answer, with the
sponsor of the relationship the answer was given in (whose view of a site it is)."""


async def submitted_answers(
    cycle_keys: list[str] | None = None, instrument_key: str | None = None
) -> pd.DataFrame:
    """Return submitted answers (all cycles, or those named) in the scoring engine's format.

    `instrument_key` keeps one instrument's answers (any version): the two directions
    share some item keys (the comment, importance of the mirror dimensions).

    Raters are named by their person's id (as text: the engine's rater labels), which
    stays when an address is corrected or a person erased, so a re-score gives the same
    numbers to the last bit; organisations are named by slug, items by key; `value` is a float,
    NaN when skipped or not applicable. Drafts and comments are left out: drafts were never
    given, and comments are not scored. Rows come in the order the answers were stored:
    sums in another order differ in the last bit, and PostgreSQL returns rows in whatever
    order an update left them.
    """
    invitation = Answer.response._.invitation
    query = Answer.select(
        invitation._.cycle._.key.as_alias("cycle"),
        invitation._.respondent._.id.as_alias("rater"),
        invitation._.respondent._.organisation._.slug.as_alias("rater_org"),
        invitation._.target._.slug.as_alias("target"),
        Answer.item._.key.as_alias("item"),
        Answer.value,
        Answer.not_applicable,
        invitation._.relationship._.sponsor._.slug.as_alias("sponsor"),
    ).where(
        (Answer.response._.status == ResponseStatus.submitted.value)
        & (Answer.item._.kind != "text")
    )
    if cycle_keys is not None:
        query = query.where(invitation._.cycle._.key.is_in(cycle_keys))
    if instrument_key is not None:
        query = query.where(Answer.item._.instrument._.key == instrument_key)
    query = query.order_by(Answer.id)
    frame = pd.DataFrame(await query, columns=list(ANSWER_COLUMNS))
    frame["rater"] = frame["rater"].astype(str)
    frame["value"] = frame["value"].astype("float64")
    frame["not_applicable"] = frame["not_applicable"].astype(bool)
    return frame
