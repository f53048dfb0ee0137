"""Backups of the database, and their restoring into an empty one.

SQLite is copied through its online backup API (a consistent copy while the server
runs, pages copied a slice at a time so writers are not held up); PostgreSQL through
`pg_dump`'s custom format and `pg_restore` (the server's own tools: consistent, the queue's
tables included). A restore goes only into an empty database, so it never mixes two
databases nor overwrites one, and a backup of one engine is refused, saying so, by the
other. The secret key (RAPPORT_SECRET_KEY, or var/secret_key) is not in the database:
survey links in e-mails already sent need the same key, so it is kept with the backups.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from surveys.infra.errors import RapportError
from surveys.infra.settings import DatabaseURL

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
PAGES_PER_STEP = 1024
"""Pages an SQLite backup copies before letting writers in (4 MB)."""


class BackupError(RapportError):
    """A backup or a restore cannot be done; the message says why and what to do."""


def backup(database: DatabaseURL, target: Path) -> str:
    """Write a backup of the database to `target` (whole, or not at all); say what it is."""
    if target.exists():
        raise BackupError(f"{target} exists already: give a new file name")
    partial = target.with_name(f".{target.name}.partial")
    try:
        if database.kind == "sqlite":
            _sqlite_backup(_sqlite_file(database), partial)
            kind = "SQLite database file"
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(partial)], database)
            kind = "pg_dump custom-format archive"
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return kind


def restore(database: DatabaseURL, source: Path) -> None:
    """Restore a backup into the configured database, which must be empty."""
    if not source.is_file():
        raise BackupError(f"there is no backup file {source}")
    with source.open("rb") as head:
        start = head.read(16)
    if database.kind == "sqlite":
        if not start.startswith(SQLITE_MAGIC):
            raise BackupError(
                f"{source} is not an SQLite backup"
                + (
                    " (it is a PostgreSQL one: set DATABASE_URL to PostgreSQL)"
                    if start.startswith(PG_DUMP_MAGIC)
                    else ""
                )
            )
        target = _sqlite_file(database)
        if target.exists() and _sqlite_tables(target):
            raise BackupError(
                f"{target} holds a database already: restore into a new, empty one "
                "(move the old file away first)"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_backup(source, target)
        return
    if not start.startswith(PG_DUMP_MAGIC):
        raise BackupError(
            f"{source} is not a pg_dump archive"
            + (
                " (it is an SQLite one: set DATABASE_URL to SQLite)"
                if start.startswith(SQLITE_MAGIC)
                else ""
            )
        )
    tables = _run(
        [
            "psql",
            "--no-psqlrc",
            "--tuples-only",
            "--no-align",
            "--command",
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        ],
        database,
    )
    if tables.strip() != "0":
        raise BackupError(
            f"the database {database.postgres['database']} is not empty: create an empty "
            "one (createdb) and point DATABASE_URL at it"
        )
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            str(database.postgres["database"]),
            str(source),
        ],
        database,
    )


def _sqlite_file(database: DatabaseURL) -> Path:
    if database.sqlite_path is None:
        raise BackupError("DATABASE_URL names no SQLite file")
    return database.sqlite_path


def _sqlite_tables(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        found = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
        return int(found.fetchone()[0])


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    reading = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writing = sqlite3.connect(target)
    try:
        reading.backup(writing, pages=PAGES_PER_STEP)
    except sqlite3.Error as error:
        raise BackupError(f"could not copy {source}: {error}") from None
    finally:
        writing.close()
        reading.close()


def _run(command: list[str], database: DatabaseURL) -> str:
    """Run a PostgreSQL client tool on the configured database; its output, or BackupError
    with what it said."""
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed: install the PostgreSQL client tools "
            "(Debian and Ubuntu: apt install postgresql-client) of the server's version"
        )
    config = database.postgres
    env = {
        **os.environ,
        "PGHOST": str(config["host"]),
        "PGPORT": str(config["port"]),
        "PGUSER": str(config["user"]),
        "PGDATABASE": str(config["database"]),
    }
    if "password" in config:
        env["PGPASSWORD"] = str(config["password"])  # the environment, never the command line
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{command[0]} failed: {said[-1] if said else done.returncode}")
    return done.stdout
