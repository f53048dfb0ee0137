"""The database engine: built from DATABASE_URL, shared by every table, checked at start-up.

SQLite is the embedded default (a file, WAL mode, a busy timeout); PostgreSQL is the
production database, reached through a connection pool that the app's lifespan opens
and closes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from surveys import sqlite_constraints  # noqa: F401  (SQLite needs constraints inline)
from surveys.settings import DatabaseURL, Settings, load_settings


class DatabaseUnavailableError(RuntimeError):
    """The configured database cannot be reached or opened; the message says which and why."""


def engine_for(database: DatabaseURL, timeout: int = 30) -> Engine:
    """Return a Piccolo engine for a parsed DATABASE_URL (nothing is opened yet)."""
    if database.kind == "sqlite":
        assert database.sqlite_path is not None
        return SQLiteEngine(path=str(database.sqlite_path), timeout=timeout)
    return PostgresEngine(config={**database.postgres, "timeout": timeout})


def configured_engine(settings: Settings | None = None) -> Engine:
    """Return the engine for the settings in force."""
    settings = settings or load_settings()
    return engine_for(settings.database, settings.db_timeout)


def use_engine(engine: Engine) -> None:
    """Point Piccolo's configuration and every Rapport table at `engine`.

    Piccolo caches the engine on each table at first use, so switching databases
    (tests, `--database` options) must reset every table, not only the config.
    """
    from surveys import piccolo_conf
    from surveys.piccolo_app import APP_CONFIG

    piccolo_conf.DB = engine
    for table in APP_CONFIG.table_classes:
        table._meta.db = engine


def describe(engine: Engine) -> str:
    """Return a one-line, password-free description of where `engine` points."""
    if isinstance(engine, SQLiteEngine):
        return f"SQLite file {engine.path}"
    if isinstance(engine, PostgresEngine):
        cfg = engine.config
        return f"PostgreSQL {cfg.get('user')}@{cfg.get('host')}:{cfg.get('port')}/{cfg.get('database')}"
    return type(engine).__name__


async def prepare(engine: Engine) -> None:
    """Make the database usable, or raise DatabaseUnavailableError with one clear line.

    For SQLite: create the folder and switch the file to WAL mode (the mode persists in
    the file, so this runs once at start-up, not per connection). For PostgreSQL: open
    one connection to prove the server is there and the database exists.
    """
    try:
        if isinstance(engine, SQLiteEngine):
            from pathlib import Path

            Path(engine.path).parent.mkdir(parents=True, exist_ok=True)
            await engine._run_in_new_connection("PRAGMA journal_mode=WAL")
        else:
            await asyncio.wait_for(engine._run_in_new_connection("SELECT 1"), timeout=10)
    except Exception as error:  # the driver's errors differ; the user needs one line
        raise DatabaseUnavailableError(
            f"cannot open the database ({describe(engine)}): {_reason(error)}"
        ) from error


def _reason(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, (ConnectionRefusedError, OSError)) and "refused" in text.lower():
        return "connection refused (is the server running?)"
    if isinstance(error, TimeoutError):
        return "no answer within 10 seconds"
    return text.splitlines()[0]


async def start_pool(engine: Engine, max_size: int = 10) -> None:
    """Open the PostgreSQL connection pool (SQLite has none: it opens a file per query)."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(max_size=max_size)


async def close_pool(engine: Engine) -> None:
    """Close the PostgreSQL connection pool, if one is open."""
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


async def ping(engine: Engine) -> dict[str, Any]:
    """Return the database's health: reachable, engine kind and server version."""
    try:
        version = await engine.get_version()
    except Exception as error:  # reported, not raised: /healthz must answer
        return {"ok": False, "engine": engine.engine_type, "error": _reason(error)}
    return {"ok": True, "engine": engine.engine_type, "version": version}


def writing_transaction(engine: Engine) -> Any:
    """Return a transaction for a unit of writes, as one async context manager.

    On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so two writers queue
    on the busy timeout instead of one failing half-way with "database is locked".
    """
    if isinstance(engine, SQLiteEngine):
        from piccolo.engine.sqlite import TransactionType

        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


MAX_PARAMETERS = 30_000
"""Bound on parameters per statement (SQLite allows 32,766, PostgreSQL 32,767)."""


async def bulk_insert(table: type[Table], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows with explicit values (ids included), in multi-row statements.

    Building one ORM object per row costs about four times as much as the SQL itself; the
    synthetic world writes hundreds of thousands of answers, so it inserts tuples. Call
    inside a transaction; afterwards call `reset_id_sequence` if ids were given.
    """
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    row_marks = "(" + ", ".join(["{}"] * len(columns)) + ")"
    tablename = table._meta.get_formatted_tablename()
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        marks = ", ".join([row_marks] * len(chunk))
        values = [value for row in chunk for value in row]
        await table.raw(f"INSERT INTO {tablename} ({names}) VALUES {marks}", *values)


async def next_id(table: type[Table]) -> int:
    """Return the first id above every id in `table` (for rows inserted with explicit ids)."""
    row = await table.select(table.id).order_by(table.id, ascending=False).first()
    return int(row["id"]) + 1 if row else 1


async def reset_id_sequence(table: type[Table]) -> None:
    """After explicit-id inserts, move PostgreSQL's id sequence past the largest id."""
    if table._meta.db.engine_type != "postgres":
        return  # SQLite's INTEGER PRIMARY KEY always continues from the largest id
    name = table._meta.tablename
    await table.raw(
        f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
        f'COALESCE((SELECT max(id) FROM "{name}"), 0) + 1, false)'
    )
