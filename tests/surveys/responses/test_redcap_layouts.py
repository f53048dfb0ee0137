"""Reading REDCap exports in their real layouts: which form, event and rows are the responses.

Pure: no database. The samples in tests/data/imports/redcap/ are described in its README.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from surveys.responses.imports import LINE, FileTable, ImportFileError, Mapping, load_mapping
from surveys.responses.imports._redcap import redcap_table
from surveys.responses.imports._table import Grid

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "imports" / "redcap"
ITEM_KEYS = frozenset(
    {
        "protocol_feasible",
        "feasibility_feedback_used",
        "monitor_knows_protocol",
        "work_again",
        "comment",
        "protocol_design__importance",
    }
)
RAW_DEFAULT = load_mapping(None, "redcap")
LIKELY = "How likely is it that your site would choose to work with the sponsor again?"


def grid_of(text: str) -> Grid:
    """Every CSV row with the physical line it starts on, as the import's reader hands them."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, lines, end = [], [], 0
    for row in reader:
        rows.append(row)
        lines.append(end + 1)
        end = reader.line_num
    return Grid(rows, lines)


def filled(text: str) -> str:
    """The sample with made-up respondents and partners in place of {email1}, {target1}, …."""
    for n in (1, 2, 3):
        text = text.replace(f"{{email{n}}}", f"site{n}@example.org")
        text = text.replace(f"{{target{n}}}", f"partner-{n}")
    return text


def mapped_columns(grid: Grid, mapping: Mapping) -> frozenset[str]:
    """The file's columns mapped to items: [items] keys, and columns named like item keys."""
    return frozenset(
        c.strip() for c in grid.rows[0] if c.strip() in mapping.items or c in ITEM_KEYS
    )


def read(
    name: str, mapping: Mapping | None = None, mapped: frozenset[str] | None = None
) -> tuple[FileTable, str | None]:
    """Read a sample with its mapping (or another), as the import would."""
    path = SAMPLES / f"{name}.csv"
    grid = grid_of(filled(path.read_text(encoding="utf-8")))
    if mapping is None:
        mapping = load_mapping(SAMPLES / f"{name}_mapping.toml", "redcap")
    return redcap_table(
        grid, path, mapping, mapped_columns(grid, mapping) if mapped is None else mapped
    )


def read_text(
    text: str, mapping: Mapping = RAW_DEFAULT, mapped: frozenset[str] | None = None
) -> tuple[FileTable, str | None]:
    grid = grid_of(text)
    path = Path("inline.csv")
    return redcap_table(
        grid, path, mapping, mapped_columns(grid, mapping) if mapped is None else mapped
    )


def with_redcap(mapping: Mapping, **choice: str | None) -> Mapping:
    return replace(mapping, redcap=replace(mapping.redcap, **choice))


def lines(table: FileTable) -> list[int]:
    return [int(line) for line in table.rows[LINE]]


# -- two forms, raw ---------------------------------------------------------------------


def test_an_unfinished_questionnaire_is_left_out_though_another_form_is_complete() -> None:
    table, timestamp = read("two_forms")
    assert lines(table) == [2, 4]  # line 3 finished its profile, not its feedback
    assert table.left_out == {"incomplete": 1}
    assert timestamp == "site_feedback_timestamp"


def test_a_finished_questionnaire_is_kept_though_another_form_is_not() -> None:
    table, _ = read("two_forms")
    row = table.rows[table.rows[LINE] == 4].iloc[0]
    assert row["site_profile_complete"] == "0"
    assert (row["protocol_feasible"], row["partner_slug"]) == ("2", "partner-3")


def test_other_forms_fields_are_set_aside_and_redcaps_own_columns_are_metadata() -> None:
    table, _ = read("two_forms")
    assert table.ignored == ("site_name",)
    assert "site_name" not in table.rows.columns
    assert "partner_slug" in table.rows.columns  # another form's, but the mapping's target
    assert table.metadata == {
        "record_id",
        "redcap_survey_identifier",
        "site_profile_timestamp",
        "site_profile_complete",
        "site_feedback_timestamp",
        "site_feedback_complete",
    }
    assert table.timezone is None
    assert all(isinstance(cell, str) for cell in table.rows.drop(columns=LINE).to_numpy().flat)


def test_the_timestamp_column_is_noted_as_the_submission_time_unless_mapped() -> None:
    table, timestamp = read("two_forms")
    assert any(n.startswith("Submission time: site_feedback_timestamp") for n in table.notes)
    mapping = replace(load_mapping(SAMPLES / "two_forms_mapping.toml", "redcap"), submitted_at="x")
    table, timestamp = read("two_forms", mapping)
    assert timestamp == "site_feedback_timestamp"
    assert not any(n.startswith("Submission time") for n in table.notes)


def test_the_original_redcap_sample_reads_as_before() -> None:
    path = SAMPLES.parent / "redcap.csv"
    grid = grid_of(filled(path.read_text(encoding="utf-8")))
    mapping = load_mapping(SAMPLES.parent / "redcap_mapping.toml", "redcap")
    table, timestamp = redcap_table(grid, path, mapping, mapped_columns(grid, mapping))
    assert lines(table) == [2]
    assert table.left_out == {"incomplete": 1}
    assert timestamp == "site_feedback_timestamp"


def test_a_form_not_in_the_file_is_refused_naming_the_file_and_its_forms() -> None:
    mapping = with_redcap(load_mapping(SAMPLES / "two_forms_mapping.toml", "redcap"), form="exit")
    with pytest.raises(ImportFileError) as error:
        read("two_forms", mapping)
    assert str(error.value) == (
        f"{SAMPLES / 'two_forms.csv'}: [redcap] form 'exit' is not in the file; "
        "its forms: site_profile, site_feedback"
    )


def test_mapped_fields_in_two_forms_need_a_form() -> None:
    with pytest.raises(ImportFileError) as error:
        read("two_forms", mapped=frozenset({"site_name", "protocol_feasible", "work_again"}))
    message = str(error.value)
    assert message.startswith(f"{SAMPLES / 'two_forms.csv'}: the fields mapped to items are in")
    assert "2 forms (site_profile: site_name; site_feedback: protocol_feasible, work_again)" in (
        message
    )
    assert "[redcap] form" in message


def test_a_chosen_form_sets_aside_another_forms_field_named_like_an_item_and_says_so() -> None:
    mapping = load_mapping(SAMPLES / "two_forms_mapping.toml", "redcap")
    table, _ = read(
        "two_forms",
        with_redcap(mapping, form="site_feedback"),
        mapped=frozenset({"site_name", "protocol_feasible"}),
    )
    assert table.ignored == ("site_name",)
    assert "Fields of other forms named like mapped items, set aside: site_name" in table.notes


def test_no_mapped_field_in_a_file_of_two_forms_leaves_the_form_untold() -> None:
    with pytest.raises(ImportFileError) as error:
        read("two_forms", mapped=frozenset())
    assert str(error.value).endswith(
        "no field of the file is mapped to an item, so the form to import cannot be told; "
        "its forms: site_profile, site_feedback"
    )


def test_a_file_without_any_form_status_is_refused() -> None:
    with pytest.raises(ImportFileError, match=r"inline\.csv: no <form>_complete column"):
        read_text("record_id,redcap_survey_identifier,work_again\n1,a@example.org,8\n")


# -- labels -----------------------------------------------------------------------------


def test_a_labels_export_names_redcaps_own_columns_by_their_raw_names() -> None:
    table, timestamp = read("labels")
    assert set(table.metadata) == {
        "record_id",
        "redcap_data_access_group",
        "redcap_survey_identifier",
        "form_1_timestamp",
        "form_1_complete",
        "site_feedback_timestamp",
        "site_feedback_complete",
    }
    assert timestamp == "site_feedback_timestamp"
    assert LIKELY in table.rows.columns
    assert table.ignored == ("Site name", "Comments")  # the profile's own "Comments"
    assert any("forms named by position" in n and "form_1 (columns 4–8)" in n for n in table.notes)


def test_a_labels_export_reads_like_the_raw_export_of_the_same_project() -> None:
    raw, _ = read("two_forms")
    labels, _ = read("labels")
    assert lines(labels) == lines(raw)
    assert labels.left_out == raw.left_out
    respondents = "redcap_survey_identifier"
    assert list(labels.rows[respondents]) == list(raw.rows[respondents])
    assert list(labels.rows["Comments"]) == list(raw.rows["comment"])


def test_repeated_labels_never_reach_messages_with_a_pandas_suffix() -> None:
    table, _ = read("labels")
    shown = [*table.rows.columns, *table.ignored, *table.metadata, *table.notes]
    assert not any(".1" in text for text in shown)


def test_labels_forms_are_named_by_position_without_a_form() -> None:
    mapping = with_redcap(load_mapping(SAMPLES / "labels_mapping.toml", "redcap"), form=None)
    table, timestamp = read("labels", mapping)
    assert timestamp == "form_2_timestamp"
    assert {"form_1_complete", "form_2_complete"} <= table.metadata
    assert lines(table) == [2, 4]


def test_labels_questions_mapped_in_two_forms_are_refused_naming_forms_by_position() -> None:
    mapping = load_mapping(SAMPLES / "labels_mapping.toml", "redcap")
    with pytest.raises(ImportFileError) as error:
        read("labels", mapping, mapped=frozenset({"Site name", "Comments", LIKELY}))
    assert "form_1 (columns 4–8): Site name, Comments" in str(error.value)
    assert f"form_2 (columns 9–15): {LIKELY}, Comments" in str(error.value)
    assert str(error.value).endswith(
        "map the questions of one form only (a labels export does not name its forms)"
    )


def test_a_question_text_twice_in_the_form_is_refused_naming_both_columns() -> None:
    text = "Record ID,Survey Identifier,Comments,Comments,Complete?\n1,a@example.org,x,y,Complete\n"
    with pytest.raises(ImportFileError) as error:
        read_text(text)
    assert str(error.value) == (
        "inline.csv: columns 3 and 4 are both named 'Comments'; "
        "export raw field names, or rename one"
    )


def test_labels_of_a_longitudinal_project_with_repeats_are_read_by_event_label() -> None:
    text = (
        "Record ID,Event Name,Repeat Instrument,Repeat Instance,Survey Identifier,"
        "Role,Complete?,Survey Timestamp,How likely is it?,Complete?\n"
        "1,Enrolment,,,a@example.org,Investigator,Complete,,,\n"
        "1,Wave 2,Site Feedback,1,a@example.org,,,2026-11-02 09:21:08,8,Complete\n"
        "1,Wave 2,Site Feedback,2,a@example.org,,,[not completed],,Incomplete\n"
        "1,Wave 2,Contact Log,1,a@example.org,,,,,\n"
    )
    mapping = replace(RAW_DEFAULT, items={"How likely is it?": "work_again"})
    table, timestamp = read_text(text, with_redcap(mapping, event="Wave 2"))
    assert {"redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"} <= set(
        table.rows.columns
    )
    assert timestamp == "form_2_timestamp"
    assert lines(table) == [3]
    assert table.left_out == {"other event": 1, "incomplete": 1, "other form": 1}


# -- longitudinal -----------------------------------------------------------------------


def test_an_event_keeps_only_its_rows() -> None:
    table, _ = read("longitudinal")
    assert lines(table) == [4]
    assert table.left_out == {"other event": 4, "incomplete": 1}
    assert table.ignored == ("site_role",)
    assert table.timezone is None  # the import applies the mapping's Europe/Paris


def test_a_form_in_two_events_needs_an_event() -> None:
    mapping = with_redcap(load_mapping(SAMPLES / "longitudinal_mapping.toml", "redcap"), event=None)
    with pytest.raises(ImportFileError) as error:
        read("longitudinal", mapping)
    assert str(error.value) == (
        f"{SAMPLES / 'longitudinal.csv'}: a longitudinal export with site_feedback data in 2 "
        "events (wave_1_arm_1, wave_2_arm_1); name the one to import with [redcap] event"
    )


def test_the_only_event_with_the_forms_data_needs_no_event() -> None:
    text = (
        "record_id,redcap_event_name,redcap_survey_identifier,site_role,topics___1,"
        "enrolment_complete,work_again,site_feedback_complete\n"
        "1,enrolment_arm_1,a@example.org,Investigator,0,2,,\n"
        "1,wave_1_arm_1,a@example.org,,,,8,2\n"
        "2,wave_1_arm_1,b@example.org,,,,,0\n"
    )
    table, _ = read_text(text)
    assert lines(table) == [3]
    assert table.left_out == {"other event": 1, "incomplete": 1}
    assert "Event wave_1_arm_1: the only one with site_feedback data" in table.notes


def test_an_unticked_checkbox_is_not_data_of_its_form() -> None:
    text = (
        "record_id,redcap_event_name,redcap_survey_identifier,work_again,topics___1,"
        "site_feedback_complete\n"
        "1,enrolment_arm_1,a@example.org,,0,\n"
        "1,wave_1_arm_1,a@example.org,8,1,2\n"
    )
    table, _ = read_text(text)
    assert lines(table) == [3]
    assert "topics___1" in table.rows.columns  # the form's own checkbox, for the import to judge


def test_an_event_not_in_the_file_is_refused_with_the_files_events() -> None:
    mapping = load_mapping(SAMPLES / "longitudinal_mapping.toml", "redcap")
    with pytest.raises(ImportFileError, match=r"its events: enrolment_arm_1, wave_1_arm_1, wave_2"):
        read("longitudinal", with_redcap(mapping, event="wave_3_arm_1"))


def test_an_event_for_a_file_without_events_is_refused() -> None:
    mapping = load_mapping(SAMPLES / "two_forms_mapping.toml", "redcap")
    with pytest.raises(ImportFileError, match="no redcap_event_name column"):
        read("two_forms", with_redcap(mapping, event="wave_1_arm_1"))


# -- repeating instruments --------------------------------------------------------------


def test_repeat_rows_of_other_forms_are_not_unfinished_responses() -> None:
    table, _ = read("repeating")
    assert lines(table) == [3, 4, 8]
    assert table.left_out == {"other form": 3, "incomplete": 1}
    assert table.ignored == ("site_role", "contact_date", "contact_note")
    assert list(table.rows["redcap_repeat_instance"]) == ["1", "2", "2"]


def test_each_repeat_row_of_the_form_is_returned_for_the_import_to_check() -> None:
    text = (
        "record_id,redcap_repeat_instrument,redcap_repeat_instance,redcap_survey_identifier,"
        "partner_slug,work_again,site_feedback_complete\n"
        "1,site_feedback,1,a@example.org,kestrel,8,2\n"
        "1,site_feedback,2,a@example.org,kestrel,9,2\n"
    )
    table, _ = read_text(text)
    assert lines(table) == [2, 3]  # one respondent rating one partner twice: the import says so


# -- record id, data access group, checkboxes -------------------------------------------


def test_a_record_id_named_participant_id_and_a_data_access_group_are_metadata() -> None:
    table, timestamp = read("survey_project")
    assert {"participant_id", "redcap_data_access_group"} <= table.metadata
    assert lines(table) == [2]
    assert table.left_out == {"incomplete": 1}  # Unverified is not complete
    assert timestamp == "site_feedback_timestamp"
    assert table.ignored == ("site_type", "consent___1")
    assert {"email", "topics___1", "topics___2", "topics___3"} <= set(table.rows.columns)


def test_the_record_id_is_the_first_column_whatever_its_name() -> None:
    mapping = load_mapping(SAMPLES / "survey_project_mapping.toml", "redcap")
    table, _ = read("survey_project", with_redcap(mapping, record_id=None))
    assert "participant_id" in table.metadata


def test_a_record_id_column_not_in_the_file_is_refused() -> None:
    mapping = load_mapping(SAMPLES / "survey_project_mapping.toml", "redcap")
    with pytest.raises(ImportFileError) as error:
        read("survey_project", with_redcap(mapping, record_id="record_id"))
    assert str(error.value) == (
        f"{SAMPLES / 'survey_project.csv'}: [redcap] record_id 'record_id' is not a column of "
        "the file; its first column, REDCap's record id, is 'participant_id'"
    )


# -- lines ------------------------------------------------------------------------------


def test_lines_are_the_physical_lines_rows_start_on() -> None:
    text = (
        "record_id,redcap_survey_identifier,comment,work_again,site_feedback_complete\n"
        '1,a@example.org,"two\nlines",8,2\n'
        "\n"
        "2,b@example.org,,7,2\n"
    )
    table, _ = read_text(text)
    assert lines(table) == [2, 5]


def test_a_row_longer_than_the_header_is_refused_with_its_line() -> None:
    text = "record_id,work_again,site_feedback_complete\n1,8,2\n2,7,2,extra\n"
    with pytest.raises(ImportFileError) as error:
        read_text(text)
    assert str(error.value) == "inline.csv:3: 4 cells, but the header names 3 columns"
