"""Qualtrics exports in each layout (today's, numeric or choice text; the 2016 Insights
export; the legacy V1, V2, … export; UTF-16 TSV; XLSX): real, finished responses kept with
their physical lines, the rest counted by kind. Expectations are those in
tests/data/imports/qualtrics/README.md."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import fnmatch
import io
from pathlib import Path

import openpyxl
import pytest

from surveys.responses.imports._files import read_grid
from surveys.responses.imports._mapping import load_mapping
from surveys.responses.imports._qualtrics import STATUS_CODES, qualtrics_table
from surveys.responses.imports._table import LINE, FileTable, Grid, ImportFileError

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "imports" / "qualtrics"
LEFT_OUT = {"Survey Preview": 1, "Spam": 1, "Survey Test": 1, "unfinished": 1}
COMMENT = "Faster contracts, please.\nAnd one monitor per study."


def table(path: Path) -> FileTable:
    return qualtrics_table(read_grid(path, "qualtrics"), path)


def sample_text(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def written(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize("name", ["numeric.csv", "choice_text.csv", "choice_text_unicode.tsv"])
def test_todays_export_keeps_real_finished_responses_on_their_lines(name: str) -> None:
    found = table(SAMPLES / name)
    assert list(found.rows[LINE]) == [4, 6], "the first comment spans lines 4 and 5"
    assert list(found.rows["RecipientEmail"]) == ["{email1}", "{email2}"]
    assert list(found.rows["ExternalReference"]) == ["{target1}", "{target2}"]
    assert found.left_out == LEFT_OUT
    assert found.timezone == "America/New_York"
    assert found.rows["RecordedDate"][0] == "2026-11-02 13:06:12"
    assert found.rows["Q2"][0] == COMMENT


def test_numeric_and_choice_text_exports_differ_only_in_their_cells() -> None:
    numeric, text = table(SAMPLES / "numeric.csv"), table(SAMPLES / "choice_text.csv")
    assert list(numeric.rows.columns) == list(text.rows.columns)
    assert list(numeric.rows["Status"]) == ["0", "16"]
    assert list(text.rows["Status"]) == ["IP Address", "Offline"]
    assert (numeric.rows["Q3_1"][0], text.rows["Q3_1"][0]) == ("4", "Agree")
    assert (numeric.rows["Q4_1"][0], text.rows["Q4_1"][0]) == ("6", "Not applicable")


def test_every_column_is_kept_as_the_file_names_it() -> None:
    found = table(SAMPLES / "numeric.csv")
    ids = next(csv.reader(io.StringIO(sample_text("numeric.csv"))))
    assert list(found.rows.columns) == [*ids, LINE]
    assert all(isinstance(cell, str) for cell in found.rows.iloc[1].drop(LINE))
    assert found.rows["Q3_2"][1] == "", "an empty cell is empty text"


def test_metadata_is_qualtrics_own_columns_only() -> None:
    found = table(SAMPLES / "numeric.csv")
    assert {"RecipientEmail", "Status", "Q_RecaptchaScore", "Duration (in seconds)"} <= (
        found.metadata
    )
    assert not {"Q1_1", "Q2", "Q2 - Topics", LINE} & found.metadata


def test_a_crlf_export_has_the_same_lines_and_cells(tmp_path: Path) -> None:
    path = written(tmp_path, sample_text("numeric.csv").replace("\n", "\r\n"))
    found = table(path)
    assert list(found.rows[LINE]) == [4, 6]
    assert found.rows["Q2"][0] == COMMENT.replace("\n", "\r\n"), "the cell as written"
    assert found.left_out == LEFT_OUT


def test_a_preview_without_recipient_is_left_out_not_refused() -> None:
    grid = read_grid(SAMPLES / "numeric.csv", "qualtrics")
    preview = next(row for row in grid.rows if row[2] == "1")
    assert preview[11] == "", "the preview row has no RecipientEmail"
    assert "" not in set(table(SAMPLES / "numeric.csv").rows["RecipientEmail"])


def test_the_unicode_text_sample_is_the_choice_text_export_saved_as_utf16_tsv() -> None:
    rows = list(csv.reader(io.StringIO(sample_text("choice_text.csv"), newline="")))
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter="\t", lineterminator="\r\n").writerows(rows)
    expected = codecs.BOM_UTF16_LE + buffer.getvalue().encode("utf-16-le")
    assert (SAMPLES / "choice_text_unicode.tsv").read_bytes() == expected
    tsv, text = table(SAMPLES / "choice_text_unicode.tsv"), table(SAMPLES / "choice_text.csv")
    assert tsv.rows.equals(text.rows)
    assert read_grid(SAMPLES / "choice_text_unicode.tsv", "qualtrics").notes == (
        "UTF-16, tab-separated",
    )
    assert tsv.notes == ("Qualtrics export: three header rows",)
    assert tsv.timezone == "America/New_York"


def test_an_xlsx_export_reads_as_its_csv(tmp_path: Path) -> None:
    """Qualtrics' Excel export, with numbers and times typed as Excel holds them."""
    rows = list(csv.reader(io.StringIO(sample_text("numeric.csv"), newline="")))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append([typed(cell) for cell in row])
    book.save(tmp_path / "export.xlsx")
    found, expected = table(tmp_path / "export.xlsx"), table(SAMPLES / "numeric.csv")
    assert list(found.rows[LINE]) == [4, 5], "a sheet's row holds the whole comment"
    assert found.rows.drop(columns=LINE).equals(expected.rows.drop(columns=LINE))
    assert (found.left_out, found.timezone) == (expected.left_out, expected.timezone)


def typed(cell: str) -> object:
    """The cell as Excel would hold it: a number, a time, or text."""
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    try:
        return dt.datetime.strptime(cell, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return cell or None


def test_the_legacy_export_reads_with_todays_names() -> None:
    found = table(SAMPLES / "legacy.csv")
    assert list(found.rows[LINE]) == [3, 5]
    assert found.left_out == {"Survey Preview": 1, "unfinished": 1}
    assert found.timezone is None
    assert list(found.rows.columns[:11]) == [
        "ResponseId",
        "ResponseSet",
        "Name",
        "ExternalReference",
        "RecipientEmail",
        "IPAddress",
        "Status",
        "StartDate",
        "EndDate",
        "RecordedDate",
        "Finished",
    ]
    assert list(found.rows["RecordedDate"]) == list(found.rows["EndDate"])
    assert "" not in found.rows.columns, "the empty column after each line's last comma"
    assert found.rows["Name"][0] == "Doe, Jane"
    assert {"ResponseSet", "Name", "LocationAccuracy"} <= found.metadata
    assert found.notes == (
        "legacy Qualtrics export (V1, V2, …, two header rows): ResponseID as ResponseId, "
        "EmailAddress as RecipientEmail, ExternalDataReference as ExternalReference",
        "RecordedDate is EndDate (the file has no RecordedDate)",
    )


@pytest.mark.parametrize("name", ["numeric.csv", "insights.csv", "legacy.csv"])
def test_the_default_mapping_finds_its_columns_in_every_layout(name: str) -> None:
    default = load_mapping(None, "qualtrics")
    columns = set(table(SAMPLES / name).rows.columns)
    assert {default.respondent, default.target, default.submitted_at} <= columns


def test_the_insights_export_writes_its_import_ids_in_single_quotes() -> None:
    found = table(SAMPLES / "insights.csv")
    assert list(found.rows[LINE]) == [4, 7]
    assert found.left_out == {"Spam": 1}
    assert found.timezone is None, "the 2016 export names no time zone"
    assert found.notes == ("Qualtrics Insights export (2016): ImportIds in single quotes",)


def test_a_single_quoted_import_id_may_name_the_time_zone(tmp_path: Path) -> None:
    text = sample_text("insights.csv").replace(
        "{'ImportId': 'recordedDate'}", "\"{'ImportId': 'recordedDate', 'timeZone': 'Asia/Tokyo'}\""
    )
    assert table(written(tmp_path, text)).timezone == "Asia/Tokyo"


def test_a_broken_import_id_row_names_line_and_column(tmp_path: Path) -> None:
    text = sample_text("numeric.csv").replace('"{""ImportId"":""QID3_1""}"', "{ImportId: QID3_1}")
    with pytest.raises(
        ImportFileError, match=r"export\.csv:3: column Q3_1: '\{ImportId: QID3_1\}'"
    ):
        table(written(tmp_path, text))


def test_the_import_id_rows_line_is_physical(tmp_path: Path) -> None:
    """A question text may hold a line break; the ImportId row is then on line 4."""
    text = (
        sample_text("numeric.csv")
        .replace(
            "What one thing should this sponsor change",
            '"What one thing\nshould this sponsor change',
        )
        .replace("easier?,Q2 - Topics", 'easier?",Q2 - Topics')
    )
    text = text.replace('"{""ImportId"":""QID30""}"', '"{""ImportId"":QID30}"')
    with pytest.raises(ImportFileError, match=r"export\.csv:4: column Q30: "):
        table(written(tmp_path, text))


def test_a_header_without_its_import_id_row_is_refused(tmp_path: Path) -> None:
    lines = sample_text("numeric.csv").split("\n")
    path = written(tmp_path, "\n".join([*lines[:2], *lines[3:]]))
    with pytest.raises(ImportFileError, match=r"export\.csv:3: a Qualtrics export has three"):
        table(path)


def test_an_unknown_time_zone_in_the_file_is_refused(tmp_path: Path) -> None:
    text = sample_text("numeric.csv").replace("America/New_York", "America/Gotham")
    with pytest.raises(ImportFileError, match=r"export\.csv:3: column RecordedDate: time zone"):
        table(written(tmp_path, text))


def test_a_row_wider_than_the_header_is_refused_unless_the_extra_cells_are_empty(
    tmp_path: Path,
) -> None:
    lines = sample_text("legacy.csv").split("\n")
    lines[4] += ",,"
    assert list(table(written(tmp_path, "\n".join(lines))).rows[LINE]) == [3, 5]
    lines[4] += "surprise"
    with pytest.raises(ImportFileError, match=r"export\.csv:5: 21 cells, but the header names 18"):
        table(written(tmp_path, "\n".join(lines)))


def status_grid(statuses: list[str], finished: list[str]) -> Grid:
    header = [["Status", "Finished", "RecipientEmail"], ["Response Type", "Finished", "Email"]]
    ids = [['{"ImportId":"status"}', '{"ImportId":"finished"}', '{"ImportId":"recipientEmail"}']]
    rows = [
        [s, f, f"r{n}@example.org"] for n, (s, f) in enumerate(zip(statuses, finished, strict=True))
    ]
    return Grid([*header, *ids, *rows], list(range(1, len(rows) + 4)))


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("0", None),
        ("4", None),
        ("16", None),
        ("IP Address", None),
        ("Imported", None),
        ("offline", None),
        ("1", "Survey Preview"),
        ("2", "Survey Test"),
        ("8", "Spam"),
        ("9", "Survey Preview Spam"),
        ("12", "Imported Spam"),
        ("17", "Offline Survey Preview"),
        ("Survey Preview", "Survey Preview"),
        ("Spam", "Spam"),
        ("99", "Status 99"),
        ("Synthetic", "Status Synthetic"),
        ("", "Status (empty)"),
        ("²", "Status ²"),
    ],
)
def test_only_real_responses_are_kept_whatever_the_status_says(
    status: str, kind: str | None
) -> None:
    found = qualtrics_table(status_grid([status], ["1"]), Path("export.csv"))
    assert found.left_out == ({} if kind is None else {kind: 1})
    assert len(found.rows) == (1 if kind is None else 0)


def test_a_status_code_is_named_as_the_choice_text_export_names_it() -> None:
    codes = [str(code) for code in STATUS_CODES]
    labels = list(STATUS_CODES.values())
    by_code = qualtrics_table(status_grid(codes, ["1"] * len(codes)), Path("a.csv"))
    by_label = qualtrics_table(status_grid(labels, ["True"] * len(labels)), Path("b.csv"))
    assert by_code.left_out == by_label.left_out
    assert list(by_code.rows[LINE]) == list(by_label.rows[LINE])


def test_unfinished_rows_are_left_out_and_a_status_is_told_first() -> None:
    grid = status_grid(["0", "0", "0", "1", "0"], ["1", "0", "False", "0", "TRUE"])
    found = qualtrics_table(grid, Path("export.csv"))
    assert list(found.rows[LINE]) == [4, 8]
    assert found.left_out == {"unfinished": 2, "Survey Preview": 1}


def test_rows_with_no_cell_filled_are_no_response(tmp_path: Path) -> None:
    text = sample_text("legacy.csv") + ",,,,,,,,,,,,,,,,,,\n"
    found = table(written(tmp_path, text))
    assert list(found.rows[LINE]) == [3, 5]
    assert found.left_out == {"Survey Preview": 1, "unfinished": 1}


MAPPINGS = [
    ("numeric.csv", "numeric_mapping.toml"),
    ("choice_text.csv", "choice_text_mapping.toml"),
    ("choice_text_unicode.tsv", "choice_text_mapping.toml"),
    ("insights.csv", "insights_mapping.toml"),
    ("legacy.csv", "legacy_mapping.toml"),
]


@pytest.mark.parametrize(("name", "mapping_name"), MAPPINGS)
def test_each_sample_column_is_qualtrics_own_mapped_or_ignored(
    name: str, mapping_name: str
) -> None:
    mapping = load_mapping(SAMPLES / mapping_name, "qualtrics")
    found = table(SAMPLES / name)
    columns = set(found.rows.columns) - {LINE}
    assert set(mapping.items) <= columns, "every mapped column is in the file"
    assert {mapping.respondent, mapping.target, mapping.submitted_at} <= found.metadata
    rest = columns - found.metadata - set(mapping.items)
    ignored = {c for c in rest if any(fnmatch.fnmatchcase(c, p) for p in mapping.ignore)}
    assert mapping.ignore_unmapped or rest == ignored, f"neither mapped nor ignored: {rest}"


def test_the_catalogue_describes_every_sample() -> None:
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for path in SAMPLES.iterdir():
        if path.name != "README.md":
            assert f"`{path.name}`" in readme, path.name
