"""Reading a response file as people save it into a Grid of text cells with physical lines.

A CSV comes in UTF-8 (with or without a byte-order mark), UTF-16 (Qualtrics' and Excel's
"Unicode text", tab-separated), or Windows-1252 when Excel saved it on Windows; separated
by commas, semicolons (Excel where the decimal mark is a comma) or tabs. An XLSX workbook
is read from its first sheet. Nothing here knows what the cells mean: each format's reader
does (`_qualtrics`, …).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from surveys.infra.i18n import N_
from surveys.responses.imports._table import Grid, ImportFileError, Said

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
"""The separators a CSV may use, and how the report names them."""

_NO_BOM = "UTF-16 (no byte-order mark)"
_WINDOWS = "Windows-1252 (not UTF-8)"
_READ_AS = {
    **{
        (encoding, ","): N_("%(encoding)s, comma-separated")
        for encoding in ("UTF-8", "UTF-16", "UTF-32")
    },
    **{
        (encoding, ";"): N_("%(encoding)s, semicolon-separated")
        for encoding in ("UTF-8", "UTF-16", "UTF-32")
    },
    **{
        (encoding, "\t"): N_("%(encoding)s, tab-separated")
        for encoding in ("UTF-8", "UTF-16", "UTF-32")
    },
    (_NO_BOM, ","): N_("UTF-16 (no byte-order mark), comma-separated"),
    (_NO_BOM, ";"): N_("UTF-16 (no byte-order mark), semicolon-separated"),
    (_NO_BOM, "\t"): N_("UTF-16 (no byte-order mark), tab-separated"),
    (_WINDOWS, ","): N_("Windows-1252 (not UTF-8), comma-separated"),
    (_WINDOWS, ";"): N_("Windows-1252 (not UTF-8), semicolon-separated"),
    (_WINDOWS, "\t"): N_("Windows-1252 (not UTF-8), tab-separated"),
}
"""How the report says the file was read: its encoding and its separator."""

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_BOMS = (
    # UTF-32 before UTF-16: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_QUOTED = re.compile(r'"(?:[^"]|"")*"')


def read_grid(path: Path, file_format: str) -> Grid:
    """Return every row of the file (header rows included) as text cells, each with the
    physical line it starts on, and how the file was read.

    A workbook is recognised by its content whatever `file_format` says (Qualtrics also
    exports Excel files); `file_format` "xlsx" on a file that is not one is an error.
    Errors name the file, and the line where known.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError.about(path, N_("no such file")) from None
    except OSError as error:
        raise ImportFileError.about(
            path, "%(reason)s", reason=str(error.strerror or error)
        ) from None
    if data.startswith(_XLSX_MAGIC):
        return _workbook_grid(path, data)
    if data.startswith(_XLS_MAGIC):
        raise ImportFileError.about(
            path, N_("an Excel 97-2003 workbook (.xls); save it as .xlsx or as CSV UTF-8")
        )
    if file_format == "xlsx":
        raise ImportFileError.about(
            path, N_("not an XLSX workbook; if it is a CSV file, say --format csv")
        )
    text, encoding = _decoded(path, data)
    if "\x00" in text:
        raise ImportFileError.about(path, N_("not a CSV file (it holds binary data)"))
    if not text.strip():
        raise ImportFileError.about(path, N_("the file is empty"))
    delimiter = _delimiter(text)
    rows, lines = _csv_rows(path, text, delimiter)
    if not rows:
        raise ImportFileError.about(path, N_("the file is empty"))
    return Grid(rows, lines, (Said(_READ_AS[encoding, delimiter], encoding=encoding),))


def _decoded(path: Path, data: bytes) -> tuple[str, str]:
    """Return the file's text and the name of its encoding for the report."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return _decode(path, data, codec, name), name
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return _decode(path, data, utf16, "UTF-16"), _NO_BOM
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as not_utf8:
        if not data[: not_utf8.start].isascii():
            # UTF-8 accents before the bad byte: a UTF-8 file, damaged, not Windows-1252
            line = data.count(b"\n", 0, not_utf8.start) + 1
            raise ImportFileError.about(
                path,
                N_(
                    "cannot be read: byte %(byte)s is not UTF-8, though the lines before it "
                    "are; save the file again as CSV UTF-8"
                ),
                line,
                byte=f"0x{data[not_utf8.start]:02x}",
            ) from None
        try:
            return data.decode("cp1252"), _WINDOWS
        except UnicodeDecodeError as not_1252:
            line = data.count(b"\n", 0, not_utf8.start) + 1
            other = data.count(b"\n", 0, not_1252.start) + 1
            raise ImportFileError.about(
                path,
                N_(
                    "cannot be read: not UTF-8 (byte %(byte)s on line %(byte_line)s) nor "
                    "Windows-1252 (byte %(other_byte)s on line %(other_line)s); save the file "
                    "as CSV UTF-8"
                ),
                line,
                byte=f"0x{data[not_utf8.start]:02x}",
                byte_line=line,
                other_byte=f"0x{data[not_1252.start]:02x}",
                other_line=other,
            ) from None


def _decode(path: Path, data: bytes, codec: str, name: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        # the text up to the bad byte decodes, and its newlines count the lines before it
        before = data[: error.start].decode(codec, errors="replace")
        line = before.count("\n") + 1
        raise ImportFileError.about(
            path,
            N_("cannot be read as %(encoding)s text: %(reason)s"),
            line,
            encoding=name,
            reason=error.reason,
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without its byte-order mark, told by the zero byte of each ASCII character."""
    head = data[:4096]
    if len(head) < 4 or head.count(0) < len(head) // 4:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 3 * even:
        return "utf-16-le"
    if even > 3 * odd:
        return "utf-16-be"
    return None


def _delimiter(text: str) -> str:
    """The separator counted most often on the first line outside quotes; comma if none
    or a tie (Qualtrics' and REDCap's ids hold none of the three)."""
    first = _QUOTED.sub("", text.lstrip("\r\n").split("\n", 1)[0])
    counts = {d: first.count(d) for d in DELIMITERS}
    most = max(counts.values())
    winners = [d for d, n in counts.items() if n == most]
    return winners[0] if most and len(winners) == 1 else ","


def _csv_rows(path: Path, text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Every record and the physical line it starts on; blank lines are no record.

    io.StringIO with newline="" hands csv one physical line at a time ("\\r\\n" is one), so
    `line_num` counts physical lines, and a quoted cell keeps its own line breaks.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    add_row, add_line = rows.append, lines.append  # the loop runs once per record
    start = 1
    try:
        for row in reader:
            if row:
                add_row(row)
                add_line(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError.about(
            path, N_("not a readable CSV record (%(reason)s)"), start, reason=str(error)
        ) from None
    return rows, lines


def _workbook_grid(path: Path, data: bytes) -> Grid:
    """The first sheet's rows, numbered as the sheet numbers them; empty rows are skipped."""
    import openpyxl  # only a workbook pays for loading it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise ImportFileError.about(
            path, N_("not a readable XLSX workbook (%(reason)s)"), reason=str(error)
        ) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError.about(path, N_("the workbook has no sheet"))
        sheet = workbook.worksheets[0]
        rows: list[list[str]] = []
        lines: list[int] = []
        for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
            cells = _texts(values)
            if any(cells):
                rows.append(cells)
                lines.append(number)
        count = len(workbook.worksheets)
    finally:
        workbook.close()
    if not rows:
        raise ImportFileError.about(path, N_("the workbook's first sheet is empty"))
    note = (
        Said(
            N_("XLSX, sheet %(sheet)s (the first of %(count)s)"),
            sheet=repr(sheet.title),
            count=count,
        )
        if count > 1
        else Said(N_("XLSX, sheet %(sheet)s (the only one)"), sheet=repr(sheet.title))
    )
    return Grid(rows, lines, (note,))


def _texts(values: Iterable[object]) -> list[str]:
    """Each cell as the spreadsheet shows it, near enough: whole numbers without ".0",
    times in ISO 8601 with a space (as Qualtrics writes them in its CSV)."""
    cells = []
    for value in values:
        if value is None:
            cells.append("")
        elif isinstance(value, dt.datetime):
            cells.append(value.isoformat(sep=" "))
        elif isinstance(value, dt.date | dt.time):
            cells.append(value.isoformat())
        elif isinstance(value, float) and value.is_integer():
            cells.append(str(int(value)))
        else:
            cells.append(str(value))
    return cells


def data_rows(grid: Grid, first: int, width: int, path: Path) -> tuple[list[list[str]], list[int]]:
    """The rows from `first` on (below the header rows), each as wide as the header, with
    their lines: short rows padded, empty trailing cells dropped, blank rows skipped. A row
    with more filled cells than the header names is an error on its line."""
    rows: list[list[str]] = []
    lines: list[int] = []
    for row, line in zip(grid.rows[first:], grid.lines[first:], strict=True):
        if len(row) != width:
            if len(row) < width:
                row = row + [""] * (width - len(row))
            elif any(cell.strip() for cell in row[width:]):
                raise ImportFileError.about(
                    path,
                    N_("%(cells)s cells, but the header names %(columns)s columns"),
                    line,
                    cells=len(row),
                    columns=width,
                )
            else:
                row = row[:width]
        if any(cell.strip() for cell in row):
            rows.append(row)
            lines.append(line)
    return rows, lines
