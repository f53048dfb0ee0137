"""Importing responses from a plain CSV or XLSX, Qualtrics and REDCap: checked whole, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from piccolo.engine.base import Engine

from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.responses.answers import Answer, Response, answers_digest
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
        ("6", "'6' is outside 1–5 for protocol_feasible"),
        ("4.5", "'4.5' is outside 1–5 for protocol_feasible"),
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
    with pytest.raises(
        ImportFileError, match=r"edited.csv:3: column Q1_1: 'Q1_1' is not an ImportId"
    ):
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
    with pytest.raises(ImportFileError, match="column travel_costs___2: unknown"):
        await import_responses(path, CYCLE, "redcap", mapping, NOW)


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('[columns]\nwho = "x"', "columns.who: unknown"),
        ('[values]\nyes = "1"', "values.yes"),
        ("[extra]", "extra: unknown; known: allow_outside_window, columns"),
        ('[items]\nQ1 = "work_again"\nQ2 = "work_again"', "'Q1' and 'Q2' both map to 'work_again'"),
        ('[values.work_again]\nyes = "maybe"', "values.work_again.yes: must be a whole number"),
        ('[columns]\nignore = "Q2*"', "columns.ignore: must be a list"),
        ('timezone = "Mars/Olympus"', "timezone: 'Mars/Olympus' is not a time zone"),
        ('date_format = "dd/mm/yyyy"', "date_format: 'dd/mm/yyyy' is not a format"),
        ('[redcap]\nformat = "x"', "redcap.format: unknown"),
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


def test_an_items_own_codes_come_before_the_files_then_the_text_itself(tmp_path: Path) -> None:
    """Qualtrics codes "Not applicable" as 6 on a 5-point item, while 6 is a real answer to
    the 0–10 question: only the item's own table may say 6 means NA."""
    path = tmp_path / "mapping.toml"
    path.write_text(
        '[values]\n"Not applicable" = "NA"\nAgree = 4\n'
        '[values.protocol_feasible]\n"6" = "NA"\nAgree = 5\n'
    )
    mapping = load_mapping(path, "qualtrics")
    assert mapping.value_of("protocol_feasible", "6") == "NA"
    assert mapping.value_of("work_again", "6") == "6", "the 0–10 item keeps its 6"
    assert mapping.value_of("protocol_feasible", "Agree") == 5, "the item's own code first"
    assert mapping.value_of("monitor_knows_protocol", "Agree") == 4
    assert mapping.value_of("protocol_feasible", "Not applicable") == "NA", "then the file's"


def mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


PLAIN_WITH_EXTRAS = (
    "email,target,protocol_feasible,work_again,notes,Q2 - Topics,visits___1\n"
    "{email1},{target1},4,8,call back,Budget,1\n"
    "{email2},{target2},2,6,,,0\n"
)


async def test_columns_rapport_does_not_use_are_refused_or_left_alone_as_the_mapping_says(
    world_db: Engine, tmp_path: Path
) -> None:
    people = await two_invitations()
    path = sample("extras.csv", tmp_path, people, PLAIN_WITH_EXTRAS)
    with pytest.raises(ImportFileError) as refused:
        await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    for column in ("notes", "Q2 - Topics", "visits___1"):
        assert f"column {column}: unknown" in str(refused.value), "each unknown column named"
    patterns = mapping_file(tmp_path, '[columns]\nignore = ["Q2 - Topics", "*___*"]\n')
    before = await totals()
    with pytest.raises(ImportFileError, match="1 problem") as one:
        await import_responses(path, CYCLE, "csv", load_mapping(patterns, "csv"), NOW)
    assert "column notes: unknown" in str(one.value) and "visits___1" not in str(one.value)
    assert await totals() == before
    everything = mapping_file(
        tmp_path, '[columns]\nignore = ["Q2 - Topics", "*___*"]\nignore_unmapped = true\n'
    )
    summary = await import_responses(path, CYCLE, "csv", load_mapping(everything, "csv"), NOW)
    assert summary.imported == 2
    assert set(summary.ignored) == {"notes", "Q2 - Topics", "visits___1"}


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        ('[columns]\nignore = ["Q*"]\n[items]\nQ30 = "comment"', r"ignore pattern 'Q\*' matches"),
        ('[items]\nnotes = "work_again"', "columns work_again and notes both answer"),
        ('[items]\nQ99 = "work_again"', r"\[items\] Q99: no such column"),
        ('[values.no_such_item]\n"x" = 1', "'no_such_item' is not an item"),
    ],
)
async def test_a_mapping_at_odds_with_the_file_is_named_and_nothing_is_written(
    world_db: Engine, tmp_path: Path, mapping: str, problem: str
) -> None:
    people = await two_invitations()
    text = "email,target,protocol_feasible,work_again,notes,Q30\n{email1},{target1},4,8,7,ok\n"
    path = sample("odd.csv", tmp_path, people, text)
    # every unmapped column is left alone: only the mistake under test remains
    if "[columns]" in mapping:
        text = mapping.replace("[columns]\n", "[columns]\nignore_unmapped = true\n")
    else:
        text = f"[columns]\nignore_unmapped = true\n{mapping}\n"
    chosen = mapping_file(tmp_path, text)
    before = await totals()
    with pytest.raises(ImportFileError, match=problem):
        await import_responses(path, CYCLE, "csv", load_mapping(chosen, "csv"), NOW)
    assert await totals() == before


async def test_submission_times_are_read_in_their_zone_and_never_guessed(
    world_db: Engine, tmp_path: Path
) -> None:
    people = await two_invitations()
    text = (
        "email,target,protocol_feasible,done\n"
        "{email1},{target1},4,02/11/2026 13:06\n"
        "{email2},{target2},2,25/11/2026 09:00\n"
    )
    path = sample("times.csv", tmp_path, people, text)
    plain = mapping_file(tmp_path, '[columns]\nsubmitted_at = "done"\n')
    with pytest.raises(ImportFileError, match="line 2, column done: '02/11/2026 13:06' could be"):
        await import_responses(path, CYCLE, "csv", load_mapping(plain, "csv"), NOW)
    dated = mapping_file(
        tmp_path,
        'date_format = "%d/%m/%Y %H:%M"\ntimezone = "America/New_York"\n'
        '[columns]\nsubmitted_at = "done"\n',
    )
    summary = await import_responses(path, CYCLE, "csv", load_mapping(dated, "csv"), NOW)
    assert summary.imported == 2
    assert any("America/New_York (the mapping)" in note for note in summary.notes)
    stored = await Response.select(Response.submitted_at).where(
        Response.invitation == people[0]["id"]
    )
    assert stored[0]["submitted_at"] == dt.datetime(2026, 11, 2, 18, 6, tzinfo=dt.UTC)


async def test_times_outside_the_cycles_window_are_refused_unless_allowed(
    world_db: Engine, tmp_path: Path
) -> None:
    people = await two_invitations()
    cycle = await Cycle.select(Cycle.opens_at).where(Cycle.key == CYCLE).first()
    early = (cycle["opens_at"] - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"email,target,protocol_feasible,done\n{{email1}},{{target1}},4,{early}\n"
    path = sample("early.csv", tmp_path, people, text)
    strict = mapping_file(tmp_path, '[columns]\nsubmitted_at = "done"\n')
    with pytest.raises(
        ImportFileError, match=r"line 2, column done: submitted .* before the cycle"
    ):
        await import_responses(path, CYCLE, "csv", load_mapping(strict, "csv"), NOW)
    allowed = mapping_file(
        tmp_path, 'allow_outside_window = true\n[columns]\nsubmitted_at = "done"\n'
    )
    summary = await import_responses(path, CYCLE, "csv", load_mapping(allowed, "csv"), NOW)
    assert summary.imported == 1


async def test_every_response_already_submitted_otherwise_is_named(
    world_db: Engine, tmp_path: Path
) -> None:
    people = await two_invitations()
    path = sample("plain.csv", tmp_path, people)
    await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    changed = (
        path.read_text().replace(",4,5,NA,4,8,", ",3,5,NA,4,8,").replace(",2,,3,,6,", ",1,,3,,6,")
    )
    path.write_text(changed)
    before = await totals()
    with pytest.raises(ImportFileError) as refused:
        await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    assert "line 2: " in str(refused.value) and "line 3: " in str(refused.value)
    assert str(refused.value).count("already submitted different answers") == 2
    assert await totals() == before


async def digests_of(invitations: list[int]) -> dict[int, tuple[str | None, str]]:
    """Invitation → (the digest its response keeps, the digest of its stored answers)."""
    found = {}
    for invitation in invitations:
        response = await Response.select(Response.id, Response.answers_digest).where(
            Response.invitation == invitation
        )
        rows = await Answer.select(
            Answer.item, Answer.value, Answer.not_applicable, Answer.text
        ).where(Answer.response == response[0]["id"])
        stored = [(r["item"], r["value"], r["not_applicable"], r["text"]) for r in rows]
        found[invitation] = (response[0]["answers_digest"], answers_digest(stored))
    return found


async def test_responses_known_only_by_their_answers_are_compared_answer_by_answer(
    world_db: Engine, tmp_path: Path
) -> None:
    people = await two_invitations()
    path = sample("plain.csv", tmp_path, people)
    await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    kept = await digests_of([p["id"] for p in people])
    assert all(digest == worked_out for digest, worked_out in kept.values())
    # responses stored before digests were kept (or whose texts an erasure rewrote)
    await Response.update({Response.answers_digest: None}).where(
        Response.invitation.is_in([p["id"] for p in people])
    )
    again = await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    assert (again.imported, again.unchanged) == (0, 2)
    await Answer.update({Answer.value: 2}).where(
        (Answer.response.invitation == people[1]["id"]) & (Answer.item.key == "work_again")
    )
    with pytest.raises(ImportFileError) as refused:
        await import_responses(path, CYCLE, "csv", load_mapping(None, "csv"), NOW)
    assert str(refused.value).count("already submitted different answers") == 1
    assert "line 3: " in str(refused.value)


async def respondents(people: int, partners: int) -> list[dict[str, Any]]:
    """`people` respondents of the open cycle each invited to rate the same `partners`
    partners, none answered yet: {emailN} is the Nth person, {targetN} the Nth partner (a
    pair no invitation holds is never asked for by the samples)."""
    rows = await Invitation.select(
        Invitation.respondent.email.as_alias("email"),
        Invitation.target.slug.as_alias("target"),
    ).where(
        (Invitation.cycle.key == CYCLE)
        & Invitation.status.is_in(["created", "sent"])
        & (Invitation.instrument.direction == "site_rates_sponsor")
    )
    rates: dict[str, set[str]] = {}
    for row in rows:
        rates.setdefault(row["email"], set()).add(row["target"])
    if partners == 1:  # distinct people, each with a partner of their own
        chosen = sorted(rates)[:people]
        return [{"email": e, "target": sorted(rates[e])[0]} for e in chosen]
    for email in sorted(rates):
        shared = [o for o in sorted(rates) if len(rates[o] & rates[email]) >= partners]
        if len(shared) >= people:
            targets = sorted(set.intersection(*(rates[o] for o in shared[:people])))
            if len(targets) >= partners:
                return [
                    {"email": shared[n] if n < people else shared[0], "target": targets[n]}
                    for n in range(max(people, partners))
                ]
    raise AssertionError("the small world has people invited to the same partners")


async def window_around_the_samples() -> None:
    """The samples were answered in November 2026: the open cycle's window holds them."""
    await Cycle.update(
        {
            Cycle.opens_at: dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
            Cycle.closes_at: dt.datetime(2027, 1, 31, tzinfo=dt.UTC),
        }
    ).where(Cycle.key == CYCLE)


@pytest.mark.parametrize(
    ("name", "people", "partners", "imported", "left_out"),
    [
        ("two_forms", 3, 1, 2, {"incomplete": 1}),
        ("labels", 3, 1, 2, {"incomplete": 1}),
        ("longitudinal", 2, 1, 1, {"other event": 4, "incomplete": 1}),
        ("repeating", 2, 2, 3, {"other form": 3, "incomplete": 1}),
        ("survey_project", 2, 1, 1, {"incomplete": 1}),
    ],
)
async def test_redcap_exports_import_as_redcap_writes_them(
    world_db: Engine,
    tmp_path: Path,
    name: str,
    people: int,
    partners: int,
    imported: int,
    left_out: dict[str, int],
) -> None:
    """Each layout of tests/data/imports/redcap/ (its README says what each exercises): the
    chosen form's own completion, one event, repeat rows of the form, labels headers."""
    await window_around_the_samples()
    chosen = await respondents(people, partners)
    path = sample(f"{name}.csv", tmp_path, chosen, (SAMPLES / "redcap" / f"{name}.csv").read_text())
    mapping = load_mapping(SAMPLES / "redcap" / f"{name}_mapping.toml", "redcap")
    before = await totals()
    summary = await import_responses(path, CYCLE, "redcap", mapping, NOW)
    assert (summary.imported, summary.left_out_by_kind) == (imported, left_out)
    assert (await totals())[0] == before[0] + imported
    again = await import_responses(path, CYCLE, "redcap", mapping, NOW)
    assert (again.imported, again.unchanged) == (0, imported)


@pytest.mark.parametrize(
    ("name", "mapping", "encoding"),
    [
        ("numeric.csv", "numeric_mapping.toml", "utf-8"),
        ("choice_text.csv", "choice_text_mapping.toml", "utf-8"),
        ("choice_text.csv", "choice_text_mapping.toml", "utf-16"),
        ("insights.csv", "insights_mapping.toml", "utf-8"),
        ("legacy.csv", "legacy_mapping.toml", "utf-8"),
    ],
)
async def test_qualtrics_exports_import_as_qualtrics_writes_them(
    world_db: Engine, tmp_path: Path, name: str, mapping: str, encoding: str
) -> None:
    """Each layout of tests/data/imports/qualtrics/ (its README says what each exercises):
    only real responses, counted by kind, times in the zone the file names."""
    await window_around_the_samples()
    people = await two_invitations()
    path = sample(name, tmp_path, people, (SAMPLES / "qualtrics" / name).read_text())
    if encoding == "utf-16":  # Qualtrics' "Unicode text": UTF-16, tab-separated, CRLF
        table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        text = "\r\n".join("\t".join(cell.replace("\n", " ") for cell in row) for row in table)
        path = tmp_path / "unicode.tsv"
        path.write_bytes(text.encode("utf-16"))
    chosen = load_mapping(SAMPLES / "qualtrics" / mapping, "qualtrics")
    before = await totals()
    summary = await import_responses(path, CYCLE, "qualtrics", chosen, NOW)
    assert summary.imported == 2, summary
    if name in {"numeric.csv", "choice_text.csv"}:
        assert summary.left_out_by_kind == {
            "Survey Preview": 1,
            "Spam": 1,
            "Survey Test": 1,
            "unfinished": 1,
        }
    if name == "insights.csv":
        assert summary.left_out_by_kind == {"Spam": 1}
    assert (await totals())[0] == before[0] + 2
    if name == "numeric.csv":  # RecordedDate 13:06 in New York, as its ImportId row says
        assert any("America/New_York (the file)" in note for note in summary.notes)
        stored = await Response.select(Response.submitted_at).where(
            Response.invitation == people[0]["id"]
        )
        assert stored[0]["submitted_at"].astimezone(dt.UTC).strftime("%H:%M") == "18:06"
    again = await import_responses(path, CYCLE, "qualtrics", chosen, NOW)
    assert (again.imported, again.unchanged) == (0, 2)


async def test_qualtrics_excel_export_imports_with_format_qualtrics(
    world_db: Engine, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    await window_around_the_samples()
    people = await two_invitations()
    text = sample("numeric.csv", tmp_path, people, (SAMPLES / "qualtrics/numeric.csv").read_text())
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in csv.reader(io.StringIO(text.read_text(encoding="utf-8"))):
        sheet.append(row)
    path = tmp_path / "export.xlsx"
    book.save(path)
    chosen = load_mapping(SAMPLES / "qualtrics" / "numeric_mapping.toml", "qualtrics")
    summary = await import_responses(path, CYCLE, "qualtrics", chosen, NOW)
    assert (summary.imported, summary.left_out) == (2, 4)
    assert any(note.startswith("XLSX") for note in summary.notes)


async def test_a_check_says_what_an_import_would_do_and_writes_nothing(
    world_db: Engine, tmp_path: Path
) -> None:
    people = await two_invitations()
    path = sample("plain.csv", tmp_path, people)
    mapping = load_mapping(None, "csv")
    before = await totals()
    preview = await import_responses(path, CYCLE, "csv", mapping, NOW, check_only=True)
    assert (preview.imported, preview.unchanged) == (2, 0)
    assert await totals() == before
    await import_responses(path, CYCLE, "csv", mapping, NOW)
    again = await import_responses(path, CYCLE, "csv", mapping, NOW, check_only=True)
    assert (again.imported, again.unchanged) == (0, 2)
    path.write_text(path.read_text().replace(",4,5,NA,4,8,", ",3,5,NA,4,8,"))
    with pytest.raises(ImportFileError, match=r"line 2: .* already submitted different answers"):
        await import_responses(path, CYCLE, "csv", mapping, NOW, check_only=True)
