"""Exports: pseudonymous raters, spreadsheet-safe text, and score-file's own format."""

from __future__ import annotations

from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from surveys.infra.spreadsheets import spreadsheet_safe
from surveys.responses.answers import Answer
from surveys.responses.exports import pseudonym, responses_table
from surveys.results.score_file import read_answers_csv

pytestmark = pytest.mark.anyio
CYCLE = "2026-Q3"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Fine - thanks", "Fine - thanks"),
        ("", ""),
    ],
)
def test_formula_like_text_is_kept_as_text(text: str, shown: str) -> None:
    assert spreadsheet_safe(text) == shown


async def test_a_cycle_exports_every_submitted_answer_under_pseudonyms(
    world_db: Engine, tmp_path: Path
) -> None:
    comment = (
        await Answer.select(Answer.id)
        .where(
            Answer.text.is_not_null()
            & (Answer.response.invitation.cycle.key == CYCLE)
            & (Answer.response.status == "submitted")
        )
        .first()
    )
    await Answer.update({Answer.text: "=cmd|' /C calc'!A0"}).where(Answer.id == comment["id"])
    table = await responses_table(CYCLE, "secret")
    submitted = await Answer.count().where(
        (Answer.response.invitation.cycle.key == CYCLE) & (Answer.response.status == "submitted")
    )
    everything = await Answer.count().where(Answer.response.invitation.cycle.key == CYCLE)
    assert len(table) == submitted > 0
    assert everything > submitted, "the world has drafts, and drafts are not exported"
    assert set(table["cycle"]) == {CYCLE}
    assert table["rater"].str.fullmatch(r"r-[0-9a-f]{12}").all()
    assert not table.astype(str).apply(lambda c: c.str.contains("@")).any().any()
    assert "'=cmd|' /C calc'!A0" in set(table["text"])
    assert set(table["value"]) <= {"", "NA", *map(str, range(11))}
    assert pseudonym("secret", "a@b.org", "c1") == pseudonym("secret", "a@b.org", "c1")
    assert pseudonym("secret", "a@b.org", "c1") != pseudonym("other", "a@b.org", "c1")
    assert pseudonym("secret", "a@b.org", "c1") != pseudonym("secret", "a@b.org", "c2")
    assert table["submitted_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), (
        "the day, not the second"
    )
    # one instrument of it is a file score-file reads
    path = tmp_path / "answers.csv"
    sponsors = table[(table["instrument"] == "sponsor_rates_site") & (table["text"] == "")]
    sponsors.to_csv(path, index=False)
    answers = read_answers_csv(path)
    assert len(answers) == len(sponsors)


async def test_a_score_run_exports_with_its_views_and_what_may_be_shown(world_db: Engine) -> None:
    from scoring.config import ScoringConfig
    from surveys.responses.exports import ExportError
    from surveys.results.cycle_scoring import score_cycle
    from surveys.results.score_exports import scores_tables
    from surveys.results.score_runs import DimensionScore, TargetIndex

    with pytest.raises(ExportError, match="has no score run"):
        await scores_tables(CYCLE)
    summary = await score_cycle(CYCLE, ScoringConfig(), "test")
    tables = await scores_tables(CYCLE)
    targets, dimensions = tables["targets.csv"], tables["dimensions.csv"]
    assert len(targets) == await TargetIndex.count().where(TargetIndex.run == summary.run_id)
    assert len(dimensions) == await DimensionScore.count().where(
        DimensionScore.run == summary.run_id
    )
    assert len(tables["flags.csv"]) == summary.flags
    assert targets["view"].isna().sum() == sum(summary.targets.values())
    assert targets["view"].notna().sum() == sum(summary.views.values())
    assert {"reliability_index", "ri_low", "ri_high", "shown", "trend_shown"} <= set(
        targets.columns
    )
    assert not targets["shown"].all(), "hidden rows are in an administrators' export, marked"
