"""Expected failures: their messages are written for the person running Rapport.

The CLI prints any RapportError as one line and exits 1; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from surveys.infra.i18n import Text


class RapportError(Exception):
    """A failure the user can act on (bad input, a missing database, a taken port).

    The message may hold `%(name)s` placeholders, filled from keyword values: `str()` is
    the English (for the command line and the log), `said` the same text for a page to
    show in its reader's language. Mark the message with `N_` where it is raised:
    `raise ActionItemError(N_("keep the title under %(n)s characters"), n=200)`.
    """

    def __init__(self, message: str = "", *rest: object, **values: Any) -> None:
        self.said: Text | None = Text(message, values) if values or "%" not in message else None
        super().__init__(message % values if values else message, *rest)


class FileError(RapportError, ValueError):
    """Something in an input file is wrong; str() reads `file:line: field: problem`."""

    def __init__(self, path: Path | str, field: str, problem: str, line: int | None = None):
        self.path, self.field, self.problem, self.line = str(path), field, problem, line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {field}: {problem}")
