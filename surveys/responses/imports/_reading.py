"""A file read as its tool wrote it: the format's reader picks the response rows, the
tool's own columns and what it leaves out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from surveys.infra.i18n import N_
from surveys.responses.imports._files import data_rows, read_grid
from surveys.responses.imports._mapping import Mapping
from surveys.responses.imports._qualtrics import qualtrics_table
from surveys.responses.imports._redcap import redcap_table
from surveys.responses.imports._table import LINE, FileTable, Grid, ImportFileError

FORMATS = ("csv", "xlsx", "qualtrics", "redcap")


def format_for(name: str) -> str:
    """The format a file's name suggests when none is given: xlsx for a workbook, else csv
    (the tools' own layouts are asked for by name)."""
    return "xlsx" if name.lower().endswith(".xlsx") else "csv"


def file_table(
    path: Path, file_format: str, mapping: Mapping, mapped: frozenset[str]
) -> tuple[FileTable, str | None]:
    """The file's response rows, and the column holding submission times when the format
    names one (REDCap's form timestamp) and the mapping does not."""
    grid = read_grid(path, file_format)
    if file_format == "qualtrics":
        return _with_notes(qualtrics_table(grid, path), grid), None
    if file_format == "redcap":
        table, timestamp = redcap_table(grid, path, mapping, mapped)
        return _with_notes(table, grid), timestamp
    return _with_notes(plain_table(grid, path), grid), None


def plain_table(grid: Grid, path: Path) -> FileTable:
    """A plain file: one header row, then one row per response."""
    header = [cell.strip() for cell in grid.rows[0]]
    seen: dict[str, int] = {}
    for number, name in enumerate(header, 1):
        if name in seen:
            raise ImportFileError.about(
                path,
                N_(
                    "columns %(first)s and %(second)s are both named %(name)s; "
                    "each column needs its own name"
                ),
                grid.lines[0],
                first=seen[name],
                second=number,
                name=repr(name),
            )
        seen[name] = number
    records, lines = data_rows(grid, 1, len(header), path)
    rows = pd.DataFrame(records, columns=header, dtype=object)
    rows[LINE] = lines
    return FileTable(rows)


def _with_notes(table: FileTable, grid: Grid) -> FileTable:
    """The table with how the file was read among its notes."""
    return FileTable(
        table.rows,
        table.metadata,
        table.ignored,
        table.left_out,
        table.timezone,
        (*grid.notes, *table.notes),
    )
