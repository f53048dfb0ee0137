"""Signs of life of the processes that run background work, for monitoring (`/healthz`,
`/metrics`): each beats at every tick, under a name of its own (host and process)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

from piccolo.columns import Serial, Timestamptz, Varchar
from piccolo.table import Table

from surveys.infra.database import write_turn

FORGOTTEN_AFTER = dt.timedelta(days=1)
"""A process silent that long is gone (restarted under another pid): its row is dropped."""


class WorkerBeat(Table):
    """A process that runs the programme (a server on SQLite, a `rapport worker`)."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    name = Varchar(length=200, unique=True)
    """host:pid."""
    role = Varchar(length=20)
    """`serve` or `worker`."""
    beat_at = Timestamptz()


@dataclass(frozen=True)
class Beat:
    """A process's last sign of life."""

    name: str
    role: str
    at: dt.datetime


def this_process() -> str:
    """This process's name among the beating ones."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def beat(role: str, now: dt.datetime) -> None:
    """Say this process is alive (and forget processes silent for a day)."""
    async with write_turn(WorkerBeat._meta.db):
        await WorkerBeat.raw(
            "INSERT INTO worker_beat (name, role, beat_at) VALUES ({}, {}, {}) "
            "ON CONFLICT (name) DO UPDATE SET beat_at = excluded.beat_at, role = excluded.role",
            this_process(),
            role,
            now,
        )
        await WorkerBeat.delete().where(WorkerBeat.beat_at < now - FORGOTTEN_AFTER)


async def beats() -> list[Beat]:
    """Every beating process, the most recent first."""
    rows = await WorkerBeat.select().order_by(WorkerBeat.beat_at, ascending=False)
    return [Beat(r["name"], r["role"], r["beat_at"]) for r in rows]
