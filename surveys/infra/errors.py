"""Expected failures: their messages are written for the person running Rapport.

The CLI prints any RapportError as one line and exits 1; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class RapportError(Exception):
    """A failure the user can act on (bad input, a missing database, a taken port)."""


class FileError(RapportError, ValueError):
    """Something in an input file is wrong; str() reads `file:line: field: problem`."""

    def __init__(self, path: Path | str, field: str, problem: str, line: int | None = None):
        self.path, self.field, self.problem, self.line = str(path), field, problem, line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {field}: {problem}")
