"""The `rapport` command: it describes itself, and every expected failure is one clear line."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

RAPPORT = [sys.executable, "-m", "surveys"]
COMMANDS = [
    [],
    ["migrate"],
    ["settings"],
    ["instruments"],
    ["instruments", "load"],
    ["instruments", "list"],
    ["organisations"],
    ["organisations", "import"],
    ["demo"],
    ["serve"],
    ["world"],
    ["world", "build"],
    ["cycle"],
    ["cycle", "create"],
    ["cycle", "open"],
    ["cycle", "close"],
    ["cycle", "reopen"],
    ["cycle", "status"],
    ["cycle", "send"],
    ["cycle", "remind"],
    ["import"],
    ["import", "responses"],
    ["export"],
    ["export", "responses"],
    ["export", "scores"],
    ["admin"],
    ["admin", "create"],
    ["accounts"],
    ["accounts", "invite"],
    ["directory"],
    ["directory", "import"],
    ["directory", "organisation", "add"],
    ["directory", "person", "add"],
    ["directory", "relationship", "add"],
    ["person", "export"],
    ["person", "erase"],
    ["comments", "purge"],
    ["audit"],
    ["backup"],
    ["restore"],
    ["programme"],
    ["programme", "show"],
    ["programme", "set"],
    ["programme", "move"],
    ["programme", "skip"],
    ["programme", "pause"],
    ["programme", "tick"],
    ["worker"],
    ["jobs"],
]


def rapport(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RAPPORT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def here(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command in this process, through Click's runner: what `rapport` prints, without
    paying the interpreter's and the imports' start-up for every command (about 2 s each)."""
    from click.testing import CliRunner

    from surveys.cli import main

    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables and lines printed as wide as a terminal's (in-process runs have no terminal)."""
    from surveys.cli._run import console

    monkeypatch.setattr(console, "width", 200)


def assert_one_clear_line(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "rapport")
def test_every_command_describes_itself(command: list[str]) -> None:
    result = here(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    description = result.stdout.split("\n\n")[1].strip()
    assert len(description) > 20, f"{command} has no description"


def test_invalid_database_url_is_one_line() -> None:
    result = rapport("migrate", env={"DATABASE_URL": "mysql://nope"})
    assert_one_clear_line(result, "DATABASE_URL='mysql://nope': unknown scheme 'mysql'")


def test_unreachable_postgres_is_one_line() -> None:
    result = rapport("migrate", env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/rapport"})
    assert_one_clear_line(
        result, "cannot open the database (PostgreSQL postgres@127.0.0.1:1/rapport)"
    )


def test_malformed_instrument_is_one_line_naming_file_field_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    source = (Path(__file__).resolve().parents[2] / "data" / "minimal_instrument.toml").read_text()
    bad.write_text(source.replace('layer = "cost"', 'layer = "price"'))
    result = rapport(
        "instruments", "load", str(bad), env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"}
    )
    line = next(
        n for n, text in enumerate(bad.read_text().splitlines(), 1) if 'layer = "price"' in text
    )
    assert_one_clear_line(result, f"{bad}:{line}: dimension[3].layer: 'price' is not one of")


def test_unknown_organisation_kind_in_an_import_is_one_line(tmp_path: Path) -> None:
    csv = tmp_path / "orgs.csv"
    csv.write_text("slug,name,kind\nmayo,Mayo,hospital\n")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"}
    assert rapport("migrate", env=env).returncode == 0
    result = rapport("organisations", "import", str(csv), env=env)
    assert_one_clear_line(result, f"{csv}:2: kind: 'hospital' is not one of")


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = rapport(
            "serve",
            env={"RAPPORT_PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"},
        )
    assert_one_clear_line(result, f"port {port} on 127.0.0.1 is already in use")


def test_bad_world_size_is_a_usage_error(tmp_path: Path) -> None:
    result = rapport(
        "world", "build", "--sites", "1", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"}
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--sites must be at least 4" in result.stderr


def test_unmigrated_database_asks_for_migrate(tmp_path: Path) -> None:
    # a database file with no tables (no file at all: tests/security)
    (tmp_path / "new.sqlite").touch()
    result = rapport(
        "instruments", "list", env={"DATABASE_URL": f"sqlite:///{tmp_path}/new.sqlite"}
    )
    assert_one_clear_line(result, "migration(s): run `rapport migrate` first")


def test_cycle_commands_fail_in_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/c.sqlite", "RAPPORT_VAR_DIR": str(tmp_path)}
    assert here("migrate", env=env).returncode == 0
    assert here("instruments", "load", env=env).returncode == 0
    result = here("cycle", "create", "2027-Q1", "--closes", "2020-01-31", env=env)
    assert_one_clear_line(result, "the closing date 2020-01-31 is not in the future")
    assert here("cycle", "create", "2027-Q1", "--closes", "2099-01-31", env=env).returncode == 0
    assert_one_clear_line(here("cycle", "close", "2027-Q1", env=env), "from draft to closed")
    opened = here("cycle", "open", "2027-Q1", env=env)
    assert_one_clear_line(opened, "would invite nobody: there is no active relationship")
    assert "point at http://127.0.0.1:8000, the default address: set RAPPORT_PUBLIC_URL" in (
        " ".join(opened.stdout.split())
    ), "the links' address is said, and that it is the default"
    sent = here("cycle", "send", "2027-Q1", env={**env, "RAPPORT_PUBLIC_URL": "https://r.org"})
    assert "point at https://r.org (RAPPORT_PUBLIC_URL)" in " ".join(sent.stdout.split())
    assert_one_clear_line(sent, "cycle 2027-Q1 is draft: only an open cycle's invitations go out")
    reopened = here("cycle", "reopen", "2027-Q1", "--closes", "2099-02-01", env=env)
    assert_one_clear_line(reopened, "is draft: only a closed cycle that is not scored yet")
    assert_one_clear_line(here("cycle", "status", "2031-Q1", env=env), "no cycle '2031-Q1'")


def test_the_demo_scores_its_cycles_prints_links_and_writes_their_e_mails(tmp_path: Path) -> None:
    import email
    import re
    from email import policy

    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite",
        "RAPPORT_VAR_DIR": str(tmp_path),
        "COLUMNS": "200",
    }
    result = rapport("demo", "--sites", "8", "--cycles", "3", "--no-serve", env=env)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Scored 3 closed cycle\(s\)", result.stdout)
    links = re.findall(r"http://127\.0\.0\.1:8000/s/[A-Za-z0-9_-]{43}", result.stdout)
    assert len(links) == 3
    letters = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(letters) == 3
    sent = set()
    for letter in letters:
        message = email.message_from_bytes(letter.read_bytes(), policy=policy.default)
        sent |= set(re.findall(r"http://\S+/s/\S+", message.get_body(("plain",)).get_content()))
    assert sent == set(links), "each printed link is the one its e-mail carries"


def test_a_cycle_run_from_the_command_line_says_what_each_step_did(
    world_db: object, tmp_path: Path
) -> None:
    from tests.conftest import url_of

    env = {
        "DATABASE_URL": url_of(world_db),  # type: ignore[arg-type]
        "RAPPORT_VAR_DIR": str(tmp_path),
        "RAPPORT_PUBLIC_URL": "https://rapport.example.org",
        "COLUMNS": "200",
    }
    assert here("cycle", "create", "2027-Q1", "--closes", "2099-01-31", env=env).returncode == 0
    opened = here("cycle", "open", "2027-Q1", env=env)
    assert opened.returncode == 0, opened.stderr
    people = int(re.search(r"to ([\d,]+) people", opened.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert re.search(
        rf"{people:,} invitation e-mails sent \(([\d,]+) of \1 invitations due\)", opened.stdout
    )
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == people
    would = here("cycle", "remind", "2027-Q1", "--dry-run", env=env)
    assert re.search(r"0 people would be reminded now; held back: [\d,]+ not due yet", would.stdout)
    reminded = here("cycle", "remind", "2027-Q1", env=env)
    assert reminded.returncode == 0, reminded.stderr
    assert re.search(
        r"0 reminders sent \(0 of 0 invitations due\): [\d,]+ not due yet \(last e-mail less "
        r"than 5 days ago\)",
        reminded.stdout,
    )
    status = here("cycle", "status", "2027-Q1", "--by", "role", env=env)
    assert (
        status.returncode == 0
        and "undeliverable" in status.stdout
        and "coordinator" in status.stdout
    )
    assert here("cycle", "close", "2027-Q1", env=env).returncode == 0
    reopened = here("cycle", "reopen", "2027-Q1", "--closes", "2099-03-31", env=env)
    assert reopened.returncode == 0, reopened.stderr
    assert "Reopened 2027-Q1 until 2099-03-31" in reopened.stdout


def test_import_responses_check_says_what_it_would_do_and_writes_nothing(
    world_db: object, tmp_path: Path
) -> None:
    import asyncio

    from tests.conftest import url_of
    from tests.surveys.responses.test_imports import CYCLE, sample, totals, two_invitations

    env = {
        "DATABASE_URL": url_of(world_db),  # type: ignore[arg-type]
        "RAPPORT_VAR_DIR": str(tmp_path),
        "COLUMNS": "200",
    }
    path = sample("plain.csv", tmp_path, asyncio.run(two_invitations()))
    before = asyncio.run(totals())
    checked = here("import", "responses", str(path), "--cycle", CYCLE, "--check", env=env)
    assert checked.returncode == 0, checked.stderr
    assert f"Would import 2 responses into {CYCLE}; 0 are already there unchanged." in (
        checked.stdout
    )
    assert "Nothing was written." in checked.stdout
    assert asyncio.run(totals()) == before, "a check writes nothing"
    imported = here("import", "responses", str(path), "--cycle", CYCLE, env=env)
    assert f"Imported 2 responses into {CYCLE}" in imported.stdout, imported.stderr
    again = here("import", "responses", str(path), "--cycle", CYCLE, "--check", env=env)
    assert "Would import 0 responses" in again.stdout and "2 are already there" in again.stdout
