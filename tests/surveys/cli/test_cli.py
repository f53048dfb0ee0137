"""The `rapport` command: it describes itself, and every expected failure is one clear line."""

from __future__ import annotations

import os
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
    ["cycle", "status"],
    ["cycle", "send"],
    ["cycle", "remind"],
    ["import"],
    ["import", "responses"],
    ["export"],
    ["export", "responses"],
    ["export", "scores"],
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


def assert_one_clear_line(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "rapport")
def test_every_command_describes_itself(command: list[str]) -> None:
    result = rapport(*command, "--help")
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
    result = rapport(
        "instruments", "list", env={"DATABASE_URL": f"sqlite:///{tmp_path}/new.sqlite"}
    )
    assert_one_clear_line(result, "migration(s): run `rapport migrate` first")


def test_cycle_commands_fail_in_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/c.sqlite", "RAPPORT_VAR_DIR": str(tmp_path)}
    assert rapport("migrate", env=env).returncode == 0
    assert rapport("instruments", "load", env=env).returncode == 0
    result = rapport("cycle", "create", "2027-Q1", "--closes", "2020-01-31", env=env)
    assert_one_clear_line(result, "the closing date 2020-01-31 is not in the future")
    assert rapport("cycle", "create", "2027-Q1", "--closes", "2099-01-31", env=env).returncode == 0
    assert_one_clear_line(rapport("cycle", "close", "2027-Q1", env=env), "from draft to closed")
    assert_one_clear_line(rapport("cycle", "open", "2027-Q1", env=env), "would invite nobody")
    assert_one_clear_line(rapport("cycle", "status", "2031-Q1", env=env), "no cycle '2031-Q1'")


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
