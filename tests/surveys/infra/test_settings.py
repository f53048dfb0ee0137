"""Settings: defaults, and a clear message naming the variable for every bad value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from surveys.infra.settings import SETTINGS, SettingsError, load_settings, parse_database_url

README = Path(__file__).resolve().parents[3] / "README.md"


def test_default_database_is_a_sqlite_file_under_var(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database.kind == "sqlite"
    assert settings.database.sqlite_path == tmp_path / "var" / "rapport.sqlite"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.public_url == "http://127.0.0.1:8000"


def test_postgres_url_is_split_into_connection_keywords() -> None:
    url = parse_database_url("postgresql://rapport:s3cret@db.internal:6543/rapport_prod")
    assert url.kind == "postgres"
    assert url.postgres == {
        "host": "db.internal",
        "port": 6543,
        "database": "rapport_prod",
        "user": "rapport",
        "password": "s3cret",
    }
    assert "s3cret" not in url.display


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://x@y/z", "unknown scheme 'mysql'"),
        ("sqlite:///:memory:", "in-memory"),
        ("sqlite://relative.sqlite", "sqlite:///relative"),
        ("postgresql://host-only", "postgresql://user@host:port/dbname"),
        ("postgresql://u@h:notaport/db", "port is not a number"),
        ("just-a-path.db", "unknown scheme"),
    ],
)
def test_bad_database_url_is_refused_with_a_reason(url: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL") as error:
        parse_database_url(url)
    assert fragment in str(error.value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("eighty", "not a whole number"), ("0", "greater than 0"), ("70000", "not a valid port")],
)
def test_bad_port_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, fragment: str
) -> None:
    monkeypatch.setenv("RAPPORT_PORT", value)
    with pytest.raises(SettingsError, match="RAPPORT_PORT") as error:
        load_settings()
    assert fragment in str(error.value)


def test_public_url_defaults_to_host_and_port_and_can_be_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAPPORT_PORT", "8123")
    assert load_settings().public_url == "http://127.0.0.1:8123"
    monkeypatch.setenv("RAPPORT_PUBLIC_URL", "https://rapport.example.org/")
    assert load_settings().public_url == "https://rapport.example.org"


def test_secret_key_is_generated_once_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RAPPORT_SECRET_KEY", raising=False)
    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path))
    first = load_settings().secret_key
    assert len(first) >= 48
    assert load_settings().secret_key == first
    monkeypatch.setenv("RAPPORT_SECRET_KEY", "explicit")
    assert load_settings().secret_key == "explicit"


def test_readme_documents_every_setting() -> None:
    readme = README.read_text()
    for setting in SETTINGS:
        assert f"`{setting.env}`" in readme, f"README's settings table lacks {setting.env}"


def test_processes_starting_together_agree_on_one_secret_key(tmp_path: Path) -> None:
    """Web workers start at the same moment; two keys would refuse each other's CSRF tokens."""
    import subprocess
    import sys

    code = "from surveys.infra.settings import load_settings; print(load_settings().secret_key)"
    env = {**os.environ, "RAPPORT_VAR_DIR": str(tmp_path / "var")}
    env.pop("RAPPORT_SECRET_KEY", None)
    processes = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert len(keys) == 1 and len(keys.pop()) >= 40
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"], "no leftovers"
