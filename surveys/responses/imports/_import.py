"""One import, start to end: read the file as its tool wrote it, sort its columns, check
every row, then store all of it or nothing, and say what was done and left out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from surveys.cycles.cycle import CycleRecord, CycleStatus, cycle_by_key, cycles_newest_first
from surveys.cycles.invitations import Invitation
from surveys.infra.i18n import N_
from surveys.instruments.questionnaires import instrument_rows
from surveys.responses.imports._answers import checked_answers
from surveys.responses.imports._columns import item_columns
from surveys.responses.imports._mapping import Mapping
from surveys.responses.imports._reading import FORMATS, file_table
from surveys.responses.imports._store import problem_report, store
from surveys.responses.imports._table import LINE, ImportFileError, Said
from surveys.responses.imports._times import submission_times

_ZONE_NOTES = {
    "the file": N_("times without a zone read as %(zone)s (the file)"),
    "the mapping": N_("times without a zone read as %(zone)s (the mapping)"),
    "the default": N_("times without a zone read as %(zone)s (the default)"),
}
"""The preview's note on the zone of the times, by where the zone came from."""
_NOT_TAKING = {
    CycleStatus.draft: N_("cycle %(cycle)s is draft: responses go into an open or closed cycle"),
    CycleStatus.scored: N_("cycle %(cycle)s is scored: responses go into an open or closed cycle"),
    CycleStatus.published: N_(
        "cycle %(cycle)s is published: responses go into an open or closed cycle"
    ),
}
"""Why a cycle takes no responses, by its status."""

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
    """Rows the tool marks as not real or not finished, by kind ("Survey Preview": 2); a
    kind is a `Said` where the reader marked it (its `text` translates it)."""
    ignored: tuple[str, ...] = ()
    """Columns left alone."""
    notes: tuple[str, ...] = ()
    """How the file was read (its encoding, the zone of its times); each a `Said`, whose
    `text` a page translates."""

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
        raise ImportFileError(
            N_("unknown format %(format)s; formats: %(formats)s"),
            format=repr(file_format),
            formats=", ".join(FORMATS),
        )
    cycle = await cycle_by_key(cycle_key, ImportFileError)
    if cycle.status not in TAKES_RESPONSES:
        raise ImportFileError(_NOT_TAKING[CycleStatus(cycle.status)], cycle=cycle_key)
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
        zone_note: str = Said(_ZONE_NOTES[times.zone_from], zone=times.zone)
    else:
        moments = pd.Series(pd.Timestamp(now).tz_convert("UTC"), index=lines)
        zone_note = Said(N_("no submission times in the file: the import's time is used"))
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
