"""Qualtrics exports, in each layout Qualtrics has written, read into one FileTable.

Layouts, told apart by their header rows:
- today's export (CSV, TSV or Excel): row 1 the column ids (`StartDate`, …, `Q1_1`,
  `Q2 - Topics`, embedded data such as `Q_RecaptchaScore`), row 2 the question texts,
  row 3 one `{"ImportId": "QID1_1"}` per column, with `"timeZone"` on the times;
- the 2016 "Insights" export: the same, its ImportIds written `{'ImportId': 'QID1_1'}`;
- the legacy export (before 2017): row 1 `V1`, `V2`, … for Qualtrics' own columns and the
  question ids after them, row 2 the names of Qualtrics' columns (`ResponseID`,
  `ResponseSet`, `Name`, `ExternalDataReference`, `EmailAddress`, `IPAddress`, `Status`,
  `StartDate`, `EndDate`, `Finished`) and the question texts; no ImportId row.

A legacy column is named by row 2 where row 1 says only `V<n>`, and then as today's export
names it (`LEGACY_NAMES`), so that one mapping, and the default one (respondent
`RecipientEmail`, partner `ExternalReference`, time `RecordedDate`), reads every layout.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from surveys.infra.i18n import N_
from surveys.responses.imports._files import data_rows
from surveys.responses.imports._table import LINE, FileTable, Grid, ImportFileError, Said

STATUS_CODES = {
    0: "IP Address",
    1: "Survey Preview",
    2: "Survey Test",
    4: "Imported",
    8: "Spam",
    9: "Survey Preview Spam",
    12: "Imported Spam",
    16: "Offline",
    17: "Offline Survey Preview",
    32: "EX",
    40: "EX Spam",
    48: "EX Offline",
}
"""`Status` ("Response Type") as a numeric export codes it, and the label a choice-text
export writes instead.

Source: the value labels Qualtrics puts on `Status` in its SPSS (.sav) export, as copied
into public analysis code (an SPSS syntax file, `VALUE LABELS /Status 0 "IP Address" 1
"Survey Preview" … 48 "EX Offline"`, and an R helper mapping the same codes); 1 = Survey
Preview agrees with rOpenSci's `excluder::mark_preview()`, written for numeric exports.
The Qualtrics support pages at hand ("Understanding your dataset") do not list the codes.
A code not listed here is left out as "Status <code>" rather than guessed at.
"""

_STATUS_WORDS = {
    "Survey Preview": N_("Survey Preview"),
    "Survey Test": N_("Survey Test"),
    "Spam": N_("Spam"),
    "Survey Preview Spam": N_("Survey Preview Spam"),
    "Imported Spam": N_("Imported Spam"),
    "Offline Survey Preview": N_("Offline Survey Preview"),
    "EX Spam": N_("EX Spam"),
}
"""The kinds of rows left out, as Qualtrics names them (marked, shown in the reader's
language on the console; the command line prints Qualtrics' own words)."""

REAL_RESPONSES = frozenset({"IP Address", "Imported", "Offline", "EX", "EX Offline"})
"""Response types that are someone's answers; previews, tests and spam are left out."""

METADATA = frozenset(
    {
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
        "Q_RecaptchaScore",
        "Q_RelevantIDDuplicate",
        "Q_RelevantIDDuplicateScore",
        "Q_RelevantIDFraudScore",
        "Q_RelevantIDLastStartDate",
        "Q_BallotBoxStuffing",
        # the legacy export's own, where not renamed to today's
        "ResponseID",
        "ResponseSet",
        "Name",
        "ExternalDataReference",
        "EmailAddress",
        "LocationAccuracy",
    }
)
"""Qualtrics' own columns: never an item, never an unknown column."""

LEGACY_NAMES = {
    "ResponseID": "ResponseId",
    "EmailAddress": "RecipientEmail",
    "ExternalDataReference": "ExternalReference",
}
"""A legacy export's column → the name today's export gives it."""

TIME_COLUMNS = ("RecordedDate", "EndDate", "StartDate")
"""The columns whose ImportId names the file's time zone, the first found wins."""

_SHOWN = 10
"""Broken ImportId cells named in one message."""
_LEGACY_ID = re.compile(r"V\d+")
_SINGLE_QUOTED = re.compile(r"\{\s*'[^']*'\s*:\s*'[^']*'(?:\s*,\s*'[^']*'\s*:\s*'[^']*')*\s*\}")
_SINGLE_PAIR = re.compile(r"'([^']*)'\s*:\s*'([^']*)'")


@dataclass(frozen=True)
class _Header:
    """What the header rows say."""

    names: list[str]
    rows: int
    """How many rows the header takes."""
    import_ids: dict[str, dict[str, str]]
    """Column → its ImportId row's entries (none in a legacy export)."""
    notes: tuple[str, ...]


def qualtrics_table(grid: Grid, path: Path) -> FileTable:
    """Return a Qualtrics export's real, finished responses and what was left out.

    `rows` holds one row per kept response, in file order: every column of the file
    (Qualtrics' own included) named by its id in row 1, stripped (a legacy export's named
    as today's, see the module), each cell as the file writes it ("" when empty; object
    columns of str), and LINE, the physical line the response starts on.

    Left out, and counted in `left_out` by kind: a `Status` other than a real response
    ("Survey Preview", "Survey Test", "Spam", …; a code or label not in STATUS_CODES
    counts as "Status <value>"), then a `Finished` other than True/1 ("unfinished").
    Rows with no cell filled are no response.

    `timezone` is the `timeZone` of RecordedDate's, EndDate's or StartDate's ImportId
    (None if none says). `notes` name the layout and any column read under another
    name; how the bytes were read (`grid.notes`) is the caller's to add. Errors name the
    file, line and column.
    """
    header = _header(grid, path)
    frame = _frame(grid, header, path)
    notes = header.notes
    if "RecordedDate" not in frame.columns and "EndDate" in frame.columns:
        # a legacy export has no RecordedDate: EndDate is when the response was submitted
        frame.insert(frame.columns.get_loc("EndDate") + 1, "RecordedDate", frame["EndDate"])
        notes = (*notes, Said(N_("RecordedDate is EndDate (the file has no RecordedDate)")))
    kinds = _left_out_kinds(frame)
    kept = frame[kinds == ""].reset_index(drop=True)
    timezone = _timezone(header, grid, path)  # the import's report says it, with its source
    return FileTable(
        rows=kept,
        metadata=frozenset(c for c in kept.columns if c in METADATA),
        left_out=dict(Counter(kinds[kinds != ""])),
        timezone=timezone,
        notes=notes,
    )


def _header(grid: Grid, path: Path) -> _Header:
    ids = [cell.strip() for cell in grid.rows[0]]
    while ids and ids[-1] == "":  # a legacy export ends every line with a comma
        ids.pop()
    if ids and _LEGACY_ID.fullmatch(ids[0]):
        return _legacy_header(grid, path, ids)
    if len(grid.rows) < 3 or not any(_import_id(c.strip()) for c in grid.rows[2]):
        raise ImportFileError.about(
            path,
            N_(
                "a Qualtrics export has three header rows (column ids, question texts, "
                "%(import_id)s), or, before 2017, two (V1, V2, …, then names and question "
                "texts); this file has neither: was the header edited?"
            ),
            grid.lines[2] if len(grid.rows) > 2 else None,
            import_id='{"ImportId": …}',
        )
    _check_names(grid, path, ids)
    import_ids, single_quoted = _import_ids(grid, path, ids)
    layout = (
        Said(N_("Qualtrics Insights export (2016): ImportIds in single quotes"))
        if single_quoted
        else Said(N_("Qualtrics export: three header rows"))
    )
    return _Header(ids, 3, import_ids, (layout,))


def _legacy_header(grid: Grid, path: Path, ids: list[str]) -> _Header:
    if len(grid.rows) < 2:
        raise ImportFileError.about(
            path, N_("a legacy Qualtrics export has two header rows; this has one")
        )
    second = [cell.strip() for cell in grid.rows[1]]
    names = [
        second[i] if _LEGACY_ID.fullmatch(id_) and i < len(second) and second[i] else id_
        for i, id_ in enumerate(ids)
    ]
    renamed = {old: new for old, new in LEGACY_NAMES.items() if old in names and new not in names}
    names = [renamed.get(name, name) for name in names]
    _check_names(grid, path, names)
    said = ", ".join(  # column names, joined by a word (translated with the note's words)
        f"{old} as {new}" for old, new in renamed.items()
    )
    note = (
        Said(N_("legacy Qualtrics export (V1, V2, …, two header rows): %(renamed)s"), renamed=said)
        if said
        else Said(N_("legacy Qualtrics export (V1, V2, …, two header rows)"))
    )
    return _Header(names, 2, {}, (note,))


def _check_names(grid: Grid, path: Path, names: list[str]) -> None:
    """A column the import could not name, or two with one name, would be guessed at."""
    seen: dict[str, int] = {}
    for number, name in enumerate(names, 1):
        if name == "":
            raise ImportFileError.about(
                path,
                N_("column %(number)s has no id in the first header row"),
                grid.lines[0],
                number=number,
            )
        if name in seen:
            raise ImportFileError.about(
                path,
                N_("column %(column)s: both column %(first)s and column %(second)s are named so"),
                grid.lines[0],
                column=name,
                first=seen[name],
                second=number,
            )
        seen[name] = number


def _import_ids(grid: Grid, path: Path, names: list[str]) -> tuple[dict[str, dict[str, str]], bool]:
    """Each column's ImportId row entries, and whether they were written in single quotes
    (the 2016 Insights export); a cell that is neither form is named with its column."""
    line, row = grid.lines[2], grid.rows[2]
    found: dict[str, dict[str, str]] = {}
    problems: list[Said] = []
    single_quoted = False
    for number, name in enumerate(names):
        cell = row[number].strip() if number < len(row) else ""
        entries = _import_id(cell)
        if entries is None:
            shown = cell if len(cell) <= 60 else cell[:57] + "..."
            problems.append(
                Said(
                    N_(
                        "column %(column)s: %(value)s is not an ImportId as Qualtrics writes "
                        "it (%(example)s); was the header edited?"
                    ),
                    column=name,
                    value=repr(shown),
                    example='{"ImportId": "QID1"}',
                )
            )
            continue
        found[name] = entries
        single_quoted = single_quoted or cell.startswith("{'")
    if problems:
        more = len(problems) - _SHOWN
        raise ImportFileError(
            "\n".join(f"{path}:{line}: {problem}" for problem in problems[:_SHOWN])
            + (f"\n(and {more} more column(s))" if more > 0 else ""),
            file=path,
            problems=[(line, problem.text) for problem in problems[:_SHOWN]],
            more=max(more, 0),
        )
    return found, single_quoted


def _import_id(cell: str) -> dict[str, str] | None:
    """`{"ImportId": "QID1", "timeZone": …}` (JSON) or `{'ImportId': 'QID1'}` (Insights)."""
    if cell.startswith("{'"):
        if not _SINGLE_QUOTED.fullmatch(cell):
            return None
        entries = dict(_SINGLE_PAIR.findall(cell))
    else:
        try:
            document = json.loads(cell)
        except json.JSONDecodeError:
            return None
        if not isinstance(document, dict):
            return None
        entries = {str(k): v for k, v in document.items() if isinstance(v, str)}
    return entries if entries.get("ImportId") else None


def _frame(grid: Grid, header: _Header, path: Path) -> pd.DataFrame:
    """The rows below the header, as wide as the header, with their lines."""
    rows, lines = data_rows(grid, header.rows, len(header.names), path)
    # object columns of str: pandas' arrow-backed str dtype takes four times as long to build
    frame = pd.DataFrame(rows, columns=header.names, dtype=object)
    frame[LINE] = pd.array(lines, dtype="int64")
    return frame


def _left_out_kinds(frame: pd.DataFrame) -> pd.Series:
    """Why each row is left out: a Status kind, "unfinished", or "" to keep it."""
    kinds = pd.Series("", index=frame.index, dtype=object)
    if "Status" in frame.columns:
        status = frame["Status"]
        kinds = status.map({value: _status_kind(value) for value in status.unique()})
    if "Finished" in frame.columns:
        finished = frame["Finished"].str.strip().str.lower().isin({"true", "1"})
        kinds = kinds.where((kinds != "") | finished, Said(N_("unfinished")))
    return kinds.astype(object)


def _status_kind(value: str) -> str:
    """The kind of row a Status makes, as Qualtrics names it; empty for a real response."""
    text = value.strip()
    if text.isascii() and text.isdigit():
        label = STATUS_CODES.get(int(text))
    else:
        label = next((s for s in STATUS_CODES.values() if s.casefold() == text.casefold()), None)
    if label is None:
        if not text:
            return Said(N_("Status (empty)"))
        return Said(N_("Status %(code)s"), code=text)
    return "" if label in REAL_RESPONSES else Said(_STATUS_WORDS[label])


def _timezone(header: _Header, grid: Grid, path: Path) -> str | None:
    for column in TIME_COLUMNS:
        zone = header.import_ids.get(column, {}).get("timeZone")
        if zone:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ImportFileError.about(
                    path,
                    N_(
                        "column %(column)s: time zone %(zone)s is not a time zone name such "
                        "as %(example)s"
                    ),
                    grid.lines[2],
                    column=column,
                    zone=repr(zone),
                    example='"America/New_York"',
                ) from None
            return zone
    return None
