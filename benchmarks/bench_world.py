"""Benchmark: generating and storing the synthetic world at 5,000-relationship scale.

Run with `make bench` (or `python benchmarks/bench_world.py --help`). Prints one table
and writes the figures to benchmarks/results/world.json; the README records them with
the machine they came from.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import click
from _report import machine, peak_rss_mb, report

from surveys.infra.database import apply_migrations, engine_for, prepare, use_engine
from surveys.infra.settings import parse_database_url
from surveys.world import WorldParameters, build_world, bundled_specs, generate_world


async def store(parameters: WorldParameters, url: str) -> float:
    engine = engine_for(parse_database_url(url))
    use_engine(engine)
    await prepare(engine)
    await apply_migrations()
    start = time.perf_counter()
    await build_world(parameters, actor="bench")
    return time.perf_counter() - start


@click.command()
@click.option("--sites", default=1960, show_default=True, help="1,960 sites ≈ 5,000 relationships.")
@click.option("--cycles", default=6, show_default=True)
@click.option("--raters", default=3, show_default=True)
@click.option(
    "--store/--no-store",
    "store_it",
    default=True,
    show_default=True,
    help="Also write it to SQLite.",
)
def main(sites: int, cycles: int, raters: int, store_it: bool) -> None:
    """Time world generation (and storage in a fresh SQLite file) at benchmark scale."""
    parameters = WorldParameters(sites=sites, cycles=cycles, raters=raters)
    start = time.perf_counter()
    world = generate_world(parameters, bundled_specs())
    generate_s = time.perf_counter() - start
    figures: dict[str, object] = {
        "machine": machine(),
        "parameters": parameters.as_dict(),
        "relationships": len(world.relationships),
        "persons": len(world.persons),
        "responses": len(world.responses),
        "answers": len(world.answers),
        "generate_s": round(generate_s, 2),
        "generate_peak_rss_mb": round(peak_rss_mb()),
    }
    if store_it:
        with tempfile.TemporaryDirectory() as folder:
            seconds = asyncio.run(store(parameters, f"sqlite:///{folder}/bench.sqlite"))
            figures["store_sqlite_s"] = round(seconds, 1)
            figures["sqlite_file_mb"] = round(Path(folder, "bench.sqlite").stat().st_size / 2**20)
        figures["total_peak_rss_mb"] = round(peak_rss_mb())
    report("Synthetic world benchmark", figures, "world")


if __name__ == "__main__":
    main()
