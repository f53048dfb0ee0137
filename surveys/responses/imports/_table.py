"""What a format's reader hands the import: the file's response rows as text, with the file's
own line numbers, and what it left out and why."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from surveys.infra.errors import RapportError

LINE = "_line"
"""The column holding each row's line in the file: the physical line its record starts on
(a quoted cell may span lines), counted from 1; for a spreadsheet, its row number."""


class ImportFileError(RapportError):
    """The file cannot be imported; the message names the file and each line, column and
    reason."""


@dataclass(frozen=True)
class Grid:
    """A file's cells, row by row, before any format reads meaning into them."""

    rows: list[list[str]]
    """Every row, header rows included; every cell as text ("" when empty)."""
    lines: list[int]
    """The physical line each row starts on, from 1 (a quoted cell may span lines); for a
    spreadsheet, the row's number."""
    notes: tuple[str, ...] = ()
    """How the file was read, for the report ("UTF-16, tab-separated")."""


@dataclass(frozen=True)
class FileTable:
    """A file's response rows, read and sorted out by its format's reader."""

    rows: pd.DataFrame
    """One row per response to check: every cell as text ("" when empty), columns named as
    the file names them (stripped), and LINE."""
    metadata: frozenset[str] = frozenset()
    """Columns that are the tool's own (ids, status, times, e-mail): never an item, never
    an unknown column; the mapping may still name one as the respondent or the time."""
    ignored: tuple[str, ...] = ()
    """Columns the reader set aside, for the report (a REDCap form other than the one
    imported)."""
    left_out: dict[str, int] = field(default_factory=dict)
    """Rows left out, by kind as a reader would say it ("unfinished", "Survey Preview",
    "Spam", "incomplete", …)."""
    timezone: str | None = None
    """The zone the file says its times are written in (Qualtrics' ImportId row), if any."""
    notes: tuple[str, ...] = ()
    """What the import's report should tell about how the file was read."""
