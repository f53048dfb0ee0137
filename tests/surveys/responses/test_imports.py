"""Importing responses from a plain CSV or XLSX, Qualtrics and REDCap: checked whole, all or nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from piccolo.engine.base import Engine

from surveys.cycles.invitations import Invitation
from surveys.responses.answers import Answer, Response
from surveys.responses.imports import ImportFileError, import_responses, load_mapping

pytestmark = pytest.mark.anyio
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "imports"
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
CYCLE = "2026-Q4"  # the small world's open cycle


async def two_invitations() -> list[dict[str, Any]]:
    """Two unanswered site-to-sponsor invitations of the open cycle, from different people."""
    rows = (
        await Invitation.select(
            Invitation.id,
            Invitation.respondent.email.as_alias("email"),
            Invitation.target.slug.as_alias("target"),
        )
        .where(
            (Invitation.cycle.key == CYCLE)
            & Invitation.status.is_in(["created", "sent"])
            & (Invitation.instrument.direction == "site_rates_sponsor")
        )
        .order_by(Invitation.id)
    )
    chosen: list[dict[str, Any]] = []
    for row in rows:
        if all(row["email"] != c["email"] for c in chosen):
            chosen.append(row)
        if len(chosen) == 2:
            return chosen
    raise AssertionError("the small world has unanswered invitations")


def sample(
    name: str, tmp_path: Path, people: list[dict[str, Any]], text: str | None = None
) -> Path:
    """Copy a sample file with the test world's respondents and partners filled in."""
    content = text if text is not None else (SAMPLES / name).read_text(encoding="utf-8")
    for n, person in enumerate(people, 1):
        content = content.replace(f"{{email{n}}}", person["email"])
        content = content.replace(f"{{target{n}}}", person["target"])
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


async def answers_of(invitation_id: int) -> dict[str, tuple[Any, bool, Any]]:
    rows = await Answer.select(
        Answer.item.key.as_alias("key"), Answer.value, Answer.not_applicable, Answer.text
    ).where(Answer.response.invitation == invitation_id)
    return {r["key"]: (r["value"], r["not_applicable"], r["text"]) for r in rows}


async def totals() -> tuple[int, int, int]:
    submitted = await Invitation.count().where(Invitation.status == "submitted")
    return await Response.count(), await Answer.count(), submitted


async def test_a_plain_csv_is_imported_once(world_db: Engine, tmp_path: Path) -> None:
    people = await two_invitations()
    path = sample("plain.csv", tmp_path, people)
    summary = await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    assert (summary.imported, summary.unchanged, summary.left_out) == (2, 0, 0)
    first = await answers_of(people[0]["id"])
    assert first["protocol_feasible"] == (4, False, None)
    assert first["monitor_knows_protocol"] == (None, True, None)
    assert first["protocol_design__importance"] == (4, False, None)
    assert first["work_again"] == (8, False, None)
    assert first["comment"][2] == "Monitors are great; budgets, less so."
    second = await answers_of(people[1]["id"])
    assert "feasibility_feedback_used" not in second, "an empty cell is a skipped item"
    assert second["comment"][2] == '=HYPERLINK("http://example.org")', "stored as written"
    status = await Invitation.select(Invitation.status).where(Invitation.id == people[0]["id"])
    assert status[0]["status"] == "submitted"
    before = await totals()
    again = await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    assert (again.imported, again.unchanged) == (0, 2)
    assert await totals() == before, "a second import changes nothing"


async def test_an_xlsx_file_is_read_like_the_csv(world_db: Engine, tmp_path: Path) -> None:
    people = await two_invitations()
    table = pd.read_csv(sample("plain.csv", tmp_path, people), dtype=str, keep_default_na=False)
    path = tmp_path / "plain.xlsx"
    table.to_excel(path, index=False)
    summary = await import_responses(path, CYCLE, "xlsx", load_mapping(None, "xlsx"), NOW)
    assert summary.imported == 2
    assert (await answers_of(people[0]["id"]))["protocol_feasible"] == (4, False, None)


async def test_a_qualtrics_export_with_its_mapping(world_db: Engine, tmp_path: Path) -> None:
    people = await two_invitations()
    path = sample("qualtrics.csv", tmp_path, people)
    mapping = load_mapping(SAMPLES / "qualtrics_mapping.toml", "qualtrics")
    summary = await import_responses(path, CYCLE, "qualtrics", mapping, NOW)
    assert (summary.imported, summary.left_out) == (1, 1), "the unfinished response stays out"
    answers = await answers_of(people[0]["id"])
    assert answers["protocol_feasible"] == (4, False, None)  # "Agree"
    assert answers["feasibility_feedback_used"] == (5, False, None)  # "Strongly agree"
    assert answers["monitor_knows_protocol"] == (None, True, None)
    assert answers["work_again"] == (9, False, None)
    response = await Response.select(Response.submitted_at).where(
        Response.invitation == people[0]["id"]
    )
    assert response[0]["submitted_at"].date() == dt.date(2026, 11, 2)
    assert await answers_of(people[1]["id"]) == {}


async def test_a_redcap_export_with_its_mapping(world_db: Engine, tmp_path: Path) -> None:
    people = await two_invitations()
    path = sample("redcap.csv", tmp_path, people)
    mapping = load_mapping(SAMPLES / "redcap_mapping.toml", "redcap")
    summary = await import_responses(path, CYCLE, "redcap", mapping, NOW)
    assert (summary.imported, summary.left_out) == (1, 1), "the incomplete record stays out"
    answers = await answers_of(people[0]["id"])
    assert answers["monitor_knows_protocol"] == (None, True, None), "99 is not applicable"
    assert answers["work_again"] == (10, False, None)


async def test_a_broken_row_in_the_middle_imports_nothing(world_db: Engine, tmp_path: Path) -> None:
    people = await two_invitations()
    text = (SAMPLES / "plain.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    broken = [*lines[0:2], lines[1].replace("{email1}", "nobody@nowhere.example"), *lines[2:]]
    broken[2] = broken[2].replace(",4,5,NA,", ",Maybe,5,NA,")
    path = sample("broken.csv", tmp_path, people, "\n".join(broken) + "\n")
    before = await totals()
    with pytest.raises(ImportFileError) as caught:
        await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    message = str(caught.value)
    assert "nothing imported" in message
    assert "line 3, column email: no invitation in 2026-Q4 for nobody@nowhere.example" in message
    assert await totals() == before


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("6", "6 is not on the 1–5 scale"),
        ("4.5", "4.5 is not on the 1–5 scale"),
        ("often", "'often' is not a number or NA"),
    ],
)
async def test_impossible_values_name_line_and_column(
    world_db: Engine, tmp_path: Path, cell: str, problem: str
) -> None:
    people = await two_invitations()
    text = (SAMPLES / "plain.csv").read_text(encoding="utf-8").replace(",4,5,NA,", f",{cell},5,NA,")
    path = sample("values.csv", tmp_path, people, text)
    with pytest.raises(ImportFileError, match=f"line 2, column protocol_feasible: {problem}"):
        await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)


async def test_an_edited_qualtrics_header_is_refused(world_db: Engine, tmp_path: Path) -> None:
    people = await two_invitations()
    text = (SAMPLES / "qualtrics.csv").read_text(encoding="utf-8")
    header = text.splitlines()
    header[2] = header[2].replace('"{""ImportId"":""QID1_1""}"', "Q1_1")
    path = sample("edited.csv", tmp_path, people, "\n".join(header) + "\n")
    mapping = load_mapping(SAMPLES / "qualtrics_mapping.toml", "qualtrics")
    with pytest.raises(ImportFileError, match=r"edited.csv:3: Q1_1: the third header row"):
        await import_responses(path, CYCLE, "qualtrics", mapping, NOW)


async def test_an_unknown_redcap_field_is_refused(world_db: Engine, tmp_path: Path) -> None:
    people = await two_invitations()
    text = (SAMPLES / "redcap.csv").read_text(encoding="utf-8")
    text = text.replace(
        "comment,site_feedback_complete", "comment,travel_costs___2,site_feedback_complete"
    )
    text = text.replace(",,2\n", ",,1,2\n").replace(",,,,,0\n", ",,,,,0,0\n")
    path = sample("unknown.csv", tmp_path, people, text)
    mapping = load_mapping(SAMPLES / "redcap_mapping.toml", "redcap")
    with pytest.raises(ImportFileError, match="field travel_costs___2: unknown"):
        await import_responses(path, CYCLE, "redcap", mapping, NOW)


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('[columns]\nwho = "x"', "columns.who: unknown"),
        ('[values]\nyes = "1"', "values.yes"),
        ("[extra]", r"unknown table\(s\) extra"),
        ("[items\n", "mapping.toml"),
    ],
)
def test_a_bad_mapping_names_the_key(tmp_path: Path, toml: str, problem: str) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(toml)
    with pytest.raises(ImportFileError, match=problem):
        load_mapping(path, "csv")


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("{email1},{target1},nan,,,,,", "'nan' is not a number or NA"),
        ("{email1},{target1},,,,,,", "no answers; a response needs at least one"),
        ("{email1},{target1},inf,,,,,", "'inf' is not a number or NA"),
    ],
)
async def test_rows_that_cannot_be_a_response_are_refused(
    world_db: Engine, tmp_path: Path, row: str, problem: str
) -> None:
    people = await two_invitations()
    header = (SAMPLES / "plain.csv").read_text(encoding="utf-8").splitlines()[0]
    path = sample("rows.csv", tmp_path, people, f"{header}\n{row}\n")
    with pytest.raises(ImportFileError, match=f"line 2.*{problem}"):
        await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)


async def test_one_row_per_response(world_db: Engine, tmp_path: Path) -> None:
    people = await two_invitations()
    lines = (SAMPLES / "plain.csv").read_text(encoding="utf-8").splitlines()
    path = sample("twice.csv", tmp_path, people, "\n".join([*lines[:2], lines[1]]) + "\n")
    with pytest.raises(ImportFileError, match=r"line 3: .* again \(first on line 2\)"):
        await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
