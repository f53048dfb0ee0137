"""A unit of writes as a script of statements, run as one transaction on either database.

The busiest writes (a respondent's save or submit) are written as generators: each
yields a `Statement` and receives its rows, and returns the outcome. Decisions stay
in Python, one definition for both databases; `run_script` drives the generator:

- on SQLite under the web server, whole in the writer thread (`PooledSQLiteEngine`),
  so SQLite's single write lock is held for the statements' time only, not for the
  event loop's turns between them;
- otherwise through the async driver inside `writing_transaction` (PostgreSQL always,
  SQLite in commands and tests that start no pool).

Values are always bound parameters; SQL text comes from Rapport's own code.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from surveys.infra.database import writing_transaction
from surveys.infra.sqlite_pool import PooledSQLiteEngine

T = TypeVar("T")
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Statement:
    """One statement, with `{}` where each bound value goes (as Piccolo's `raw` takes them)."""

    sql: str
    args: tuple[Any, ...] = ()
    many: Sequence[tuple[Any, ...]] | None = None
    """Run once per row of values (executemany) instead of once with `args`."""


Script = Generator[Statement, Rows, T]
"""Yields statements, is sent each one's rows (none for `many`), returns the outcome."""
_SLOT = re.compile(r"\{\}")


def compiled(sql: str, engine_type: str) -> str:
    """Return a statement with its `{}` slots as the driver's placeholders (`?` or `$n`)."""
    if engine_type == "sqlite":
        return sql.replace("{}", "?")
    numbers = iter(range(1, sql.count("{}") + 1))
    return _SLOT.sub(lambda _: f"${next(numbers)}", sql)


async def run_script(engine: Engine[Any], script: Script[T]) -> T:
    """Run a script as one transaction (committed when it returns, rolled back if it raises)."""
    if isinstance(engine, PooledSQLiteEngine) and engine.pooling:
        return await engine.in_writer(lambda connection: _run_here(connection, script))
    async with writing_transaction(engine):
        transaction = engine.current_transaction.get()
        if transaction is None:  # writing_transaction opened one: never the case
            raise RuntimeError("a script must run inside its transaction")
        connection = transaction.connection
        try:
            statement = next(script)
            while True:
                statement = script.send(await execute(connection, engine.engine_type, statement))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


async def execute(connection: Any, engine_type: str, statement: Statement) -> Rows:
    """Run one statement on a transaction's connection (aiosqlite or asyncpg); return its rows."""
    sql = compiled(statement.sql, engine_type)
    if statement.many is not None:
        await connection.executemany(sql, statement.many)
        return []
    if engine_type == "sqlite":
        async with connection.execute(sql, statement.args) as cursor:
            return list(await cursor.fetchall())
    return [dict(record) for record in await connection.fetch(sql, *statement.args)]


async def fetch(engine: Engine[Any], statement: Statement) -> Rows:
    """Run one read statement outside any transaction and return its rows.

    For the reads every request makes: the statement goes straight to a pooled
    connection, without the query builder's work.
    """
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        sql = compiled(statement.sql, engine.engine_type)
        return [dict(record) for record in await engine.pool.fetch(sql, *statement.args)]
    if isinstance(engine, PooledSQLiteEngine) and engine.pooling:
        return await engine.run_sql(compiled(statement.sql, "sqlite"), statement.args)
    return list(await engine.run_querystring(QueryString(statement.sql, *statement.args)))


def _run_here(connection: sqlite3.Connection, script: Script[T]) -> T:
    """Drive a script synchronously on a SQLite connection, from BEGIN IMMEDIATE to COMMIT."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        statement = next(script)
        while True:
            sql = compiled(statement.sql, "sqlite")
            if statement.many is not None:
                connection.executemany(sql, statement.many)
                rows: Rows = []
            else:
                rows = connection.execute(sql, statement.args).fetchall()
            statement = script.send(rows)
    except StopIteration as done:
        connection.execute("COMMIT")
        return done.value  # type: ignore[no-any-return]
    except BaseException:
        connection.execute("ROLLBACK")
        raise
