"""What a format's reader hands the import: the file's response rows as text, with the file's
own line numbers, and what it left out and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from surveys.infra.errors import RapportError
from surveys.infra.i18n import Text

LINE = "_line"
"""The column holding each row's line in the file: the physical line its record starts on
(a quoted cell may span lines), counted from 1; for a spreadsheet, its row number."""


class Said(str):
    """An English text (what the command line, the log and the tests read) that keeps the
    marked message it was written from, for a page to show in its reader's language.

    `Said(N_("column %(column)s: not in the file"), column="email")` equals
    "column email: not in the file"; its `text` is the `Text`. Numbers are written as
    Python writes them (line 12345, not 12,345), as the English always was.
    """

    text: Text

    def __new__(cls, message: str, **values: Any) -> Said:
        kept = {
            k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in values.items()
        }
        text = Text(message, kept)
        made = super().__new__(cls, text.render("en"))
        made.text = text
        return made

    def __reduce__(self) -> Any:
        return (_said_again, (self.text.message, self.text.values))


def _said_again(message: str, values: dict[str, Any]) -> Said:
    return Said(message, **values)


def said_text(text: str) -> Text | str:
    """The marked message a text was written from, or the text (already marked) itself."""
    return text.text if isinstance(text, Said) else text


class ImportFileError(RapportError):
    """The file cannot be imported; the message names the file and each line, column and
    reason.

    `str()` is the English the command line prints; `problems` holds the same problems as
    (line, Text) for a page to show in its reader's language (line 0: the file as a
    whole), `file` the file they are in (None: no file), `count` how many there are and
    `more` how many of them `problems` leaves out; `counted` says the English names the
    count ("3 problem(s), nothing imported").
    """

    def __init__(
        self,
        message: str = "",
        *rest: object,
        file: Path | str | None = None,
        problems: Iterable[tuple[int, Text]] = (),
        more: int = 0,
        counted: bool = False,
        **values: Any,
    ) -> None:
        super().__init__(message, *rest, **values)
        self.file = None if file is None else str(file)
        self.problems: tuple[tuple[int, Text], ...] = tuple(problems)
        if not self.problems and self.said is not None:
            self.problems = ((0, self.said),)
        self.more = more
        self.count = len(self.problems) + more
        self.counted = counted

    @classmethod
    def about(
        cls, path: Path | str, message: str, line: int | None = None, **values: Any
    ) -> ImportFileError:
        """One problem in a file, on a line if given: "<file>:<line>: <problem>"."""
        said = Said(message, **values)
        where = f"{path}:{line}" if line else str(path)
        return cls(f"{where}: {said}", file=path, problems=((line or 0, said.text),))


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
