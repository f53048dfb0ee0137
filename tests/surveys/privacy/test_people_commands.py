"""`rapport person export|erase` and `rapport comments purge`, run as a command would be."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from piccolo.engine.base import Engine

from surveys.cli._run import RapportGroup
from surveys.cli.people import comments, person
from surveys.directory.organisations import Person
from surveys.responses.answers import Answer
from tests.conftest import url_of
from tests.surveys.privacy.subjects import EMAIL, NAME, zoe

RAPPORT = RapportGroup(commands={"person": person, "comments": comments})
"""The two groups as `rapport` holds them: an expected failure is one line, status 1."""


def rapport(engine: Engine, tmp_path: Path, *args: str, **env: str) -> Result:
    environment = {"DATABASE_URL": url_of(engine), "RAPPORT_VAR_DIR": str(tmp_path / "var")}
    return CliRunner().invoke(RAPPORT, list(args), env={**environment, **env})


def comments_kept() -> int:
    return int(Answer.count().where(Answer.text.is_not_null()).run_sync())


def test_person_export_writes_everything_as_json(scored_world_db: Engine, tmp_path: Path) -> None:
    asyncio.run(zoe())
    out = tmp_path / "zoe.json"
    result = rapport(
        scored_world_db, tmp_path, "person", "export", EMAIL.upper(), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["person"]["name"] == NAME
    assert NAME in out.read_text(encoding="utf-8"), "written as UTF-8, not escaped"
    shown = rapport(scored_world_db, tmp_path, "person", "export", EMAIL)
    assert json.loads(shown.stdout)["person"]["email"] == EMAIL


def test_person_erase_needs_yes_then_erases(scored_world_db: Engine, tmp_path: Path) -> None:
    her = asyncio.run(zoe())
    refused = rapport(scored_world_db, tmp_path, "person", "erase", EMAIL)
    assert refused.exit_code == 1 and "cannot be undone: add --yes" in refused.output
    done = rapport(scored_world_db, tmp_path, "person", "erase", EMAIL, "--yes")
    assert done.exit_code == 0, done.output
    assert "Erased person " in done.output
    stored = Person.select(Person.name).where(Person.id == her.person_id).first().run_sync()
    assert stored is not None and stored["name"].startswith("Erased person ")
    again = rapport(scored_world_db, tmp_path, "person", "erase", EMAIL, "--yes")
    assert again.exit_code == 1 and f"no person has the e-mail '{EMAIL}'" in again.output


def test_comments_purge_follows_the_setting_or_keep(
    scored_world_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAPPORT_KEEP_COMMENTS_CYCLES", raising=False)
    unset = rapport(scored_world_db, tmp_path, "comments", "purge")
    assert unset.exit_code == 1 and "RAPPORT_KEEP_COMMENTS_CYCLES is not set" in unset.output
    dry = rapport(
        scored_world_db,
        tmp_path,
        "comments",
        "purge",
        "--dry-run",
        RAPPORT_KEEP_COMMENTS_CYCLES="2",
    )
    assert dry.exit_code == 0, dry.output
    assert "Would blank" in dry.output and "in 2026-Q1" in dry.output
    before = comments_kept()
    done = rapport(scored_world_db, tmp_path, "comments", "purge", "--keep", "3")
    assert done.exit_code == 0 and "Blanked 0 comment(s)" in done.output
    assert comments_kept() == before
    done = rapport(scored_world_db, tmp_path, "comments", "purge", "--keep", "1")
    assert "2026-Q1" in done.output and "kept those of 2026-Q3" in done.output
    assert comments_kept() < before


def test_the_groups_describe_themselves() -> None:
    for group in (person, comments):
        assert isinstance(group, click.Group) and group.help and len(group.help) > 20
