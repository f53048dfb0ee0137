"""One import, start to end: read the file as its tool wrote it, sort its columns, check
every row, then store all of it or nothing, and say what was done and left out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from surveys.cycles.cycle import CycleRecord, CycleStatus, cycle_by_key, cycles_newest_first
from surveys.cycles.invitations import Invitation
from surveys.instruments.questionnaires import instrument_rows
from surveys.responses.imports._answers import checked_answers
from surveys.responses.imports._columns import item_columns
from surveys.responses.imports._mapping import Mapping
from surveys.responses.imports._reading import FORMATS, file_table
from surveys.responses.imports._store import problem_report, store
from surveys.responses.imports._table import LINE, ImportFileError
from surveys.responses.imports._times import submission_times

TAKES_RESPONSES = frozenset({CycleStatus.open, CycleStatus.closed})
"""A cycle responses may be imported into: open, or closed and not yet scored."""


async def cycles_taking_responses() -> list[CycleRecord]:
    """The cycles a file may go into, newest first."""
    return [c for c in await cycles_newest_first() if c.status in TAKES_RESPONSES]


@dataclass(frozen=True)
class ImportSummary:
    """What an import did, and what it left out and why: the report a person reads."""

    imported: int
    """Responses stored."""
    unchanged: int
    """Responses already stored with the same answers (a second import of the same file)."""
    left_out_by_kind: dict[str, int] = field(default_factory=dict)
    """Rows the tool marks as not real or not finished, by kind ("Survey Preview": 2)."""
    ignored: tuple[str, ...] = ()
    """Columns left alone."""
    notes: tuple[str, ...] = ()
    """How the file was read (its encoding, the zone of its times)."""

    @property
    def left_out(self) -> int:
        """Rows left out, of every kind."""
        return sum(self.left_out_by_kind.values())


async def import_responses(
    path: Path,
    cycle_key: str,
    file_format: str,
    mapping: Mapping,
    now: dt.datetime,
    actor: str = "system",
    check_only: bool = False,
    source: str | None = None,
) -> ImportSummary:
    """Check the whole file, then store its responses in one transaction (or nothing).

    With `check_only`, everything is checked, conflicts with stored responses included,
    and the summary says what an import would do; nothing is written (a preview). The
    audit log names the file as `source` (an upload's own name), else by its path."""
    if file_format not in FORMATS:
        raise ImportFileError(f"unknown format {file_format!r}; formats: {', '.join(FORMATS)}")
    cycle = await cycle_by_key(cycle_key, ImportFileError)
    if cycle.status not in TAKES_RESPONSES:
        raise ImportFileError(
            f"cycle {cycle_key} is {cycle.status}: responses go into an open or closed cycle"
        )
    invitations, instrument_items = await _cycle_tables(cycle.id)
    item_keys = frozenset(instrument_items["key"])
    mapped = frozenset(c for c, k in mapping.items.items() if k in item_keys) | item_keys
    table, time_column = file_table(path, file_format, mapping, mapped)
    time_column = mapping.submitted_at if mapping.submitted_at else time_column
    identity = frozenset(
        c for c in (mapping.respondent, mapping.target, time_column) if c is not None
    )
    columns = item_columns(table, mapping, item_keys, identity)
    if columns.problems:
        raise problem_report(path, [(0, p) for p in columns.problems], "nothing imported")
    rows = table.rows
    checked = checked_answers(
        rows, columns.items, mapping, invitations, instrument_items, cycle_key
    )
    problems = list(checked.problems)
    lines = rows[LINE].astype(int)
    if time_column and time_column in rows:
        times = submission_times(
            rows[time_column],
            lines,
            time_column,
            table.timezone,
            mapping,
            now,
            (cycle.opens_at, cycle.closes_at),
        )
        problems += times.problems
        moments = pd.Series(times.moments.to_numpy(), index=lines)
        zone_note = (
            f"times without a zone read as {times.zone} ({times.zone_from})" if time_column else ""
        )
    else:
        moments = pd.Series(pd.Timestamp(now).tz_convert("UTC"), index=lines)
        zone_note = "no submission times in the file: the import's time is used"
    if problems:
        raise problem_report(path, problems, "nothing imported")
    notes = tuple(n for n in (*table.notes, zone_note) if n)
    left_out = dict(table.left_out)
    report = {
        "file": source or str(path),
        "left_out": left_out,
        "ignored": list(columns.ignored),
        "notes": list(notes),
    }
    del table, rows, lines  # the file's cells: what is stored is in `checked` now
    done = await store(
        checked.responses,
        checked.answers,
        moments,
        cycle.id,
        cycle_key,
        path,
        actor,
        report,
        check_only,
    )
    return ImportSummary(done.imported, done.unchanged, left_out, columns.ignored, notes)


async def _cycle_tables(cycle_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cycle's invitations (email, target, invitation, instrument) and its instruments'
    items (instrument, key, item, kind, scale)."""
    rows = await Invitation.select(
        Invitation.id,
        Invitation.instrument,
        Invitation.respondent._.email.as_alias("email"),
        Invitation.target._.slug.as_alias("target"),
    ).where(Invitation.cycle == cycle_id)
    invitations = pd.DataFrame(
        {
            "email": [r["email"].lower() for r in rows],
            "target": [r["target"] for r in rows],
            "invitation": [r["id"] for r in rows],
            "instrument": [r["instrument"] for r in rows],
        },
        columns=["email", "target", "invitation", "instrument"],
    )
    items = []
    for instrument in sorted({r["instrument"] for r in rows}):
        loaded = await instrument_rows(instrument)
        scale = int(loaded.instrument["scale_points"])
        items += [
            (instrument, i["key"], loaded.item_ids[i["key"]], i["kind"], scale)
            for i in loaded.items
        ]
    return invitations, pd.DataFrame(items, columns=["instrument", "key", "item", "kind", "scale"])
