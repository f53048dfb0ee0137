"""A directory file's cells as text, with the physical line each row starts on.

CSV as spreadsheets really save it: UTF-8 with or without a byte-order mark, UTF-16
("Unicode text"), a legacy code page (guessed by charset-normalizer), and a comma,
semicolon (Excel where the decimal mark is a comma), tab or bar between cells. XLSX:
the first sheet, headings in row 1.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

from surveys.directory.directory_import._problems import DirectoryFileError, Problem, problem
from surveys.infra.i18n import N_, Text

FORMATS = ("csv", "xlsx")
DELIMITERS = (",", ";", "\t", "|")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class Sheet:
    """A file's table of text cells."""

    header: tuple[str, ...]
    """The column headings, trimmed."""
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    """(line, cells) for every row holding anything, cells as many as the headings."""


def format_for(filename: str, file_format: str | None) -> str:
    """The format asked for, or the one the file's name suggests (xlsx, else csv)."""
    if file_format is None:
        return "xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else "csv"
    if file_format not in FORMATS:
        raise DirectoryFileError(
            filename,
            [
                problem(
                    0, "", N_("unknown format %(format)r; formats: csv, xlsx"), format=file_format
                )
            ],
        )
    return file_format


def read_sheet(data: bytes, filename: str, file_format: str) -> Sheet:
    """Return the file's cells, or raise DirectoryFileError if it is no readable table."""
    wrong = _wrong_kind(data, file_format)
    if wrong:
        raise DirectoryFileError(filename, [problem(0, "", wrong.message)])
    header, rows = _xlsx(data, filename) if file_format == "xlsx" else _csv(data, filename)
    return _checked(header, rows, filename)


def _wrong_kind(data: bytes, file_format: str) -> Text | None:
    if not data.strip():
        return Text(N_("the file is empty"))
    if data.startswith(_OLE):
        return Text(N_("this is an old Excel .xls workbook: save it as .xlsx or CSV"))
    if file_format == "csv" and data.startswith(_ZIP):
        return Text(N_("this is an Excel workbook, not CSV: import it with --format xlsx"))
    if file_format == "xlsx" and not data.startswith(_ZIP):
        return Text(N_("this is not an XLSX workbook (Excel 2007 or later)"))
    return None


def _text(data: bytes, filename: str) -> str:
    """The file's text: by its byte-order mark, else UTF-8, else charset-normalizer's guess."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise _unreadable(
                    filename,
                    N_("not a readable CSV file: broken %(encoding)s text (%(error)s)"),
                    encoding=encoding,
                    error=error.reason,
                ) from None
    if b"\x00" in data[:4096]:  # UTF-16 saved without its mark: every other byte is zero
        head = data[:4096]
        zeros_first = head[0::2].count(0) > head[1::2].count(0)
        try:
            text = data.decode("utf-16-be" if zeros_first else "utf-16-le")
        except UnicodeDecodeError:
            raise _unreadable(
                filename, N_("not a readable CSV file: it holds binary data, not text")
            ) from None
    else:
        text = _decoded(data, filename)
    if _BINARY.search(text):
        raise _unreadable(filename, N_("not a readable CSV file: it holds binary data, not text"))
    return text


def _decoded(data: bytes, filename: str) -> str:
    """UTF-8, else the encoding charset-normalizer finds most likely (a legacy code page)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes  # lazy: only legacy files need it

        best = from_bytes(data).best()
        if best is None:
            raise _unreadable(
                filename,
                N_("not a readable CSV file: not text in any encoding Rapport recognises"),
            ) from None
        return str(best)


def _unreadable(filename: str, message: str, /, **values: Any) -> DirectoryFileError:
    return DirectoryFileError(filename, [problem(0, "", message, **values)])


def _delimiter(text: str) -> str:
    """The delimiter that splits the heading line into the most cells (a comma on a tie)."""
    first = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def _csv(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    text = _text(data, filename)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    ended = 0
    try:
        for record in reader:
            line, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = record
            else:
                rows.append((line, record))
    except csv.Error as error:
        raise DirectoryFileError(
            filename,
            [
                problem(
                    reader.line_num, "", N_("not a readable CSV line: %(error)s"), error=str(error)
                )
            ],
        ) from None
    return header or [], rows


def _xlsx(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook  # lazy: only workbooks need it

    try:
        sheet = load_workbook(io.BytesIO(data), data_only=True).worksheets[0]
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise DirectoryFileError(
            filename,
            [problem(0, "", N_("not a readable XLSX workbook: %(error)s"), error=str(error))],
        ) from None
    merged = [
        problem(1, str(cells), N_("merged heading cells: give each column its own heading"))
        for cells in sheet.merged_cells.ranges
        if cells.min_row <= 1 <= cells.max_row
    ]
    if merged:
        raise DirectoryFileError(filename, merged)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
        cells = [_cell(value) for value in values]
        if number == 1:
            header = cells
        elif any(cells):
            rows.append((number, cells))
    return header, rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a site number typed as a number
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _checked(header: list[str], rows: list[tuple[int, list[str]]], filename: str) -> Sheet:
    """Refuse a missing, blank or repeated heading; pad or trim rows to the headings."""
    heading = [cell.strip() for cell in header]
    while heading and not heading[-1]:
        heading.pop()
    if not heading:
        raise DirectoryFileError(filename, [problem(0, "", N_("the file is empty"))])
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for position, name in enumerate(heading):
        if not name:
            if any(position < len(cells) and cells[position].strip() for _, cells in rows):
                problems.append(problem(1, _letters(position), N_("has values but no heading")))
        elif name.casefold() in first:
            other = _letters(first[name.casefold()])
            problems.append(
                problem(
                    1,
                    f"{name} ({_letters(position)})",
                    N_("repeated heading: also column %(other)s"),
                    other=other,
                )
            )
        else:
            first[name.casefold()] = position
    width = len(heading)
    table: list[tuple[int, tuple[str, ...]]] = []
    for line, cells in rows:
        extra = [c for c in cells[width:] if c.strip()]
        if extra:
            problems.append(
                problem(
                    line,
                    "",
                    N_("%(cells)s cells, but only %(headings)s headings"),
                    cells=str(width + len(extra)),
                    headings=str(width),
                )
            )
        padded = [*cells[:width], *[""] * (width - len(cells))]
        table.append((line, tuple(c.strip() for c in padded)))
    if not table:
        problems.append(problem(0, "", N_("the file has headings but no rows")))
    if problems:
        raise DirectoryFileError(filename, problems)
    return Sheet(header=tuple(heading), rows=tuple(table))


def _letters(position: int) -> str:
    """A column's spreadsheet letters (0 → A, 26 → AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
