"""Importing responses collected elsewhere: plain CSV or XLSX, Qualtrics and REDCap exports.

Each format is read into one table of answers (file line, respondent e-mail, partner,
item key, value), checked whole against the cycle's invitations and instruments, and
stored in one transaction, or not at all. A mapping file (TOML) says which columns
hold the respondent, the partner and each item, and how the tool's codes or labels
translate into the instrument's values. Importing the same file again changes nothing.

Formats, as the tools write them:
- csv / xlsx: one header row; one row per response; columns `email`, `target` (the
  partner's slug) and one per item key, unless the mapping says otherwise.
- qualtrics: three header rows (column ids, question texts, `{"ImportId": …}`), then
  one row per response with metadata such as ResponseId, Finished and RecipientEmail;
  unfinished responses are left out.
- redcap: one header row of field names (raw export) or labels, with `record_id`,
  `redcap_survey_identifier`, `<form>_timestamp` and `<form>_complete` (2 or
  "Complete" is complete; others are left out); checkbox fields are `field___code`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scoring.items import IMPORTANCE_POINTS
from surveys.cycles.cycle import CycleStatus, cycle_by_key
from surveys.cycles.invitations import Invitation, InvitationStatus
from surveys.directory import audit
from surveys.infra.database import bulk_insert, lock_row, writing_transaction
from surveys.instruments.questionnaires import instrument_rows
from surveys.responses.answering import without_control_characters
from surveys.responses.answers import Answer, Response, ResponseStatus
from surveys.responses.imports._mapping import NOT_APPLICABLE, Mapping
from surveys.responses.imports._table import ImportFileError

FORMATS = ("csv", "xlsx", "qualtrics", "redcap")
QUALTRICS_METADATA = {
    "StartDate",
    "EndDate",
    "Status",
    "IPAddress",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "RecordedDate",
    "ResponseId",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "DistributionChannel",
    "UserLanguage",
}
REDCAP_METADATA = {
    "record_id",
    "redcap_survey_identifier",
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
}
MAX_PROBLEMS = 25


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    imported: int
    """Responses stored."""
    unchanged: int
    """Responses already stored with the same answers (a second import of the same file)."""
    left_out: int
    """Rows the tool marks as unfinished or incomplete."""


def read_rows(path: Path, file_format: str) -> tuple[pd.DataFrame, int]:
    """Return the file's response rows as text (with their line numbers) and rows left out."""
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    try:
        if file_format == "xlsx":
            table = pd.read_excel(path, dtype=str, keep_default_na=False)
            first_line = 2
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            first_line = 2
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise ImportFileError(f"{path}: not a readable {file_format} file ({error})") from None
    table.columns = [str(c).strip() for c in table.columns]
    left_out = 0
    if file_format == "qualtrics":
        _check_qualtrics_header(path, table)
        table, first_line = table.iloc[2:], 4
        finished = table.get("Finished", pd.Series("True", index=table.index))
        done = finished.str.strip().str.lower().isin({"true", "1"})
        left_out = int((~done).sum())
        table = table[done]
    elif file_format == "redcap":
        complete = [c for c in table.columns if c.endswith("_complete")]
        if complete:
            done = table[complete[0]].str.strip().isin({"2", "Complete"})
            left_out = int((~done).sum())
            table = table[done]
    lines = table.index.to_numpy() + first_line
    return table.assign(_line=lines).reset_index(drop=True), left_out


def _check_qualtrics_header(path: Path, table: pd.DataFrame) -> None:
    """Qualtrics writes three header rows; the third names each question's ImportId."""
    if len(table) < 2:
        raise ImportFileError(f"{path}: a Qualtrics export has three header rows; this has fewer")
    for column in table.columns:
        cell = table[column].iloc[1].strip()
        try:
            ok = isinstance(json.loads(cell), dict) and "ImportId" in json.loads(cell)
        except json.JSONDecodeError:
            ok = False
        if not ok:
            raise ImportFileError(
                f"{path}:3: {column}: the third header row should hold "
                f'{{"ImportId": …}} as Qualtrics writes it; was the header edited?'
            )


async def import_responses(
    path: Path,
    cycle_key: str,
    file_format: str,
    mapping: Mapping,
    now: dt.datetime,
    actor: str = "system",
) -> ImportSummary:
    """Check the whole file, then store its responses in one transaction (or nothing)."""
    if file_format not in FORMATS:
        raise ImportFileError(f"unknown format {file_format!r}; formats: {', '.join(FORMATS)}")
    cycle = await cycle_by_key(cycle_key, ImportFileError)
    if cycle.status not in {CycleStatus.open, CycleStatus.closed}:
        raise ImportFileError(
            f"cycle {cycle_key} is {cycle.status}: responses go into an open or closed cycle"
        )
    rows, left_out = read_rows(path, file_format)
    invitations = await Invitation.select(
        Invitation.id,
        Invitation.instrument,
        Invitation.status,
        Invitation.respondent._.email.as_alias("email"),
        Invitation.target._.slug.as_alias("target"),
    ).where(Invitation.cycle == cycle.id)
    by_pair = {(row["email"].lower(), row["target"]): row for row in invitations}
    instruments = {i: await instrument_rows(i) for i in {r["instrument"] for r in invitations}}
    problems: list[str] = []
    responses: list[tuple[dict[str, Any], dict[str, tuple[int | None, bool, str | None]], Any]] = []
    item_columns = _item_columns(rows.columns, instruments, mapping, file_format, problems, path)
    seen: dict[tuple[str, str], int] = {}
    for row in rows.to_dict("records"):
        line = int(row["_line"])
        email = str(row.get(mapping.respondent, "")).strip().lower()
        target = mapping.target_slug or str(row.get(mapping.target or "", "")).strip()
        invitation = by_pair.get((email, target))
        if (email, target) in seen:
            problems.append(
                f"line {line}: {email} rating {target} again (first on line "
                f"{seen[(email, target)]}); one row per response"
            )
            continue
        seen[(email, target)] = line
        if invitation is None:
            problems.append(
                f"line {line}, column {mapping.respondent}: no invitation in {cycle_key} for "
                f"{email or '(empty)'} rating {target or '(no partner)'}"
            )
            continue
        kinds = {i["key"]: i for i in instruments[invitation["instrument"]].items}
        scale = int(instruments[invitation["instrument"]].instrument["scale_points"])
        answers: dict[str, tuple[int | None, bool, str | None]] = {}
        for column, key in item_columns.items():
            if key not in kinds:
                problems.append(
                    f"line {line}, column {column}: {key!r} is not an item of "
                    f"{invitation['target']}'s instrument"
                )
                continue
            raw = str(row.get(column, "")).strip()
            if raw == "":
                continue
            value = _value(raw, key, kinds[key]["kind"], scale, mapping)
            if isinstance(value, str):
                problems.append(f"line {line}, column {column}: {value}")
            else:
                answers[key] = value
        if not answers:
            problems.append(f"line {line}: no answers; a response needs at least one")
            continue
        submitted = _when(row.get(mapping.submitted_at or ""), now)
        responses.append((invitation, answers, submitted))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        shown = "\n  ".join(problems[:MAX_PROBLEMS])
        raise ImportFileError(f"{path}: {len(problems)} problem(s), nothing imported:\n  {shown}")
    return await _store(responses, instruments, left_out, actor, cycle_key, path)


def _item_columns(
    columns: pd.Index,
    instruments: dict[int, Any],
    mapping: Mapping,
    file_format: str,
    problems: list[str],
    path: Path,
) -> dict[str, str]:
    """Return file column → item key, and flag REDCap fields Rapport does not know."""
    known_items = {i["key"] for rows in instruments.values() for i in rows.items}
    identity = {mapping.respondent, mapping.target, mapping.submitted_at, "_line"}
    metadata = {"qualtrics": QUALTRICS_METADATA, "redcap": REDCAP_METADATA}.get(file_format, set())
    found = {}
    for column in columns:
        if column in mapping.items:
            found[column] = mapping.items[column]
        elif column in known_items:
            found[column] = column
        elif column in identity | metadata or (
            file_format == "redcap" and column.endswith(("_timestamp", "_complete"))
        ):
            continue
        else:
            what = "field" if file_format == "redcap" else "column"
            problems.append(
                f"{path}:1: {what} {column}: unknown (map it to an item key in [items])"
            )
    return found


def _value(
    raw: str, key: str, kind: str, scale: int, mapping: Mapping
) -> tuple[int | None, bool, str | None] | str:
    """Return (value, not applicable, text) for one cell, or the reason it is impossible."""
    if kind == "text":
        return (None, False, without_control_characters(raw))
    coded = mapping.value_of(key, raw)
    if coded == NOT_APPLICABLE and kind == "likert":
        return (None, True, None)
    allowed = {
        "likert": range(1, scale + 1),
        "importance": range(1, IMPORTANCE_POINTS + 1),
        "overall": range(0, 11),
    }[kind]
    try:
        number = float(coded)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        return f"{raw!r} is not a number{' or NA' if kind == 'likert' else ''} (map it in [values])"
    if number != int(number) or int(number) not in allowed:
        return f"{raw} is not on the {allowed.start}–{allowed.stop - 1} scale"
    return (int(number), False, None)


def _when(raw: Any, now: dt.datetime) -> dt.datetime:
    """Return when a response was completed, from the file where it says, else now."""
    if raw is None or str(raw).strip() == "":
        return now
    moment = pd.to_datetime(str(raw), errors="coerce", utc=True)
    return now if pd.isna(moment) else moment.to_pydatetime()


async def _store(
    responses: list[tuple[dict[str, Any], dict[str, tuple[int | None, bool, str | None]], Any]],
    instruments: dict[int, Any],
    left_out: int,
    actor: str,
    cycle_key: str,
    path: Path,
) -> ImportSummary:
    """Store every response in one transaction; one already stored the same is unchanged."""

    imported = unchanged = 0
    async with writing_transaction(Response._meta.db):
        for invitation, answers, submitted in responses:
            item_ids = instruments[invitation["instrument"]].item_ids
            # a respondent may be submitting on the web right now: wait for them, then decide
            await lock_row(Invitation, invitation["id"])
            existing = (
                await Response.select(Response.id, Response.status)
                .where(Response.invitation == invitation["id"])
                .first()
            )
            if existing is not None and existing["status"] == ResponseStatus.submitted:
                stored = await Answer.select(
                    Answer.item._.key.as_alias("key"),
                    Answer.value,
                    Answer.not_applicable,
                    Answer.text,
                ).where(Answer.response == existing["id"])
                before = {r["key"]: (r["value"], r["not_applicable"], r["text"]) for r in stored}
                if before == answers:
                    unchanged += 1
                    continue
                raise ImportFileError(
                    f"{path}: {invitation['email']} already submitted different answers about "
                    f"{invitation['target']} in {cycle_key}; nothing imported"
                )
            if existing is not None:  # a draft in Rapport gives way to the finished response
                await Answer.delete().where(Answer.response == existing["id"])
                await Response.delete().where(Response.id == existing["id"])
            response = Response(
                invitation=invitation["id"],
                status=ResponseStatus.submitted.value,
                language="en",
                started_at=submitted,
                updated_at=submitted,
                submitted_at=submitted,
            )
            await response.save()
            await bulk_insert(
                Answer,
                ["response", "item", "value", "not_applicable", "text"],
                [(response.id, item_ids[key], *value) for key, value in answers.items()],
            )
            await Invitation.update(
                {
                    Invitation.status: InvitationStatus.submitted.value,
                    Invitation.submitted_at: submitted,
                }
            ).where(Invitation.id == invitation["id"])
            imported += 1
        await audit.record(
            actor,
            "responses.import",
            "cycle",
            cycle_key,  # the cycle, by its key
            {"file": str(path), "imported": imported, "unchanged": unchanged},
        )
    return ImportSummary(imported, unchanged, left_out)
