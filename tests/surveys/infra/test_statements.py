"""Scripts of statements, SQLite's kept connections, its writer thread and writers' lock."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from surveys.directory.organisations import Organisation
from surveys.infra.database import close_pool, start_pool, write_turn
from surveys.infra.sql_scripts import Script, Statement, compiled, fetch, run_script
from surveys.infra.sqlite_pool import PooledSQLiteEngine, WriterLock
from surveys.web.opened_marks import OpenedMarks

pytestmark = pytest.mark.anyio
TABLE = Organisation._meta.get_formatted_tablename()


def renaming(old: str, new: str, then_fail: bool = False) -> Script[int]:
    """Rename one organisation, report how many have the new name, maybe fail afterwards."""
    yield Statement(f"UPDATE {TABLE} SET name = {{}} WHERE name = {{}}", (new, old))
    rows = yield Statement(f"SELECT count(*) AS n FROM {TABLE} WHERE name = {{}}", (new,))
    if then_fail:
        raise RuntimeError("the script changed its mind")
    return int(rows[0]["n"])


async def a_name(engine: Engine) -> str:
    rows = await fetch(engine, Statement(f"SELECT name FROM {TABLE} ORDER BY id LIMIT 1"))
    return str(rows[0]["name"])


def test_placeholders_are_the_drivers() -> None:
    assert compiled("a = {} AND b IN ({}, {})", "sqlite") == "a = ? AND b IN (?, ?)"
    assert compiled("a = {} AND b IN ({}, {})", "postgres") == "a = $1 AND b IN ($2, $3)"


@pytest.mark.parametrize("pooled", [False, True], ids=["driven", "pooled"])
async def test_a_script_commits_when_it_returns_and_undoes_everything_when_it_raises(
    world_db: Engine, pooled: bool
) -> None:
    if pooled:
        await start_pool(world_db)
    try:
        name = await a_name(world_db)
        assert await run_script(world_db, renaming(name, "Renamed Ltd")) == 1
        assert await a_name(world_db) == "Renamed Ltd"
        with pytest.raises(RuntimeError, match="changed its mind"):
            await run_script(world_db, renaming("Renamed Ltd", "Never Ltd", then_fail=True))
        assert await a_name(world_db) == "Renamed Ltd", "the update before the failure is undone"
    finally:
        await close_pool(world_db)


async def test_sqlite_keeps_its_connections_and_never_reuses_one_left_in_a_transaction(
    tmp_path: Path,
) -> None:
    engine = PooledSQLiteEngine(path=str(tmp_path / "pool.sqlite"))
    await engine.start_pool(2)
    try:
        await engine.run_sql("CREATE TABLE t (x INTEGER)")
        await engine.run_sql("INSERT INTO t VALUES (1)")
        first = engine._idle[-1]
        await engine.run_sql("SELECT x FROM t")
        assert engine._idle == [first], "the same connection serves the next query"
        lent = await engine.get_connection()
        await lent.execute("BEGIN")
        await lent.execute("INSERT INTO t VALUES (2)")
        await lent.close()  # given back mid-transaction, as a cancelled task would
        assert engine._idle == [], "closed, not kept"
        assert await engine.run_sql("SELECT count(*) AS n FROM t") == [{"n": 1}]
    finally:
        await engine.close_pool()
    assert engine._idle == [] and not engine.pooling


async def test_the_writer_thread_needs_the_pool(tmp_path: Path) -> None:
    engine = PooledSQLiteEngine(path=str(tmp_path / "pool.sqlite"))
    with pytest.raises(RuntimeError, match="start_pool"):
        await engine.in_writer(lambda connection: None)


def test_writers_take_turns_across_openings_of_the_lock_file(tmp_path: Path) -> None:
    """Two holders (as two processes would be) never hold the lock at once."""
    database = str(tmp_path / "x.sqlite")
    holding: list[str] = []
    overlaps: list[str] = []

    def writer(name: str) -> None:
        for _ in range(20):
            with WriterLock(database):
                if holding:
                    overlaps.append(name)
                holding.append(name)
                time.sleep(0.001)
                holding.remove(name)

    threads = [threading.Thread(target=writer, args=(n,)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []


async def test_a_cancelled_wait_for_the_lock_still_gives_it_back(tmp_path: Path) -> None:
    engine = PooledSQLiteEngine(path=str(tmp_path / "w.sqlite"))
    other = WriterLock(engine.path)  # another process writing
    assert other.try_acquire()

    async def write() -> None:
        async with write_turn(engine):
            await asyncio.sleep(0)

    waiting = asyncio.create_task(write())
    await asyncio.sleep(0.05)
    waiting.cancel()
    await asyncio.sleep(0.05)
    other.release()  # the waiting thread now gets the lock, and must hand it back
    with pytest.raises(asyncio.CancelledError):
        await waiting
    again = WriterLock(engine.path)
    assert again.try_acquire(), "nobody holds the lock after the cancelled wait"
    again.release()


async def test_opened_marks_are_written_together_and_kept_when_writing_fails(
    world_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from surveys.cycles.invitations import Invitation

    ids = [
        r["id"]
        for r in await Invitation.select(Invitation.id)
        .where(Invitation.status.is_in(["created", "sent"]))
        .limit(3)
    ]
    await Invitation.update({Invitation.status: "submitted", Invitation.submitted_at: NOW}).where(
        Invitation.id == ids[2]
    )
    marks = OpenedMarks()
    marks.note(ids[0], NOW)
    marks.note(ids[0], NOW + dt.timedelta(minutes=5))  # a second view keeps the first time
    marks.note(ids[1], NOW)
    marks.note(ids[2], NOW)  # submitted meanwhile: stays submitted

    import surveys.web.opened_marks as opened_marks

    async def down(_: object) -> None:
        raise OSError("database unavailable")

    monkeypatch.setattr(opened_marks, "mark_opened", down)
    await marks.write()
    monkeypatch.undo()
    assert await Invitation.count().where(Invitation.status == "opened") == 0
    await marks.stop()  # writes what is left
    rows = {
        r["id"]: r
        for r in await Invitation.select(
            Invitation.id, Invitation.status, Invitation.opened_at
        ).where(Invitation.id.is_in(ids))
    }
    assert [rows[i]["status"] for i in ids] == ["opened", "opened", "submitted"]
    assert rows[ids[0]]["opened_at"] == NOW


NOW = dt.datetime(2027, 3, 2, 9, 30, tzinfo=dt.UTC)
