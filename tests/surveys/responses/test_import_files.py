"""Reading response files as people save them: encodings, separators, workbooks, and each
record's physical line."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from surveys.responses.imports._files import read_grid
from surveys.responses.imports._table import ImportFileError

HEADER = "email,target,comment"
RECORDS = [
    ["a@example.org", "kestrel", "one line"],
    ["b@example.org", "kestrel", "two\nlines"],
    ["c@example.org", "osprey", "three\nshort\nlines"],
    ["d@example.org", "osprey", ""],
]


def csv_text(newline: str = "\n", delimiter: str = ",") -> str:
    """HEADER and RECORDS, quoted where a cell holds a line break, lines ended by `newline`."""
    lines = [HEADER.replace(",", delimiter)]
    for email, target, comment in RECORDS:
        cell = f'"{comment}"' if "\n" in comment else comment
        lines.append(delimiter.join([email, target, cell]).replace("\n", newline))
    return newline.join(lines) + newline


def write(tmp_path: Path, data: bytes, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_each_record_starts_on_its_physical_line(tmp_path: Path, newline: str) -> None:
    grid = read_grid(write(tmp_path, csv_text(newline).encode()), "csv")
    assert grid.lines == [1, 2, 3, 5, 8], "a quoted line break moves the next record down"
    assert [row[2] for row in grid.rows[1:]] == [
        "one line",
        f"two{newline}lines",
        f"three{newline}short{newline}lines",
        "",
    ]


def test_blank_lines_are_no_row_but_still_count(tmp_path: Path) -> None:
    grid = read_grid(write(tmp_path, b"email,target\n\na@example.org,kestrel\n\n\n"), "csv")
    assert grid.rows == [["email", "target"], ["a@example.org", "kestrel"]]
    assert grid.lines == [1, 3]


@pytest.mark.parametrize(
    ("data", "note"),
    [
        ("é,ü\n".encode(), "UTF-8, comma-separated"),
        (codecs.BOM_UTF8 + "é,ü\n".encode(), "UTF-8, comma-separated"),
        (codecs.BOM_UTF16_LE + "é\tü\r\n".encode("utf-16-le"), "UTF-16, tab-separated"),
        (codecs.BOM_UTF16_BE + "é\tü\r\n".encode("utf-16-be"), "UTF-16, tab-separated"),
        ("é\tü\r\n".encode("utf-16-le"), "UTF-16 (no byte-order mark), tab-separated"),
        ("é;ü\r\n".encode("cp1252"), "Windows-1252 (not UTF-8), semicolon-separated"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "utf-16-no-bom", "windows-1252"],
)
def test_each_encoding_is_read_and_named(tmp_path: Path, data: bytes, note: str) -> None:
    grid = read_grid(write(tmp_path, data), "csv")
    assert grid.rows == [["é", "ü"]], "no byte-order mark left in the first cell"
    assert grid.notes == (note,)


def test_windows_1252_curly_quotes_and_euro_are_read(tmp_path: Path) -> None:
    text = "email;comment\na@example.org;“Budgets” under 5 000 €\n"
    grid = read_grid(write(tmp_path, text.encode("cp1252")), "csv")
    assert grid.rows[1] == ["a@example.org", "“Budgets” under 5 000 €"]


def test_a_file_in_no_known_encoding_names_the_line(tmp_path: Path) -> None:
    # 0x81 is undefined in Windows-1252 and cannot start a UTF-8 character
    path = write(tmp_path, b"email,comment\na@example.org,fine\nb@example.org,bad \x81 byte\n")
    with pytest.raises(ImportFileError, match=r"file\.csv:3: cannot be read: not UTF-8 \(byte"):
        read_grid(path, "csv")


def test_a_damaged_utf8_file_is_not_read_as_windows_1252(tmp_path: Path) -> None:
    data = "email,comment\na@example.org,café\n".encode() + b"b@example.org,caf\xe9\n"
    with pytest.raises(ImportFileError, match=r"file\.csv:3: cannot be read: byte 0xe9 is not"):
        read_grid(write(tmp_path, data), "csv")


def test_a_utf16_file_cut_short_names_the_line(tmp_path: Path) -> None:
    data = codecs.BOM_UTF16_LE + "a,b\r\nc,d\r\n".encode("utf-16-le") + b"\x00\xd8"
    with pytest.raises(ImportFileError, match=r"file\.csv:3: cannot be read as UTF-16 text"):
        read_grid(write(tmp_path, data), "csv")


@pytest.mark.parametrize(("delimiter", "note"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_the_separator_is_found(tmp_path: Path, delimiter: str, note: str) -> None:
    grid = read_grid(write(tmp_path, csv_text("\r\n", delimiter).encode()), "csv")
    assert grid.notes == (f"UTF-8, {note}-separated",)
    assert grid.rows[0] == ["email", "target", "comment"]
    assert grid.lines == [1, 2, 3, 5, 8]


@pytest.mark.parametrize(
    ("first_line", "cells"),
    [
        ('"Score; 0-10",email\n', ["Score; 0-10", "email"]),
        ("email\n", ["email"]),
        ("a;b,c\n", ["a;b", "c"]),
    ],
    ids=["quoted-semicolon", "one-column", "tie"],
)
def test_a_doubtful_separator_is_a_comma(tmp_path: Path, first_line: str, cells: list[str]) -> None:
    grid = read_grid(write(tmp_path, first_line.encode()), "csv")
    assert grid.rows == [cells]


def workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Responses"
    sheet.append(["email", "submitted", "score", "ratio", "finished", "note"])
    sheet.append(["a@example.org", dt.datetime(2026, 11, 2, 13, 6, 12), 4, 0.9, True, None])
    sheet.append([])
    sheet.append(["b@example.org", dt.date(2026, 11, 3), 4.0, 12.5, False, "two\nlines"])
    book.create_sheet("Notes").append(["never read"])
    book.save(path)
    return path


def test_a_workbook_is_read_from_its_first_sheet_as_text(tmp_path: Path) -> None:
    grid = read_grid(workbook(tmp_path / "book.xlsx"), "xlsx")
    assert grid.rows[1:] == [
        ["a@example.org", "2026-11-02 13:06:12", "4", "0.9", "True", ""],
        ["b@example.org", "2026-11-03 00:00:00", "4", "12.5", "False", "two\nlines"],
    ], "whole numbers without .0, times in ISO; a date cell is a datetime to openpyxl"
    assert grid.lines == [1, 2, 4], "the sheet's row numbers; the empty row is skipped"
    assert grid.notes == ("XLSX, sheet 'Responses' (the first of 2)",)


def test_a_workbook_is_known_by_its_content_whatever_the_format(tmp_path: Path) -> None:
    grid = read_grid(workbook(tmp_path / "export.csv"), "qualtrics")
    assert grid.rows[0][0] == "email"


@pytest.mark.parametrize(
    ("data", "file_format", "problem"),
    [
        (b"", "csv", "the file is empty"),
        (b"\r\n\n  \n", "csv", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "csv", "not a CSV file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "xlsx", r"Excel 97-2003 workbook"),
        (b"email,target\n", "xlsx", "not an XLSX workbook"),
        (b"PK\x03\x04 not really a zip", "xlsx", "not a readable XLSX workbook"),
    ],
    ids=["empty", "blank", "binary", "xls", "csv-as-xlsx", "broken-zip"],
)
def test_a_file_that_is_not_a_table_is_refused_by_name(
    tmp_path: Path, data: bytes, file_format: str, problem: str
) -> None:
    path = write(tmp_path, data, "upload.bin")
    with pytest.raises(ImportFileError, match=rf"upload\.bin: .*{problem}"):
        read_grid(path, file_format)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"nowhere\.csv: no such file"):
        read_grid(tmp_path / "nowhere.csv", "csv")
