"""Starting workers, and the queue's tables: what `rapport worker` and `rapport migrate`
do on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

import procrastinate
from procrastinate.exceptions import ConnectorException
from psycopg_pool import PoolTimeout

from surveys.infra.errors import RapportError
from surveys.infra.settings import Settings
from surveys.jobs.beats import beat
from surveys.worker._queue import CONCURRENCY, queue_app

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 60.0
"""How long a stopping worker lets its running jobs finish before it gives them up (the
queue hands them to another worker)."""


async def queue_schema_applied(settings: Settings) -> bool:
    """Create the job queue's tables in the database if they are missing; True if it did."""
    app = queue_app(settings)
    async with app.open_async():
        if await _has_queue_tables(app):
            return False
        await app.schema_manager.apply_schema_async()
    return True


async def _has_queue_tables(app: procrastinate.App) -> bool:
    rows = await app.connector.execute_query_all_async(
        "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
    )
    return bool(rows and rows[0]["present"])


async def _beating(every: float, stop: asyncio.Event) -> None:
    """This worker's sign of life for monitoring (`/healthz`), every `every` seconds."""
    while not stop.is_set():
        try:
            await beat("worker", dt.datetime.now(dt.UTC))
        except Exception:  # a database gone for a moment: the next beat says it is back
            log.warning("could not record this worker's heartbeat", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def run_workers(settings: Settings, queues: list[str], stop: asyncio.Event) -> None:
    """Work the given queues until `stop` is set, each with its own concurrency (many
    letters at once, one PDF at a time), in this one process.

    A database that goes away stops the queue's workers; this waits for it to come back
    and starts them again, so a worker outlives a database restart. The jobs are in the
    database: none is lost, and one cut short is given back after its heartbeats stop.
    """
    unknown = sorted(set(queues) - set(CONCURRENCY))
    if unknown:
        raise RapportError(
            f"unknown queue(s) {', '.join(unknown)}: the queues are {', '.join(CONCURRENCY)}"
        )
    beating = asyncio.create_task(_beating(settings.worker_heartbeat, stop))
    try:
        while not stop.is_set():
            try:
                await _working(settings, queues, stop)
            except (ConnectorException, OSError, PoolTimeout) as error:
                log.warning(
                    "the database cannot be reached (%s): the workers start again in %s s",
                    type(error).__name__,
                    RECONNECT_SECONDS,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=RECONNECT_SECONDS)
    finally:
        beating.cancel()


RECONNECT_SECONDS = 5.0
"""How often a worker whose database went away tries it again."""


async def _working(settings: Settings, queues: list[str], stop: asyncio.Event) -> None:
    """The queue's workers until `stop` is set; raises what stopped them otherwise."""
    app = queue_app(settings)
    async with app.open_async():
        if not await _has_queue_tables(app):
            raise RapportError("the job queue's tables are missing: run `rapport migrate` first")
        workers = [
            asyncio.create_task(
                app.run_worker_async(
                    queues=[queue],
                    concurrency=CONCURRENCY[queue],
                    name=f"rapport-{queue}",
                    install_signal_handlers=False,
                    shutdown_graceful_timeout=SHUTDOWN_SECONDS,
                    delete_jobs="successful",
                    update_heartbeat_interval=settings.worker_heartbeat,
                    stalled_worker_timeout=3 * settings.worker_heartbeat,
                ),
                name=f"worker-{queue}",
            )
            for queue in queues
        ]
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([stopping, *workers], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        for worker in workers:
            worker.cancel()
        ended = await asyncio.gather(*workers, return_exceptions=True)
        failures = [e for e in ended if isinstance(e, Exception)]
        if failures and not stop.is_set():
            raise failures[0]
