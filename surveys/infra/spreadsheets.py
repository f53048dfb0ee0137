"""CSV that a spreadsheet opens safely, written whole or not at all.

A text cell starting with =, +, -, @ (or a tab or carriage return) runs as a formula when a
spreadsheet opens the file (CSV injection), so a comment like `=HYPERLINK(...)` would run
instead of showing. Every CSV Rapport writes, from the CLI, a scorecard batch or the API,
passes its text cells through `spreadsheet_safe`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a table is handed in: importing pandas here would slow every command
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting so would run as a formula in a spreadsheet."""


def spreadsheet_safe(value: object) -> object:
    """Return text a spreadsheet will show as text: formula-like starts get an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV whole or not at all: beside the file first, then renamed."""
    temporary = path.with_name(f".{path.name}.tmp")
    table.to_csv(temporary, index=False)
    temporary.replace(path)
