"""SQLite for a server: connections kept open, and one thread per process that writes.

Piccolo's SQLite engine opens a connection for every query outside a transaction and
for every transaction: a new thread (aiosqlite runs each connection in its own), a
file open and a fresh parse of the schema, then `PRAGMA foreign_keys` before each
statement. Under a survey's load that was most of the server's time. The web server
keeps a few connections open instead (`start_pool`), each with foreign keys switched
on once.

SQLite has one writer at a time, and a transaction driven from the event loop holds
that lock while the loop serves everyone else between its statements. So the
busiest writes (`surveys.infra.sql_scripts`) run whole in a thread of their own, with a
plain connection, from BEGIN to COMMIT without waiting for the loop.

Everything else (the CLI, one-off scripts) uses Piccolo's behaviour as is, so no open
connection (and no thread that would keep the interpreter alive) outlives a command.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, dict_factory

T = TypeVar("T")


class PooledSQLiteEngine(SQLiteEngine):
    """A SQLite engine that, once `start_pool` is called, reuses its open connections."""

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: list[aiosqlite.Connection] = []
        self._slots: asyncio.Semaphore | None = None
        """None while not pooling; else how many more connections may be lent."""
        self._writer: ThreadPoolExecutor | None = None
        self._writer_connection: sqlite3.Connection | None = None
        """Opened by the writer thread, used by it alone."""

    @property
    def pooling(self) -> bool:
        """Whether connections are kept open and lent out."""
        return self._slots is not None

    async def start_pool(self, size: int = 8) -> None:
        """Lend at most `size` connections at once, keeping them open between uses."""
        self._slots = asyncio.Semaphore(size)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")

    async def close_pool(self) -> None:
        """Close every idle connection and stop pooling; connections out on loan close on return."""
        self._slots = None
        idle, self._idle = self._idle, []
        for connection in idle:
            await _within(CLOSE_SECONDS, connection.close(), "an idle SQLite connection")
        writer, self._writer = self._writer, None
        if writer is not None:
            closing = asyncio.get_running_loop().run_in_executor(
                writer, self._close_writer_connection
            )
            await _within(CLOSE_SECONDS, closing, "the SQLite writer's connection")
            writer.shutdown(wait=False)

    async def in_writer(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with the writer's connection in the writer thread, holding the write lock.

        Requires `start_pool`. The work runs to its end even if the caller stops waiting
        (a client that went away): a transaction is never left half-done in the thread.
        """
        if self._writer is None:
            raise RuntimeError("in_writer needs start_pool")
        return await asyncio.get_running_loop().run_in_executor(
            self._writer, self._write_here, work
        )

    def _write_here(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer_connection is None:
            self._writer_connection = sqlite3.connect(**self.connection_kwargs)
            self._writer_connection.row_factory = dict_factory
            self._writer_connection.execute("PRAGMA foreign_keys = 1")
        with WriterLock(self.path):  # a thread of its own: waiting here blocks no one else
            return work(self._writer_connection)

    def _close_writer_connection(self) -> None:
        if self._writer_connection is not None:
            self._writer_connection.close()
            self._writer_connection = None

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

    async def run_sql(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run one statement (with `?` placeholders) on a pooled connection; return its rows."""
        slots = self._slots
        connection = await self._borrow()
        try:
            async with connection.execute(sql, args) as cursor:
                return list(await cursor.fetchall())  # type: ignore[arg-type]
        finally:
            await self._give_back(connection, slots)

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if self._slots is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        return await self.run_sql(query, args or [])

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        # every connection this engine opens has foreign keys on already: Piccolo's
        # PRAGMA before each statement of a transaction would only cost a round trip
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()


CLOSE_SECONDS = 10
"""How long shutting down waits for one connection to close before it gives up on it."""
log = logging.getLogger(__name__)


async def _within(seconds: float, closing: Awaitable[object], what: str) -> None:
    """Wait for a close, but never hang a shutdown on it: say so and go on."""
    try:
        await asyncio.wait_for(closing, seconds)
    except TimeoutError:
        log.warning("%s did not close within %s s; leaving it", what, seconds)


class _Lent:
    """A pooled connection as a transaction sees it: the same, except that close gives it back."""

    def __init__(self, connection: aiosqlite.Connection, give_back: Any) -> None:
        self._connection = connection
        self._give_back = give_back

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def close(self) -> None:
        await self._give_back()


class WriterLock:
    """The advisory lock on a file beside a SQLite database that Rapport's writers queue on.

    SQLite's own busy handler waits by sleeping, with pauses that grow to 100 ms: under
    many concurrent respondents that turned a 10 ms write into seconds of waiting.
    Writers that take this lock first (the server's workers, a command run beside
    them) wake the moment the last one is done. Each holder opens the file itself:
    locks on separate openings exclude each other even within one process.
    """

    def __init__(self, database_path: str) -> None:
        self.path = f"{database_path}.writer-lock"
        self._descriptor: int | None = None

    def _open(self) -> int:
        self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._descriptor

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True if taken."""
        descriptor = self._open()
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def wait(self) -> None:
        """Block until the lock is taken (after `try_acquire` said no, or on its own)."""
        descriptor = self._descriptor if self._descriptor is not None else self._open()
        fcntl.flock(descriptor, fcntl.LOCK_EX)

    def release(self) -> None:
        """Give the lock back (closing the file gives it back too)."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    def __enter__(self) -> WriterLock:
        if not self.try_acquire():
            self.wait()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
