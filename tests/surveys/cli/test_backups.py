"""`rapport backup` and `rapport restore`, as an operator runs them: a backup restored into
an empty database gives the same scores, and nothing is ever restored over a database."""

from __future__ import annotations

from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from surveys.cycles.cycle import Cycle
from tests.conftest import url_of
from tests.surveys.cli.test_cli import assert_one_clear_line, rapport


def exported(url: str, cycle: str, out: Path) -> dict[str, bytes]:
    done = rapport(
        "export", "scores", "--cycle", cycle, "--out", str(out), env={"DATABASE_URL": url}
    )
    assert done.returncode == 0, done.stderr
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


@pytest.mark.anyio
async def test_a_backup_restored_into_an_empty_database_gives_the_same_scores(
    scored_world_db: Engine, blank_url: str, tmp_path: Path
) -> None:
    scored = await Cycle.select(Cycle.key).where(Cycle.status == "scored").first()
    original = url_of(scored_world_db)
    before = exported(original, scored["key"], tmp_path / "before")
    archive = tmp_path / "rapport.backup"

    made = rapport("backup", str(archive), env={"DATABASE_URL": original})
    assert made.returncode == 0 and "Backed up" in made.stdout, made.stderr
    assert archive.stat().st_size > 0
    again = rapport("backup", str(archive), env={"DATABASE_URL": original})
    assert_one_clear_line(again, "exists already: give a new file name")

    restored = rapport("restore", str(archive), env={"DATABASE_URL": blank_url})
    assert restored.returncode == 0, restored.stderr
    assert "Run `rapport migrate`" in " ".join(restored.stdout.split())
    assert exported(blank_url, scored["key"], tmp_path / "after") == before
    assert before and all(before.values())

    over = rapport("restore", str(archive), env={"DATABASE_URL": blank_url})
    assert_one_clear_line(over, "empty one")  # never over a database


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    letter = tmp_path / "notes.txt"
    letter.write_text("not a database")
    target = f"sqlite:///{tmp_path / 'new.sqlite'}"
    refused = rapport("restore", str(letter), env={"DATABASE_URL": target})
    assert_one_clear_line(refused, "is not an SQLite backup")
    missing = rapport("restore", str(tmp_path / "gone.backup"), env={"DATABASE_URL": target})
    assert_one_clear_line(missing, "there is no backup file")
    assert not (tmp_path / "new.sqlite").exists(), "a refused restore leaves nothing behind"
