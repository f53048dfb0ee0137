"""Benchmark: scorecards per second on 1 and 2 processes, and a whole cycle's batch.

Builds a synthetic world in a fresh SQLite file, scores its closed cycles, then
1. renders the same 200 partner scorecards' PDFs with 1 and with 2 worker processes
   (scorecards per second; peak memory of the workers);
2. runs `render_cycle` over the whole latest cycle (every partner, portfolio and network
   scorecard, each for its audiences) into a fresh folder;
3. runs it again with nothing changed (every scorecard skipped by its hash).
Run with `make bench` or `python benchmarks/bench_scorecards.py --help`; figures go to
benchmarks/results/scorecards.json and the README.
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
from pathlib import Path

import click
from _report import machine, peak_rss_mb, report

from scoring.config import ScoringConfig
from surveys.infra.database import apply_migrations, engine_for, prepare, use_engine
from surveys.infra.settings import parse_database_url
from surveys.results.cycle_scoring import score_closed_cycles
from surveys.results.score_runs import scored_cycles
from surveys.scorecards import cycle_results, pdf_of, pdf_workers, render_cycle
from surveys.scorecards._batch import cycle_jobs, rendered_html
from surveys.world import WorldParameters, build_world

SAMPLE = 200


async def build(folder: str, sites: int) -> str:
    """A scored world in a fresh SQLite file; return its latest scored cycle."""
    engine = engine_for(parse_database_url(f"sqlite:///{folder}/bench.sqlite"))
    use_engine(engine)
    await prepare(engine)
    await apply_migrations()
    await build_world(WorldParameters(sites=sites, cycles=3, raters=3), actor="bench")
    await score_closed_cycles(ScoringConfig(), "bench", "bench")
    return str((await scored_cycles())[0]["key"])


async def sample_html(cycle: str) -> tuple[list[str], int]:
    """The HTML of SAMPLE partner scorecards, and how many scorecards the cycle has."""
    results = await cycle_results(cycle)
    jobs = cycle_jobs(results, "a4", None)
    partners = [job for job in jobs if job.kind.value == "partner"]
    step = max(1, len(partners) // SAMPLE)
    return [rendered_html(results, job) for job in partners[::step][:SAMPLE]], len(jobs)


def rate(pages: list[str], processes: int) -> float:
    """Scorecards per second with `processes` workers, their start-up excluded."""
    with pdf_workers(processes) as pool:
        list(pool.map(pdf_of, pages[:processes]))  # start and warm every worker
        start = time.perf_counter()
        list(pool.map(pdf_of, pages, chunksize=4))
        return len(pages) / (time.perf_counter() - start)


@click.command()
@click.option(
    "--sites",
    default=220,
    show_default=True,
    help="220 sites ≈ 1,000 partner scorecards in a cycle.",
)
def main(sites: int) -> None:
    """Time scorecard PDFs (1 and 2 processes) and a whole cycle's batch, cold and warm."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        cycle = asyncio.run(build(folder, sites))
        prepared = time.perf_counter() - start
        pages, scorecards = asyncio.run(sample_html(cycle))
        one = rate(pages, 1)
        two = rate(pages, 2)
        workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out = Path(folder) / "out"
        start = time.perf_counter()
        first = asyncio.run(render_cycle(cycle, out, "a4", 2))
        batch_s = time.perf_counter() - start
        start = time.perf_counter()
        again = asyncio.run(render_cycle(cycle, out, "a4", 2))
        rerun_s = time.perf_counter() - start
    report(
        "Scorecards benchmark",
        {
            "machine": machine(),
            "world": f"{sites} sites, 3 cycles; built and scored in {prepared:.0f} s",
            "sample": f"{len(pages)} partner scorecards",
            "per_second_1_process": round(one, 1),
            "per_second_2_processes": round(two, 1),
            "speed_up": round(two / one, 2),
            "worker_peak_rss_mb": round(workers_mb),
            "batch_scorecards": scorecards,
            "batch_written": len(first.written),
            "batch_failed": len(first.failed),
            "batch_s": round(batch_s, 1),
            "rerun_unchanged_s": round(rerun_s, 1),
            "rerun_skipped": again.skipped,
            "main_peak_rss_mb": round(peak_rss_mb()),
        },
        "scorecards",
    )


if __name__ == "__main__":
    main()
