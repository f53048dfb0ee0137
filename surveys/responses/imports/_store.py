"""Storing a checked file: every response in one transaction, in bulk, or nothing.

A response already submitted with the same answers is left as it is (importing a file
again changes nothing); one submitted with other answers stops the whole file, and every
such line is named. A draft someone started in Rapport gives way to the finished response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

import pandas as pd

from surveys.cycles.invitations import Invitation, InvitationStatus
from surveys.directory import audit
from surveys.infra.database import (
    bulk_insert,
    fetched,
    lock_for_explicit_ids,
    next_id,
    reset_id_sequence,
    writing_transaction,
)
from surveys.infra.i18n import N_
from surveys.responses.answers import (
    Answer,
    AnswerRow,
    Response,
    ResponseStatus,
    answers_digest,
)
from surveys.responses.imports._table import ImportFileError, Said

MAX_SHOWN = 25
"""Problems listed in full; the rest are counted."""
SLICE = 10_000
"""Ids in one statement (PostgreSQL takes at most 32,767 bound values)."""


@dataclass(frozen=True)
class Stored:
    imported: int
    unchanged: int


def problem_report(
    path: Path, problems: Sequence[tuple[int, Said]], what: str = "nothing imported"
) -> ImportFileError:
    """One error naming the file and each problem's line (0: the file as a whole); each
    problem a `Said`, so the error carries them as Texts too."""
    ordered = sorted(set(problems))
    kept = ordered[:MAX_SHOWN]
    shown = [_said(line, text) for line, text in kept]
    more = len(ordered) - len(shown)
    tail = f"\n  … and {more} more" if more else ""
    listed = "\n  ".join(shown)
    return ImportFileError(
        f"{path}: {len(ordered)} problem(s), {what}:\n  {listed}{tail}",
        file=path,
        problems=[(line, text.text) for line, text in kept],
        more=more,
        counted=True,
    )


def _said(line: int, text: str) -> str:
    """ "line 3, column email: …", "line 3: …", or the text alone for the whole file."""
    if not line:
        return text
    return f"line {line}, {text}" if text.startswith("column ") else f"line {line}: {text}"


async def store(
    responses: pd.DataFrame,
    answers: pd.DataFrame,
    times: pd.Series,
    cycle_id: int,
    cycle_key: str,
    path: Path,
    actor: str,
    report: dict[str, Any],
    check_only: bool = False,
) -> Stored:
    """Store the file's responses (responses: line, invitation, email, target; answers:
    line, invitation, item, value, not_applicable, text; times by line). With
    `check_only`, say what storing would do, and write nothing."""
    digests = _file_digests(answers)
    if check_only:
        _, unchanged = await _compared(responses, digests, cycle_id, cycle_key, path)
        return Stored(len(responses) - len(unchanged), len(unchanged))
    engine = Response._meta.db
    async with writing_transaction(engine):
        await lock_for_explicit_ids([Response, Answer, Invitation])
        earlier, unchanged = await _compared(responses, digests, cycle_id, cycle_key, path)
        mine = set(responses["invitation"])
        submitted = {i for i, r in earlier.items() if r[1] == ResponseStatus.submitted}
        drafts = [r[0] for i, r in earlier.items() if i in mine and i not in submitted]
        # a draft in Rapport gives way to the finished response (in slices: PostgreSQL
        # takes at most 32,767 values in one statement)
        for start in range(0, len(drafts), SLICE):
            await Answer.delete().where(Answer.response.is_in(drafts[start : start + SLICE]))
            await Response.delete().where(Response.id.is_in(drafts[start : start + SLICE]))
        fresh = responses[~responses["invitation"].isin(unchanged)]
        first = await next_id(Response)
        ids = {int(i): first + n for n, i in enumerate(fresh["invitation"])}
        when = {int(r.invitation): times[int(r.line)].to_pydatetime() for r in fresh.itertuples()}
        await bulk_insert(
            Response,
            [
                "id",
                "invitation",
                "status",
                "language",
                "started_at",
                "updated_at",
                "submitted_at",
                "answers_digest",
            ],
            [
                (
                    ids[i],
                    i,
                    ResponseStatus.submitted.value,
                    "en",
                    when[i],
                    when[i],
                    when[i],
                    digests.get(i, _NO_ANSWERS),
                )
                for i in ids
            ],
        )
        kept = answers[answers["invitation"].isin(ids.keys())]
        responses_of = kept["invitation"].map(ids).tolist()
        await bulk_insert(
            Answer,
            ["response", "item", "value", "not_applicable", "text"],
            list(zip(responses_of, *_answer_columns(kept), strict=True)),
        )
        await reset_id_sequence(Response)
        await _mark_submitted(first)
        await audit.record(
            actor,
            "responses.import",
            "cycle",
            cycle_key,
            {"imported": len(ids), "unchanged": len(unchanged), **report},
        )
    return Stored(len(ids), len(unchanged))


async def _compared(
    responses: pd.DataFrame,
    digests: dict[int, str],
    cycle_id: int,
    cycle_key: str,
    path: Path,
) -> tuple[dict[int, tuple[int, str]], set[int]]:
    """The cycle's stored responses (invitation → id, status), and the invitations whose
    submitted answers the file repeats exactly (their digests agree); every line that
    would change a submitted response stops the file."""
    earlier = await _earlier(cycle_id)
    submitted = {i: r for i, r in earlier.items() if r[1] == ResponseStatus.submitted}
    again = {i for i in set(responses["invitation"]) if i in submitted}
    if not again:  # nothing of the file was submitted before: nothing to compare
        return {i: r[:2] for i, r in earlier.items()}, set()
    unknown = {submitted[i][0] for i in again if submitted[i][2] is None}
    worked_out = await _digests_of_stored(cycle_id, unknown) if unknown else {}
    unchanged: set[int] = set()
    conflicts: list[tuple[int, Said]] = []
    for row in responses.itertuples():
        known = submitted.get(int(row.invitation))
        if known is None:
            continue
        response_id, _, digest = known
        stored = digest if digest is not None else worked_out.get(response_id, _NO_ANSWERS)
        if stored == digests.get(int(row.invitation), _NO_ANSWERS):
            unchanged.add(int(row.invitation))
        else:
            conflicts.append(
                (
                    int(row.line),
                    Said(
                        N_(
                            "%(email)s already submitted different answers about %(target)s "
                            "in %(cycle)s"
                        ),
                        email=row.email,
                        target=row.target,
                        cycle=cycle_key,
                    ),
                )
            )
    if conflicts:
        raise problem_report(path, conflicts, "nothing imported")
    return {i: r[:2] for i, r in earlier.items()}, unchanged


_NO_ANSWERS = answers_digest([])


async def _earlier(cycle_id: int) -> dict[int, tuple[int, str, str | None]]:
    """Invitation → (response id, status, answers' digest) for the cycle's responses
    already stored."""
    rows = await Response.select(
        Response.id, Response.invitation, Response.status, Response.answers_digest
    ).where(Response.invitation._.cycle == cycle_id)
    return {r["invitation"]: (r["id"], r["status"], r["answers_digest"]) for r in rows}


async def _digests_of_stored(cycle_id: int, wanted: set[int]) -> dict[int, str]:
    """Response id → the digest of its answers, worked out from the answers themselves,
    for the cycle's submitted responses in `wanted` that keep no digest."""
    rows = await fetched(
        Answer,
        "SELECT answer.response, answer.item, answer.value, answer.not_applicable, answer.text "
        "FROM answer JOIN response ON response.id = answer.response "
        "JOIN invitation ON invitation.id = response.invitation "
        "WHERE invitation.cycle = ? AND response.status = ? "
        "AND response.answers_digest IS NULL",
        cycle_id,
        ResponseStatus.submitted.value,
    )
    found: dict[int, list[AnswerRow]] = {}
    for response, item, value, not_applicable, text in rows:
        if response in wanted:
            found.setdefault(response, []).append((item, value, bool(not_applicable), text))
    return {response: answers_digest(answers) for response, answers in found.items()}


def _answer_columns(answers: pd.DataFrame) -> list[list[Any]]:
    """The answers' item, value, not applicable and text as plain Python lists (a missing
    value or text None), as the driver stores them and reads them back."""
    values = answers["value"].astype(object)
    texts = answers["text"].astype(object)
    return [
        answers["item"].astype(int).tolist(),
        values.where(values.notna(), None).tolist(),
        answers["not_applicable"].astype(bool).tolist(),
        texts.where(texts.notna(), None).tolist(),
    ]


def _file_digests(answers: pd.DataFrame) -> dict[int, str]:
    """Invitation → the digest of the file's answers for it."""
    rows = sorted(
        zip(answers["invitation"].astype(int).tolist(), *_answer_columns(answers), strict=True),
        key=itemgetter(0),
    )
    return {
        invitation: answers_digest(answer[1:] for answer in group)
        for invitation, group in groupby(rows, key=itemgetter(0))
    }


async def _mark_submitted(first_response: int) -> None:
    """Every invitation answered by a response stored now is submitted, when it was."""
    await Invitation.raw(
        "UPDATE invitation SET status = {}, submitted_at = ("
        "SELECT submitted_at FROM response WHERE response.invitation = invitation.id) "
        "WHERE id IN (SELECT invitation FROM response WHERE id >= {})",
        InvitationStatus.submitted.value,
        first_response,
    )
