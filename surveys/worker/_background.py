"""Where a console button's long work runs: in this server process (SQLite, or a server
that runs the programme itself) or on the job queue, for `rapport worker` processes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import procrastinate

from surveys.directory.audit import Act
from surveys.jobs import launch, refuse_if_running, start_job
from surveys.programme import Tools
from surveys.programme.steps import console_work
from surveys.worker._queue import defer_console_step


class Background(Protocol):
    """Starts a console step (`surveys.programme.steps.CONSOLE_KINDS`) on a cycle."""

    async def start(self, kind: str, key: str, act: Act) -> None:
        """Start it, or raise JobBusyError if the same step is running or waiting."""
        ...


@dataclass(frozen=True)
class InThisProcess:
    """Work run in this process's event loop (PDFs in its pool)."""

    tools: Tools

    async def start(self, kind: str, key: str, act: Act) -> None:
        """Start the job here."""
        launch(await start_job(kind, key, act), console_work(kind, key, act, self.tools))


@dataclass(frozen=True)
class OnTheQueue:
    """Work handed to the job queue, which any worker takes."""

    app: procrastinate.App

    async def start(self, kind: str, key: str, act: Act) -> None:
        """Queue the job, unless it runs already or waits."""
        await refuse_if_running(kind, key, act.at)
        await defer_console_step(self.app, kind, key, act)
