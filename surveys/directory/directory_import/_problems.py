"""What is wrong with a directory file: each problem with its line, column and reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from surveys.infra.errors import FileError


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a file, where a person can find it."""

    line: int
    """The file's physical line (a CSV's line, an XLSX's row number); 0 for the whole file."""
    column: str
    """The column as the file names it (its heading); empty when the line as a whole is wrong."""
    reason: str

    def where(self, filename: str) -> str:
        """`FILE:LINE: column COL: reason`, as the command prints it."""
        place = f"{filename}:{self.line}" if self.line else filename
        column = f" column {self.column}:" if self.column else ""
        return f"{place}:{column} {self.reason}"


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
