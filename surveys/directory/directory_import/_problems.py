"""What is wrong with a directory file: each problem with its line, column and reason.

A reason is written once, as a marked message with its values (`problem(...)`): the
command prints it in English, the console in its reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from surveys.infra.errors import FileError, RapportError
from surveys.infra.i18n import Text

ENGLISH = "en"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a file, where a person can find it."""

    line: int
    """The file's physical line (a CSV's line, an XLSX's row number); 0 for the whole file."""
    column: str
    """The column as the file names it (its heading); empty when the line as a whole is wrong."""
    reason: str
    """Why, in English (as the command prints it)."""
    said: Text | None = field(default=None, compare=False)
    """The same reason for a page to translate (`| translate`); see `text`."""

    @property
    def text(self) -> Text:
        """The reason to show in the reader's language (the English reason, when unmarked)."""
        return self.said or Text("%(reason)s", {"reason": self.reason})

    def where(self, filename: str) -> str:
        """`FILE:LINE: column COL: reason`, as the command prints it."""
        place = f"{filename}:{self.line}" if self.line else filename
        column = f" column {self.column}:" if self.column else ""
        return f"{place}:{column} {self.reason}"


def problem(line: int, column: str, message: str, /, **values: Any) -> Problem:
    """A problem whose reason is a marked message (`N_`) with its values: the English is
    the message rendered in English. Pass a line number as text (`str(line)`): it is
    written without a thousands separator."""
    said = Text(message, values)
    return Problem(line, column, said.render(ENGLISH), said)


def refused(line: int, column: str, error: RapportError | OSError) -> Problem:
    """A problem whose reason is an error's: a refusal's own text, or the system's words."""
    if isinstance(error, OSError):
        return Problem(line, column, error.strerror or str(error))
    return Problem(line, column, str(error), error.said)


class DirectoryFileError(FileError):
    """A directory file that cannot be imported; str() lists every problem, one per line."""

    def __init__(self, filename: str, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(set(problems)))
        if not self.problems:
            raise ValueError("a DirectoryFileError needs at least one problem")
        first = self.problems[0]
        super().__init__(filename, first.column, first.reason, first.line or None)
        self.filename = filename
        count = len(self.problems)
        heading = f"{filename}: {count} problem{'s' if count > 1 else ''}, nothing imported"
        self.args = ("\n".join([heading, *(p.where(filename) for p in self.problems)]),)

    def __str__(self) -> str:
        return str(self.args[0])
