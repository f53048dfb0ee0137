"""Benchmark: the job queue on PostgreSQL, with real `rapport worker` processes.

1. The same scorecard batch (every scorecard of a scored cycle, one job each on the pdf
   queue) rendered by 1, 2 and 4 worker processes: scorecards per second, from the
   batch's fan-out to its last scorecard counted (the mailing that follows is not timed).
2. A cycle opened through the queue, inviting everyone of a large world: invitation
   e-mails per second to a local SMTP sink (aiosmtpd), and whether any went twice.

Each part builds its world in a throw-away PostgreSQL database. Run with
`python benchmarks/bench_workers.py --postgres postgresql://postgres@127.0.0.1:5432/postgres`
(`make bench` passes RAPPORT_BENCH_POSTGRES); figures go to benchmarks/results/workers.json
and the README.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import click
from _report import machine, on_server, report
from aiosmtpd.controller import Controller

from scoring.config import ScoringConfig
from surveys.cycles.cycle import Cycle
from surveys.cycles.life_cycle import create_cycle
from surveys.directory.audit import Act
from surveys.infra.database import apply_migrations, engine_for, prepare, use_engine
from surveys.infra.settings import load_settings, parse_database_url
from surveys.jobs import Job
from surveys.jobs.batches import BatchItem
from surveys.jobs.beats import WorkerBeat
from surveys.results.cycle_scoring import score_closed_cycles
from surveys.results.score_runs import scored_cycles
from surveys.scorecards import RenderedScorecard
from surveys.worker import queue_app, queue_schema_applied
from surveys.worker._queue import defer_console_step
from surveys.world import WorldParameters, build_world

ROOT = Path(__file__).resolve().parents[1]


class Sink:
    """An SMTP server that counts what it is given, by recipient."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        for address in envelope.rcpt_tos:
            self.received[address] += 1
        return "250 OK"


async def _database(server: str, sites: int, score: bool) -> str:
    """A throw-away database holding a synthetic world (scored, if asked); its URL."""
    name = f"rapport_bench_{uuid.uuid4().hex[:10]}"
    await on_server(server, f'CREATE DATABASE "{name}"')
    url = f"{server.rsplit('/', 1)[0]}/{name}"
    use_engine(engine_for(parse_database_url(url)))
    await prepare(engine_for(parse_database_url(url)))
    use_engine(engine_for(parse_database_url(url)))
    await apply_migrations()
    await build_world(WorldParameters(sites=sites, cycles=3, raters=3), actor="bench")
    if score:
        await score_closed_cycles(ScoringConfig(), "bench", "bench")
    return url


def _workers(env: dict[str, str], count: int, queues: list[str]) -> list[subprocess.Popen[bytes]]:
    flags = [part for queue in queues for part in ("--queue", queue)]
    return [
        subprocess.Popen(
            [sys.executable, "-m", "surveys", "worker", *flags],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        for _ in range(count)
    ]


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=120)


async def _workers_up(count: int) -> None:
    """Wait until `count` worker processes have beaten (they are up and listening)."""
    for _ in range(600):
        if await WorkerBeat.count().where(WorkerBeat.role == "worker") >= count:
            await asyncio.sleep(1)  # their queue workers start right after the first beat
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the workers did not start")


async def batch_rates(server: str, sites: int, counts: list[int]) -> dict[str, object]:
    url = await _database(server, sites, score=True)
    cycle = str((await scored_cycles())[0]["key"])
    figures: dict[str, object] = {"cycle": cycle}
    try:
        with tempfile.TemporaryDirectory() as folder:
            env = {
                "DATABASE_URL": url,
                "RAPPORT_VAR_DIR": folder,
                "RAPPORT_SECRET_KEY": "b" * 43,
                "RAPPORT_SMTP_URL": "",
            }
            os.environ.update(env)
            await queue_schema_applied(load_settings())
            app = queue_app(load_settings())
            for count in counts:
                await RenderedScorecard.delete(force=True)
                await Job.delete(force=True)
                await WorkerBeat.delete(force=True)
                for pdf in Path(folder).rglob("*.pdf"):
                    pdf.unlink()
                running = _workers(env, count, ["scoring", "pdf"])
                try:
                    await _workers_up(count)
                    async with app.open_async():
                        start = time.perf_counter()
                        await defer_console_step(
                            app, "scorecards", cycle, Act("bench", dt.datetime.now(dt.UTC))
                        )
                        total = None
                        while True:
                            job = await Job.select(Job.id, Job.total).first()
                            if job and job["total"]:
                                total = int(job["total"])
                                done = await BatchItem.count().where(BatchItem.job == job["id"])
                                if done >= total:
                                    break
                            await asyncio.sleep(0.05)
                        seconds = time.perf_counter() - start
                finally:
                    _stop(running)
                figures[f"{count} worker(s): scorecards"] = total
                figures[f"{count} worker(s): seconds"] = round(seconds, 1)
                figures[f"{count} worker(s): scorecards per second"] = round(total / seconds, 2)
    finally:
        await on_server(server, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    one = float(str(figures["1 worker(s): scorecards per second"]))
    for count in counts[1:]:
        rate = float(str(figures[f"{count} worker(s): scorecards per second"]))
        figures[f"{count} workers against 1"] = f"{rate / one:.2f}x"
    return figures


async def letter_rate(server: str, sites: int, workers: int) -> dict[str, object]:
    url = await _database(server, sites, score=False)
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            env = {
                "DATABASE_URL": url,
                "RAPPORT_VAR_DIR": folder,
                "RAPPORT_SECRET_KEY": "b" * 43,
                "RAPPORT_SMTP_URL": f"smtp+plain://127.0.0.1:{port}",
            }
            os.environ.update(env)
            await queue_schema_applied(load_settings())
            now = dt.datetime.now(dt.UTC)
            await create_cycle("BENCH-1", "bench", now + dt.timedelta(days=30), now, "bench")
            running = _workers(env, workers, ["mail"])
            try:
                await _workers_up(workers)
                app = queue_app(load_settings())
                async with app.open_async():
                    start = time.perf_counter()
                    await defer_console_step(app, "open", "BENCH-1", Act("bench", now))
                    while not await Job.exists().where(
                        (Job.kind == "open") & (Job.state != "running")
                    ):
                        await asyncio.sleep(0.1)
                    seconds = time.perf_counter() - start
            finally:
                _stop(running)
            opened = await Cycle.select(Cycle.status).where(Cycle.key == "BENCH-1").first()
    finally:
        smtp.stop()
        await on_server(server, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    sent = sum(sink.received.values())
    return {
        "world sites": sites,
        "cycle opened": opened["status"] if opened else None,
        "invitation e-mails": sent,
        "seconds (open, invite everyone, send)": round(seconds, 1),
        "e-mails per second": round(sent / seconds, 1),
        "people who got two": sum(1 for n in sink.received.values() if n > 1),
    }


@click.command()
@click.option("--postgres", envvar="RAPPORT_BENCH_POSTGRES", required=True)
@click.option("--sites", default=40, show_default=True, help="Sites of the scorecard world.")
@click.option(
    "--letter-sites", default=2500, show_default=True, help="Sites of the letters' world."
)
@click.option("--skip-letters", is_flag=True)
def main(postgres: str, sites: int, letter_sites: int, skip_letters: bool) -> None:
    figures: dict[str, object] = {"machine": machine()}
    figures.update(asyncio.run(batch_rates(postgres, sites, [1, 2, 4])))
    if not skip_letters:
        figures.update(asyncio.run(letter_rate(postgres, letter_sites, workers=1)))
    report("The job queue with rapport worker processes (PostgreSQL)", figures, "workers")


if __name__ == "__main__":
    main()
