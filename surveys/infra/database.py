"""The database engine: built from DATABASE_URL, shared by every table, checked at start-up.

SQLite is the embedded default (a file, WAL mode, a busy timeout); PostgreSQL is the
production database, reached through a connection pool that the app's lifespan opens
and closes.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import Where
from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from surveys.infra import sqlite_constraints  # noqa: F401  (SQLite needs constraints inline)
from surveys.infra.errors import RapportError
from surveys.infra.settings import DatabaseURL, Settings, load_settings
from surveys.infra.sqlite_pool import PooledSQLiteEngine, WriterLock

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "surveys"
"""Where Piccolo keeps Rapport's migrations (one folder per app, as Piccolo requires)."""


class DatabaseUnavailableError(RapportError):
    """The configured database cannot be reached or opened; the message says which and why."""


def engine_for(database: DatabaseURL, timeout: int = 30) -> Engine[Any]:
    """Return a Piccolo engine for a parsed DATABASE_URL (nothing is opened yet)."""
    # Piccolo's engines connect on construction to check the server version and warn on
    # failure; `prepare` makes the real check and reports it in one line, so stay quiet.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if database.kind == "sqlite" and database.sqlite_path is not None:
            return PooledSQLiteEngine(path=str(database.sqlite_path), timeout=timeout)
        return PostgresEngine(config={**database.postgres, "timeout": timeout})


def configured_engine(settings: Settings | None = None) -> Engine[Any]:
    """Return the engine for the settings in force."""
    settings = settings or load_settings()
    return engine_for(settings.database, settings.db_timeout)


def use_engine(engine: Engine[Any]) -> None:
    """Point Piccolo's configuration and every loaded table at `engine`.

    Piccolo caches the engine on each table at first use, so switching databases
    (tests, `--database` options) must reset every table, not only the configuration.
    Tables imported later find the engine through the configuration (Piccolo's
    `engine_finder`), so walking the loaded `Table` classes is enough and names none.
    """
    Finder().get_piccolo_conf_module().DB = engine  # type: ignore[union-attr]
    for table in _loaded_tables(Table):
        table._meta.db = engine


def _loaded_tables(base: type[Table]) -> list[type[Table]]:
    found: list[type[Table]] = []
    for table in base.__subclasses__():
        found += [table, *_loaded_tables(table)]
    return found


def current_engine() -> Engine[Any]:
    """Return the engine every table uses now (the one Piccolo's configuration holds)."""
    engine = engine_finder()
    if engine is None:
        raise DatabaseUnavailableError("Piccolo's configuration holds no database engine")
    return engine


def engine_label(engine: Engine[Any]) -> str:
    """Return the database product's name, as people write it."""
    return {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(
        engine.engine_type, engine.engine_type
    )


def describe(engine: Engine[Any]) -> str:
    """Return a one-line, password-free description of where `engine` points."""
    if isinstance(engine, SQLiteEngine):
        return f"SQLite file {engine.path}"
    if isinstance(engine, PostgresEngine):
        cfg = engine.config
        where = f"{cfg.get('host')}:{cfg.get('port')}/{cfg.get('database')}"
        return f"PostgreSQL {cfg.get('user')}@{where}"
    return type(engine).__name__


async def prepare(engine: Engine[Any], create: bool = True) -> None:
    """Make the database usable, or raise DatabaseUnavailableError with one clear line.

    For SQLite: create the folder and switch the file to WAL mode (the mode persists in
    the file, so this runs once at start-up, not per connection); unless `create`, a
    missing file is an error, so that a command that needs a database leaves no empty
    file behind. For PostgreSQL: open one connection to prove the server is there and
    the database exists.
    """
    if not create and isinstance(engine, SQLiteEngine) and not Path(engine.path).exists():
        raise DatabaseUnavailableError(
            f"there is no database at {engine.path}: run `rapport migrate` to create it"
        )
    try:
        with warnings.catch_warnings():
            # Piccolo warns on its own when it cannot connect; our error says it once
            warnings.simplefilter("ignore")
            await _open(engine)
    except Exception as error:  # the driver's errors differ; the user needs one line
        raise DatabaseUnavailableError(
            f"cannot open the database ({describe(engine)}): {_reason(error)}"
        ) from error


async def _open(engine: Engine[Any]) -> None:
    if isinstance(engine, SQLiteEngine):
        Path(engine.path).parent.mkdir(parents=True, exist_ok=True)
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    else:
        await asyncio.wait_for(engine.run_ddl("SELECT 1", in_pool=False), timeout=10)


def _reason(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, ConnectionRefusedError) or "refused" in text.lower():
        return "connection refused (is the server running?)"
    if isinstance(error, TimeoutError):
        return "no answer within 10 seconds"
    return text.splitlines()[0]


async def start_pool(engine: Engine[Any], max_size: int = 10) -> None:
    """Keep connections open for a long-running process (the web server).

    PostgreSQL gets asyncpg's pool; SQLite keeps its connections open and lends them
    (without this it opens one per query, which is right for a short command).
    """
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(max_size=max_size)
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.start_pool(max_size)


async def close_pool(engine: Engine[Any]) -> None:
    """Close the connections `start_pool` kept open, if any."""
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        try:  # asyncpg waits for every connection to come back: not forever
            await asyncio.wait_for(engine.close_connection_pool(), 10)
        except TimeoutError:
            log.warning("PostgreSQL connections still in use after 10 s; closing them anyway")
            if engine.pool is not None:
                engine.pool.terminate()
                engine.pool = None
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.close_pool()


async def ping(engine: Engine[Any]) -> dict[str, Any]:
    """Return the database's health: reachable, engine kind and server version."""
    query = (
        "SELECT sqlite_version() AS version"
        if engine.engine_type == "sqlite"
        else ("SELECT current_setting('server_version') AS version")
    )
    try:
        rows = await engine.run_ddl(query)
    except Exception as error:  # reported, not raised: /healthz must answer
        return {"ok": False, "engine": engine_label(engine), "error": _reason(error)}
    return {"ok": True, "engine": engine_label(engine), "version": rows[0]["version"]}


_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
"""Per event loop (a lock belongs to one loop), per SQLite file."""


@asynccontextmanager
async def writing_transaction(engine: Engine[Any]) -> AsyncIterator[None]:
    """Open a transaction for a unit of writes; inside one already open, join it.

    On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so two writers queue
    instead of one failing half-way with "database is locked"; see `write_turn`. Joining
    lets a unit of writes (a new organisation, audited) be part of a larger one (the first
    administrator, their organisation and account) and still be all or nothing.
    """
    if engine.current_transaction.get() is not None:
        yield
        return
    if not isinstance(engine, SQLiteEngine):
        async with engine.transaction():
            yield
        return
    from piccolo.engine.sqlite import TransactionType

    async with write_turn(engine), engine.transaction(transaction_type=TransactionType.immediate):
        yield


@asynccontextmanager
async def write_turn(engine: Engine[Any]) -> AsyncIterator[None]:
    """Wait for this process's turn to write to a SQLite file (nothing to wait for elsewhere).

    Writers of one process queue on an asyncio lock, then across processes on the
    writers' lock file (`WriterLock`), instead of meeting SQLite's sleeping busy
    handler. A single statement (its own transaction) takes a turn too.
    """
    if not isinstance(engine, SQLiteEngine) or engine.current_transaction.get() is not None:
        yield  # PostgreSQL has row locks; inside a transaction the turn is already held
        return
    locks = _write_locks.setdefault(asyncio.get_running_loop(), {})
    async with locks.setdefault(engine.path, asyncio.Lock()):
        writers = WriterLock(engine.path)
        try:
            if not writers.try_acquire():
                await _wait_off_the_loop(writers)
            yield
        finally:
            writers.release()


async def _wait_off_the_loop(writers: WriterLock) -> None:
    """Wait in a thread for another process to finish writing.

    If the wait is cancelled, the thread still gets the lock in the end, so the
    cancellation waits for it: the caller's release then gives it back.
    """
    waiting = asyncio.ensure_future(asyncio.to_thread(writers.wait))
    try:
        await asyncio.shield(waiting)
    except asyncio.CancelledError:
        while not waiting.done():
            with suppress(asyncio.CancelledError):
                await asyncio.shield(waiting)
        raise


def database_identity(engine: Engine[Any]) -> str:
    """Return which database an engine reaches (a file, or a server's database), as a key."""
    if engine.engine_type == "sqlite":
        return f"sqlite:{engine.path}"  # type: ignore[attr-defined]
    config = getattr(engine, "config", {})
    return f"postgres:{config.get('host')}:{config.get('port')}/{config.get('database')}"


def db_value(value: Any) -> Any:
    """Return a value as the database driver takes it: None for any missing marker
    (None, NaN, pandas' NA and NaT), plain Python for numpy scalars and Timestamps."""
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


COPY_FROM = 500
"""Rows from which PostgreSQL gets them by COPY rather than by executemany."""


async def bulk_insert(table: type[Table], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows (ids given or left to the database) through the driver: COPY on
    PostgreSQL from COPY_FROM rows, else executemany.

    Piccolo builds each statement through its QueryString, whose cost grows with every
    value (about 30 µs a row); the synthetic world writes millions of answers, so this
    hands the rows to the driver of the transaction's own connection instead. Values are
    always bound parameters. Call inside `writing_transaction`; afterwards call
    `reset_id_sequence` if ids were given.
    """
    if not rows:
        return
    engine = table._meta.db
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("bulk_insert must run inside writing_transaction(...)")
    if engine.engine_type == "postgres" and len(rows) >= COPY_FROM:
        # COPY streams the rows in PostgreSQL's binary format, where executemany binds and
        # executes a statement per row (benchmarks/bench_imports.py measures both)
        await transaction.connection.copy_records_to_table(
            table._meta.tablename, records=rows, columns=columns
        )
        return
    names = ", ".join(f'"{c}"' for c in columns)
    if engine.engine_type == "sqlite":
        marks = ", ".join("?" * len(columns))
    else:
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    # names come from Rapport's own table classes; every value is a bound parameter
    sql = f"INSERT INTO {table._meta.get_formatted_tablename()} ({names}) VALUES ({marks})"  # noqa: S608
    await transaction.connection.executemany(sql, rows)


async def fetched(table: type[Table], sql: str, *values: Any) -> list[tuple[Any, ...]]:
    """The rows of a read query as tuples, straight from the driver (`?` marks the values).

    Piccolo turns every row into a dict, about 10 µs a row: fine for a page, slow for the
    two million stored answers an import compares itself with. Runs inside the open
    transaction, else in a read transaction of its own. `sql` is Rapport's own text; the
    values are always bound parameters.
    """
    engine = table._meta.db
    if engine.current_transaction.get() is None:
        async with engine.transaction():
            return await fetched(table, sql, *values)
    transaction = engine.current_transaction.get()
    assert transaction is not None
    connection = transaction.connection
    if engine.engine_type == "sqlite":
        # Piccolo's SQLite connections make each row a dict (its row factory)
        rows = await connection.execute_fetchall(sql, values)
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]
    numbered = sql
    for n in range(1, len(values) + 1):
        numbered = numbered.replace("?", f"${n}", 1)
    return [tuple(r) for r in await connection.fetch(numbered, *values)]


async def lock_row(table: type[Table], row_id: int, shared: bool = False) -> None:
    """Inside a transaction, hold one row against other writers until the transaction ends.

    PostgreSQL locks the row (SELECT … FOR UPDATE, or FOR SHARE when `shared`: others may
    read and share-lock it, none may change it); SQLite's BEGIN IMMEDIATE already holds
    the database's one write lock, so there is nothing more to take.
    """
    engine = table._meta.db
    if engine.engine_type == "sqlite":
        return
    mode = "SHARE" if shared else "UPDATE"
    # the table name comes from Rapport's own table class; the id is a bound parameter
    await table.raw(
        f"SELECT id FROM {table._meta.get_formatted_tablename()} WHERE id = {{}} FOR {mode}",  # noqa: S608
        row_id,
    )


async def lock_name(table: type[Table], name: str) -> None:
    """Inside a transaction, hold a named lock until the transaction ends, so that two
    processes checking then writing the same thing (a job started twice) take turns.

    PostgreSQL takes a transaction-level advisory lock on the name's hash; SQLite's BEGIN
    IMMEDIATE already holds the database's one write lock. `table` only names the engine.
    """
    if table._meta.db.engine_type == "sqlite":
        return
    await table.raw("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))", name)


async def lock_for_explicit_ids(tables: list[type[Table]]) -> None:
    """Inside a transaction, keep other writers out of tables about to get explicit ids.

    SQLite's BEGIN IMMEDIATE already holds the database's one write lock; PostgreSQL
    needs the tables locked, or a concurrent insert could take an id chosen here.
    """
    engine = tables[0]._meta.db
    if engine.engine_type == "postgres":
        names = ", ".join(t._meta.get_formatted_tablename() for t in tables)
        # raw() joins the open transaction; a lock taken elsewhere would not hold
        await tables[0].raw(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


async def next_id(table: type[Table]) -> int:
    """Return the first id above every id in `table` (for rows inserted with explicit ids)."""
    key = table._meta.primary_key
    row = await table.select(key).order_by(key, ascending=False).first()
    return int(row[key._meta.name]) + 1 if row else 1


async def reset_id_sequence(table: type[Table]) -> None:
    """After explicit-id inserts, move PostgreSQL's id sequence past the largest id."""
    if table._meta.db.engine_type != "postgres":
        return  # SQLite's INTEGER PRIMARY KEY always continues from the largest id
    name = table._meta.tablename  # one of Rapport's own tables, never user input
    largest = f'COALESCE((SELECT max(id) FROM "{name}"), 0) + 1'  # noqa: S608
    await table.raw(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), {largest}, false)")


async def apply_migrations() -> list[str]:
    """Apply every pending migration; return the ids of all applied, raise if one fails."""
    from piccolo.apps.migrations.commands.forwards import ForwardsMigrationManager
    from piccolo.apps.migrations.tables import Migration

    response = await ForwardsMigrationManager(app_name="surveys", migration_id="all").run()
    if not response.success:
        raise DatabaseUnavailableError(f"migration failed: {response.message}")
    rows = await Migration.select(Migration.name).where(Migration.app_name == "surveys")
    return [row["name"] for row in rows]


async def pending_migrations() -> int:
    """Return how many of Rapport's migrations the database has not applied yet."""
    from piccolo.apps.migrations.commands.check import CheckMigrationManager
    from piccolo.apps.migrations.tables import Migration

    if not await Migration.table_exists():
        return len(list(MIGRATIONS.glob("surveys_*.py")))
    return int(await CheckMigrationManager(app_name="surveys").havent_ran_count())


def contains(column: Column, text: str) -> Where:
    """A condition: the column holds `text`, in any case (the console's searches).

    PostgreSQL has ILIKE; SQLite's LIKE already ignores the case of ASCII letters (Piccolo
    warns each time it turns one into the other, so the choice is made here). A `%` or
    `_` typed in a search acts as a wildcard, which is harmless.
    """
    pattern = f"%{text.strip()}%"
    if column._meta.table._meta.db.engine_type == "sqlite":
        return column.like(pattern)
    return column.ilike(pattern)
