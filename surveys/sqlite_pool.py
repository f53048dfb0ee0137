"""SQLite with connections kept open: Piccolo's engine, minus a new connection per query.

Piccolo's SQLite engine opens a connection for every query outside a transaction and
for every transaction: a new thread (aiosqlite runs each connection in its own), a
file open and a fresh parse of the schema, then `PRAGMA foreign_keys` before each
statement. Under a survey's load that was most of the server's time. The web server
keeps a few connections open instead (`start_pool`), each with foreign keys switched
on once; everything else (the CLI, one-off scripts) uses Piccolo's behaviour as is,
so no open connection (and no thread that would keep the interpreter alive) outlives
a command.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, dict_factory


class PooledSQLiteEngine(SQLiteEngine):
    """A SQLite engine that, once `start_pool` is called, reuses its open connections."""

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: list[aiosqlite.Connection] = []
        self._slots: asyncio.Semaphore | None = None
        """None while not pooling; else how many more connections may be lent."""

    @property
    def pooling(self) -> bool:
        """Whether connections are kept open and lent out."""
        return self._slots is not None

    async def start_pool(self, size: int = 8) -> None:
        """Lend at most `size` connections at once, keeping them open between uses."""
        self._slots = asyncio.Semaphore(size)

    async def close_pool(self) -> None:
        """Close every idle connection and stop pooling; connections out on loan close on return."""
        self._slots = None
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    async def _open_connection(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def _borrow(self) -> aiosqlite.Connection:
        if self._slots is None:
            return await self._open_connection()
        await self._slots.acquire()
        try:
            return self._idle.pop() if self._idle else await self._open_connection()
        except BaseException:
            self._slots.release()
            raise

    async def _give_back(self, connection: aiosqlite.Connection, slots: Any) -> None:
        """Keep a connection for the next query, unless pooling stopped or it is mid-transaction.

        A connection whose transaction was neither committed nor rolled back (a task
        cancelled at the wrong moment) is closed, which rolls it back, never reused.
        """
        try:
            if slots is not None and slots is self._slots and not connection.in_transaction:
                self._idle.append(connection)
            else:
                await connection.close()
        finally:
            if slots is not None:
                slots.release()

    async def get_connection(self) -> Any:
        """The connection a transaction runs on; closing it gives it back to the pool."""
        slots = self._slots
        connection = await self._borrow()
        if slots is None:
            return connection
        return _Lent(connection, lambda: self._give_back(connection, slots))

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic",
        table: Any = None,
    ) -> Any:  # fmt: skip
        if self._slots is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        slots = self._slots
        connection = await self._borrow()
        try:
            async with connection.execute(query, args or []) as cursor:
                return await cursor.fetchall()
        finally:
            await self._give_back(connection, slots)

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None,
        query_type: str = "generic", table: Any = None,
    ) -> Any:  # fmt: skip
        # every connection this engine opens has foreign keys on already: Piccolo's
        # PRAGMA before each statement of a transaction would only cost a round trip
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()


class _Lent:
    """A pooled connection as a transaction sees it: the same, except that close gives it back."""

    def __init__(self, connection: aiosqlite.Connection, give_back: Any) -> None:
        self._connection = connection
        self._give_back = give_back

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def close(self) -> None:
        await self._give_back()
