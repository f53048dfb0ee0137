"""Storing a checked file: every response in one transaction, in bulk, or nothing.

A response already submitted with the same answers is left as it is (importing a file
again changes nothing); one submitted with other answers stops the whole file, and every
such line is named. A draft someone started in Rapport gives way to the finished response.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from surveys.responses.answers import Answer, Response, ResponseStatus
from surveys.responses.imports._table import ImportFileError

MAX_SHOWN = 25
"""Problems listed in full; the rest are counted."""
SLICE = 10_000
"""Ids in one statement (PostgreSQL takes at most 32,767 bound values)."""


@dataclass(frozen=True)
class Stored:
    imported: int
    unchanged: int


def problem_report(path: Path, problems: list[tuple[int, str]], what: str) -> ImportFileError:
    """One error naming the file and each problem's line (0: the file as a whole)."""
    ordered = sorted(set(problems))
    shown = [_said(line, text) for line, text in ordered[:MAX_SHOWN]]
    more = len(ordered) - len(shown)
    tail = f"\n  … and {more} more" if more else ""
    listed = "\n  ".join(shown)
    return ImportFileError(f"{path}: {len(ordered)} problem(s), {what}:\n  {listed}{tail}")


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
    if check_only:
        _, unchanged = await _compared(responses, answers, cycle_id, cycle_key, path)
        return Stored(len(responses) - len(unchanged), len(unchanged))
    engine = Response._meta.db
    async with writing_transaction(engine):
        await lock_for_explicit_ids([Response, Answer, Invitation])
        earlier, unchanged = await _compared(responses, answers, cycle_id, cycle_key, path)
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
            ["id", "invitation", "status", "language", "started_at", "updated_at", "submitted_at"],
            [
                (ids[i], i, ResponseStatus.submitted.value, "en", when[i], when[i], when[i])
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
    responses: pd.DataFrame, answers: pd.DataFrame, cycle_id: int, cycle_key: str, path: Path
) -> tuple[dict[int, tuple[int, str]], set[int]]:
    """The cycle's stored responses (invitation → id, status), and the invitations whose
    submitted answers the file repeats exactly; every line that would change a submitted
    response stops the file."""
    earlier = await _earlier(cycle_id)
    mine = set(responses["invitation"])
    submitted = {i: r for i, r in earlier.items() if r[1] == ResponseStatus.submitted}
    again = {i for i in submitted if i in mine}
    if not again:  # nothing of the file was submitted before: nothing to compare
        return earlier, set()
    stored = await _stored_answers(cycle_id, {submitted[i][0] for i in again})
    new_answers = _answer_sets(answers[answers["invitation"].isin(again)])
    unchanged: set[int] = set()
    conflicts: list[tuple[int, str]] = []
    for row in responses.itertuples():
        known = submitted.get(int(row.invitation))
        if known is None:
            continue
        if stored.get(known[0], frozenset()) == new_answers.get(int(row.invitation)):
            unchanged.add(int(row.invitation))
        else:
            conflicts.append(
                (
                    int(row.line),
                    f"{row.email} already submitted different answers about {row.target} "
                    f"in {cycle_key}",
                )
            )
    if conflicts:
        raise problem_report(path, conflicts, "nothing imported")
    return earlier, unchanged


async def _earlier(cycle_id: int) -> dict[int, tuple[int, str]]:
    """Invitation → (response id, status) for the cycle's responses already stored."""
    rows = await Response.select(Response.id, Response.invitation, Response.status).where(
        Response.invitation._.cycle == cycle_id
    )
    return {r["invitation"]: (r["id"], r["status"]) for r in rows}


async def _stored_answers(cycle_id: int, wanted: set[int]) -> dict[int, frozenset[tuple[Any, ...]]]:
    """Response id → its answers as a set of (item, value, not applicable, text), for the
    cycle's submitted responses in `wanted`; read in one query, as tuples."""
    rows = await fetched(
        Answer,
        "SELECT answer.response, answer.item, answer.value, answer.not_applicable, answer.text "
        "FROM answer JOIN response ON response.id = answer.response "
        "JOIN invitation ON invitation.id = response.invitation "
        "WHERE invitation.cycle = ? AND response.status = ?",
        cycle_id,
        ResponseStatus.submitted.value,
    )
    found: dict[int, set[tuple[Any, ...]]] = {}
    for response, item, value, not_applicable, text in rows:
        if response in wanted:
            found.setdefault(response, set()).add((item, value, bool(not_applicable), text))
    return {k: frozenset(v) for k, v in found.items()}


def _answer_columns(answers: pd.DataFrame) -> list[list[Any]]:
    """The answers' item, value, not applicable and text as plain Python lists (a missing
    value or text None), as the driver stores them and `_stored_answers` reads them."""
    values = answers["value"].astype(object)
    texts = answers["text"].astype(object)
    return [
        answers["item"].astype(int).tolist(),
        values.where(values.notna(), None).tolist(),
        answers["not_applicable"].astype(bool).tolist(),
        texts.where(texts.notna(), None).tolist(),
    ]


def _answer_sets(answers: pd.DataFrame) -> dict[int, frozenset[tuple[Any, ...]]]:
    """Invitation → the file's answers for it, as `_stored_answers` gives them."""
    found: dict[int, set[tuple[Any, ...]]] = {}
    for invitation, *answer in zip(
        answers["invitation"].astype(int).tolist(), *_answer_columns(answers), strict=True
    ):
        found.setdefault(invitation, set()).add(tuple(answer))
    return {k: frozenset(v) for k, v in found.items()}


async def _mark_submitted(first_response: int) -> None:
    """Every invitation answered by a response stored now is submitted, when it was."""
    await Invitation.raw(
        "UPDATE invitation SET status = {}, submitted_at = ("
        "SELECT submitted_at FROM response WHERE response.invitation = invitation.id) "
        "WHERE id IN (SELECT invitation FROM response WHERE id >= {})",
        InvitationStatus.submitted.value,
        first_response,
    )
