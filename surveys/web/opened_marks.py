"""Links opened, written to the database a few times a second rather than once per view.

Every first view of a form used to be a write of its own, and SQLite has one writer:
under a survey's load those marks took as much of the write lock as the answers did.
The marks only feed the cycle's status report (how many opened), so they are gathered
and written together every `INTERVAL` seconds, and at shutdown. A crash loses at most
that interval's marks (those links show as sent, not opened); never an answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from contextlib import suppress

from surveys.responses.answering import mark_opened

INTERVAL = 0.5
"""Seconds between writes of the marks gathered."""
log = logging.getLogger(__name__)


class OpenedMarks:
    """The first-opened times noted since the last write, per invitation."""

    def __init__(self) -> None:
        self._pending: dict[int, dt.datetime] = {}
        self._writer: asyncio.Task[None] | None = None

    def note(self, invitation_id: int, moment: dt.datetime) -> None:
        """Note a view of a link not opened before (the first view's time is kept)."""
        self._pending.setdefault(invitation_id, moment)

    async def write(self) -> None:
        """Write the marks gathered so far; on failure keep them for the next try."""
        marks, self._pending = self._pending, {}
        try:
            await mark_opened(marks)
        except Exception:
            log.exception("could not record %d opened links; will retry", len(marks))
            for invitation_id, moment in marks.items():
                self._pending.setdefault(invitation_id, moment)

    def start(self) -> None:
        """Write gathered marks every INTERVAL seconds until `stop`."""

        async def every_interval() -> None:
            while True:
                await asyncio.sleep(INTERVAL)
                if self._pending:
                    await self.write()

        self._writer = asyncio.create_task(every_interval())

    async def stop(self) -> None:
        """Stop the periodic writes and write what is left."""
        if self._writer is not None:
            self._writer.cancel()
            with suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        if self._pending:
            await self.write()
