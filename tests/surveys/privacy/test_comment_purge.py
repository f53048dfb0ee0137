"""Purging old comment texts: only scored cycles older than the newest N, scores untouched,
and RAPPORT_KEEP_COMMENTS_CYCLES saying how many cycles keep theirs."""

from __future__ import annotations

import datetime as dt

import pytest
from piccolo.engine.base import Engine

from scoring.config import ScoringConfig
from surveys.directory.audit import Act, AuditEntry
from surveys.infra.settings import SETTINGS, SettingsError, in_force, load_settings
from surveys.privacy import purge_old_comments
from surveys.responses.answers import Answer
from surveys.results.cycle_scoring import score_cycle
from surveys.results.score_runs import ScoreRun
from tests.surveys.privacy.test_erasure import numbers

pytestmark = pytest.mark.anyio
ACT = Act("cli:test", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
SCORED = ["2026-Q1", "2026-Q2", "2026-Q3"]  # SMALL_WORLD's closed cycles, scored


async def comments_per_cycle() -> dict[str, int]:
    rows = await Answer.select(Answer.response._.invitation._.cycle._.key.as_alias("cycle")).where(
        Answer.text.is_not_null()
    )
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["cycle"]] = counts.get(row["cycle"], 0) + 1
    return counts


async def test_comments_of_cycles_older_than_the_newest_kept_are_blanked(
    scored_world_db: Engine,
) -> None:
    before = await comments_per_cycle()
    assert all(before.get(key) for key in SCORED), "the world writes comments every cycle"
    answers = await Answer.count()
    purge = await purge_old_comments(1, ACT)
    assert purge.kept == ("2026-Q3",)
    assert purge.purged == {"2026-Q2": before["2026-Q2"], "2026-Q1": before["2026-Q1"]}
    assert purge.comments == before["2026-Q1"] + before["2026-Q2"]
    after = await comments_per_cycle()
    assert "2026-Q1" not in after and "2026-Q2" not in after
    assert after["2026-Q3"] == before["2026-Q3"]
    assert after.get("2026-Q4") == before.get("2026-Q4"), "an open cycle is never purged"
    assert await Answer.count() == answers, "only the texts go, not the answers"
    entries = (
        await AuditEntry.select(AuditEntry.record_id, AuditEntry.detail)
        .where(AuditEntry.action == "comments.purge")
        .output(load_json=True)
    )
    assert {e["record_id"]: e["detail"]["comments"] for e in entries} == purge.purged
    again = await purge_old_comments(1, ACT)
    assert again.purged == {}, "nothing left to purge"


async def test_a_purge_changes_no_score(scored_world_db: Engine) -> None:
    before = await score_cycle("2026-Q2", ScoringConfig(), "test")
    await purge_old_comments(1, ACT)
    after = await score_cycle("2026-Q2", ScoringConfig(), "test")
    assert await numbers(after.run_id) == await numbers(before.run_id)
    digests = await ScoreRun.select(ScoreRun.input_digest).where(
        ScoreRun.id.is_in([before.run_id, after.run_id])
    )
    assert digests[0] == digests[1], "comments are not part of what is scored"


async def test_a_dry_run_counts_and_changes_nothing(scored_world_db: Engine) -> None:
    before = await comments_per_cycle()
    purge = await purge_old_comments(2, ACT, dry_run=True)
    assert purge.dry_run and purge.purged == {"2026-Q1": before["2026-Q1"]}
    assert await comments_per_cycle() == before
    assert await AuditEntry.count().where(AuditEntry.action == "comments.purge") == 0


async def test_unscored_cycles_are_neither_purged_nor_kept(world_db: Engine) -> None:
    before = await comments_per_cycle()
    purge = await purge_old_comments(1, ACT)
    assert purge.kept == () and purge.purged == {}
    assert await comments_per_cycle() == before


async def test_at_least_one_cycle_is_kept(db: Engine) -> None:
    with pytest.raises(ValueError, match="at least one cycle"):
        await purge_old_comments(0, ACT)


def test_the_setting_is_unset_by_default_and_a_positive_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "RAPPORT_KEEP_COMMENTS_CYCLES" in {s.env for s in SETTINGS}
    monkeypatch.delenv("RAPPORT_KEEP_COMMENTS_CYCLES", raising=False)
    settings = load_settings()
    assert settings.keep_comments_cycles is None
    shown = {s.env: value for s, value in in_force(settings)}
    assert shown["RAPPORT_KEEP_COMMENTS_CYCLES"] == "(kept forever)"
    monkeypatch.setenv("RAPPORT_KEEP_COMMENTS_CYCLES", "4")
    assert load_settings().keep_comments_cycles == 4
    for bad, fragment in (("0", "greater than 0"), ("four", "not a whole number")):
        monkeypatch.setenv("RAPPORT_KEEP_COMMENTS_CYCLES", bad)
        with pytest.raises(SettingsError, match="RAPPORT_KEEP_COMMENTS_CYCLES") as error:
            load_settings()
        assert fragment in str(error.value)
