"""Benchmark: a sponsor's whole directory imported from a 50,000-row CTMS export.

Run with `python benchmarks/bench_directory.py` (add `--postgres URL`, or set
RAPPORT_BENCH_POSTGRES, to measure PostgreSQL too: a scratch database is created on that
server and dropped). Generates a canonical-layout CSV (5,000 sites in 50 networks, 40,000
people, 20 sponsors, one row per person and relationship) in a temporary folder, then
times reading and checking it, the preview against an empty database, the import, and a
second import of the same file (nothing to change). Writes benchmarks/results/directory.json.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

import click
from _report import machine, on_server, peak_rss_mb, report

from surveys.directory.audit import Act
from surveys.directory.directory_import import (
    FIELDS,
    apply_directory,
    plan_directory,
    read_directory,
)
from surveys.infra.database import apply_migrations, engine_for, prepare, use_engine
from surveys.infra.settings import parse_database_url

BUDGET_S = 30.0
"""Checking and importing the 50,000-row file must take less than this on SQLite."""


def write_export(path: Path, sites: int, people: int, sponsors: int, seed: int = 7) -> int:
    """Write a canonical directory file; return its number of rows."""
    rng = random.Random(seed)
    countries = ["FR", "DE", "US", "GB", "ES", "IT", "JP", "CA", "CH", "NL"]
    areas = ["oncology", "cardiology", "neurology", "rare_disease", "metabolism"]
    site_roles = ["pi", "coordinator", "site_director"]
    rows: list[dict[str, str]] = []
    sponsor_names = [f"Sponsor {n:02d} Pharma" for n in range(sponsors)]
    partners: dict[int, list[int]] = {
        s: rng.sample(range(sponsors), k=rng.choice([1, 1, 1, 1, 2])) for s in range(sites)
    }
    site_staff = people - sponsors * 50
    for p in range(site_staff):
        s = p % sites
        for sponsor in partners[s]:
            rows.append(
                {
                    "external_id": f"S{s:05d}",
                    "organisation": f"Research Hospital {s:05d}",
                    "kind": "site",
                    "country": countries[s % len(countries)],
                    "network": f"Network {s % 50:02d}",
                    "therapeutic_areas": areas[s % len(areas)],
                    "name": f"Person {p:06d}",
                    "email": f"person{p:06d}@site{s:05d}.example",
                    "role": site_roles[p % len(site_roles)],
                    "language": "en",
                    "sponsor": sponsor_names[sponsor],
                }
            )
    by_sponsor: dict[int, list[int]] = {}
    for s, chosen in partners.items():
        for sponsor in chosen:
            by_sponsor.setdefault(sponsor, []).append(s)
    for sponsor in range(sponsors):
        for k in range(50):
            p = site_staff + sponsor * 50 + k
            for s in rng.sample(by_sponsor[sponsor], k=min(3, len(by_sponsor[sponsor]))):
                rows.append(
                    {
                        "external_id": f"SP{sponsor:03d}",
                        "organisation": sponsor_names[sponsor],
                        "kind": "sponsor",
                        "country": "US",
                        "name": f"Person {p:06d}",
                        "email": f"person{p:06d}@sponsor{sponsor:03d}.example",
                        "role": "cra" if k % 2 else "study_manager",
                        "language": "en",
                        "site": f"S{s:05d}",
                    }
                )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(FIELDS))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


async def timed_imports(path: Path, url: str) -> dict[str, float]:
    """Read, preview, import and import again into a fresh database at `url`.

    Wall-clock times, and the process's CPU time for the first three steps, which a busy
    machine does not inflate."""
    engine = engine_for(parse_database_url(url))
    use_engine(engine)
    await prepare(engine)
    await apply_migrations()
    act = Act("bench", dt.datetime.now(dt.UTC))
    start, cpu = time.perf_counter(), time.process_time()
    found = read_directory(path)
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    await plan_directory(found)
    preview_s = time.perf_counter() - start
    start = time.perf_counter()
    changes = await apply_directory(found, False, act)
    import_s = time.perf_counter() - start
    cpu_s = (
        time.process_time() - cpu
    )  # this process only; the database's own work on PostgreSQL is not in it
    start = time.perf_counter()
    again = await apply_directory(read_directory(path), False, act)
    again_s = time.perf_counter() - start
    if not again.changes_nothing or len(changes.people.new) == 0:
        raise RuntimeError("the second import should change nothing")
    return {
        "read_and_check_s": round(read_s, 2),
        "preview_s": round(preview_s, 2),
        "import_s": round(import_s, 2),
        "check_and_import_s": round(read_s + import_s, 2),
        "check_preview_import_cpu_s": round(cpu_s, 2),
        "second_import_s": round(again_s, 2),
    }


def postgres_figures(path: Path, server: str) -> dict[str, float]:
    name = f"rapport_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(on_server(server, f'CREATE DATABASE "{name}"'))
    try:
        base = server.rsplit("/", 1)[0]
        return asyncio.run(timed_imports(path, f"{base}/{name}"))
    finally:
        asyncio.run(on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@click.command()
@click.option("--sites", default=5000, show_default=True)
@click.option("--people", default=40000, show_default=True)
@click.option("--sponsors", default=20, show_default=True)
@click.option(
    "--postgres",
    default=lambda: os.environ.get("RAPPORT_BENCH_POSTGRES", ""),
    help="A PostgreSQL server URL to measure too (default: $RAPPORT_BENCH_POSTGRES).",
)
def main(sites: int, people: int, sponsors: int, postgres: str) -> None:
    """Time checking and importing a CTMS-scale directory file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "directory.csv")
        rows = write_export(path, sites, people, sponsors)
        figures: dict[str, object] = {
            "machine": machine(),
            "rows": rows,
            "sites": sites,
            "people": people,
            "file_mb": round(path.stat().st_size / 2**20, 1),
        }
        sqlite = asyncio.run(timed_imports(path, f"sqlite:///{folder}/bench.sqlite"))
        figures.update({f"sqlite_{k}": v for k, v in sqlite.items()})
        if postgres:
            figures.update(
                {f"postgres_{k}": v for k, v in postgres_figures(path, postgres).items()}
            )
        figures["peak_rss_mb"] = round(peak_rss_mb())
    report("Directory import benchmark", figures, "directory")
    if sqlite["check_and_import_s"] >= BUDGET_S:
        raise SystemExit(f"check and import took {sqlite['check_and_import_s']} s on SQLite")


if __name__ == "__main__":
    main()
