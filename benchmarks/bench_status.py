"""Benchmark: a running cycle's live status, as the console asks for it again and again.

Run with `python benchmarks/bench_status.py` (see `--help`). For each database (SQLite,
PostgreSQL or both), it writes into a fresh database, straight through the driver, a
directory (2,000 sites with three staff each, 25 sponsors and their CRAs, two sponsors
per site) and an open cycle with 20,000 invitations at every stage: submitted, in
progress, opened, sent, not sent yet, a few undeliverable. With the connections kept
open as the web server keeps them, it then times `cycle_status` grouped each way and
`not_answered` (the first page, and a search) after a warm-up, and reports p50, p95 and
the slowest call. The goal is a p95 under 300 ms for `cycle_status`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
from _report import machine, on_server, report

from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.cycles.progress import GROUPINGS, Grouping, cycle_status, not_answered
from surveys.directory.organisations import Organisation, Person, Relationship
from surveys.infra.database import (
    apply_migrations,
    bulk_insert,
    close_pool,
    engine_for,
    prepare,
    reset_id_sequence,
    start_pool,
    use_engine,
    writing_transaction,
)
from surveys.infra.settings import parse_database_url
from surveys.instruments import Direction, Instrument, bundled_instrument_paths, load_instruments

GOAL_MS = 300
NOW = dt.datetime(2027, 2, 1, 9, 0, tzinfo=dt.UTC)
COUNTRIES = ["DE", "FR", "ES", "JP", "GB", "US", "IT", "NL"]
STAGES = ["submitted", "in_progress", "opened", "sent", "created"]
SHARES = [0.4, 0.1, 0.1, 0.35, 0.05]


async def build(url: str, sites: int, seed: int) -> int:
    """Write the directory and an open cycle; return the number of invitations."""
    engine = engine_for(parse_database_url(url))
    use_engine(engine)
    await prepare(engine)
    await apply_migrations()
    await load_instruments(bundled_instrument_paths(), actor="bench")
    instruments = {
        row["direction"]: row["id"]
        for row in await Instrument.select(Instrument.id, Instrument.direction)
    }
    rng = np.random.default_rng(seed)
    sponsors = list(range(1, 26))
    site_ids = list(range(100, 100 + sites))
    organisations = [
        (org, f"sponsor-{org}", f"Sponsor {org}", "sponsor", "US") for org in sponsors
    ] + [
        (org, f"site-{org}", f"Site {org}", "site", COUNTRIES[org % len(COUNTRIES)])
        for org in site_ids
    ]
    people: list[tuple[Any, ...]] = []
    staff: dict[int, list[int]] = {}
    for org in site_ids:
        for role in ("pi", "coordinator", "site_director"):
            people.append((len(people) + 1, org, role))
            staff.setdefault(org, []).append(len(people))
    for org in sponsors:
        for _ in range(40):
            people.append((len(people) + 1, org, "cra"))
            staff.setdefault(org, []).append(len(people))
    relationships = []
    for site in site_ids:
        for sponsor in rng.choice(sponsors, size=2, replace=False):
            relationships.append((len(relationships) + 1, int(sponsor), site))
    invitations = []
    for rel, sponsor, site in relationships:
        for rater in staff[site]:
            invitations.append((rel, rater, sponsor, instruments[Direction.site_rates_sponsor]))
        for rater in rng.choice(staff[sponsor], size=2, replace=False):
            invitations.append((rel, int(rater), site, instruments[Direction.sponsor_rates_site]))
    statuses = rng.choice(STAGES, size=len(invitations), p=SHARES)
    refused = rng.random(len(invitations)) < 0.01
    async with writing_transaction(engine):
        await bulk_insert(
            Organisation,
            ["id", "slug", "name", "kind", "country", "active", "created_at"],
            [(*row, True, NOW) for row in organisations],
        )
        await bulk_insert(
            Person,
            ["id", "organisation", "name", "email", "role", "language", "active", "created_at"],
            [
                (pid, org, f"Person {pid}", f"p{pid}@example.org", role, "en", True, NOW)
                for pid, org, role in people
            ],
        )
        await bulk_insert(
            Relationship,
            ["id", "sponsor", "site", "active", "started_on"],
            [(*row, True, NOW) for row in relationships],
        )
        cycle = Cycle(
            key="2027-Q1",
            title="Q1 2027",
            status="open",
            site_instrument=instruments[Direction.site_rates_sponsor],
            sponsor_instrument=instruments[Direction.sponsor_rates_site],
            opens_at=NOW - dt.timedelta(days=20),
            closes_at=NOW + dt.timedelta(days=40),
            created_at=NOW,
            status_changed_at=NOW,
        )
        await cycle.save()
        await bulk_insert(
            Invitation,
            [
                "cycle",
                "relationship",
                "instrument",
                "respondent",
                "target",
                "token_hash",
                "status",
                "created_at",
                "sent_at",
                "submitted_at",
                "expires_at",
                "reminder_count",
                "undeliverable_at",
                "delivery_problem",
            ],
            [
                (
                    cycle.id,
                    rel,
                    instrument,
                    rater,
                    target,
                    secrets.token_hex(32),
                    str(status),
                    NOW,
                    None if status == "created" else NOW - dt.timedelta(days=19),
                    NOW if status == "submitted" else None,
                    NOW + dt.timedelta(days=40),
                    int(rng.integers(0, 3)) if status != "created" else 0,
                    NOW if gone else None,
                    "550 no such user" if gone else None,
                )
                for (rel, rater, target, instrument), status, gone in zip(
                    invitations, statuses, refused, strict=True
                )
            ],
        )
    for table in (Organisation, Person, Relationship):
        await reset_id_sequence(table)
    return len(invitations)


async def timed(call: Callable[[], Awaitable[object]], warmup: int, calls: int) -> dict[str, float]:
    """p50, p95 and the slowest of `calls` timed calls, in ms, after `warmup` untimed ones."""
    for _ in range(warmup):
        await call()
    seconds = []
    for _ in range(calls):
        start = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - start)
    ms = np.array(seconds) * 1000
    return {
        "p50": round(float(np.percentile(ms, 50)), 1),
        "p95": round(float(np.percentile(ms, 95)), 1),
        "max": round(float(ms.max()), 1),
    }


async def measure(
    label: str, url: str, sites: int, seed: int, warmup: int, calls: int
) -> dict[str, object]:
    invited = await build(url, sites, seed)
    engine = Invitation._meta.db
    await start_pool(engine)  # as the web server keeps its connections
    try:
        figures: dict[str, object] = {f"{label}_invitations": invited}
        for by in GROUPINGS:

            def status(by: Grouping = by) -> Awaitable[object]:
                return cycle_status("2027-Q1", by)

            found = await cycle_status("2027-Q1", by)
            if found.total.invited != invited:
                raise RuntimeError(f"{by}: counted {found.total.invited} of {invited}")
            for name, value in (await timed(status, warmup, calls)).items():
                figures[f"{label}_status_by_{by}_{name}_ms"] = value
        for name, value in (await timed(lambda: not_answered("2027-Q1"), warmup, calls)).items():
            figures[f"{label}_not_answered_{name}_ms"] = value
        search = await timed(lambda: not_answered("2027-Q1", "site 1"), warmup, calls)
        for name, value in search.items():
            figures[f"{label}_not_answered_search_{name}_ms"] = value
    finally:
        await close_pool(engine)
    return figures


@click.command()
@click.option(
    "--database",
    type=click.Choice(["sqlite", "postgres", "both"]),
    default="both",
    show_default=True,
)
@click.option("--sites", default=2000, show_default=True, help="Sites (10 invitations each).")
@click.option("--calls", default=50, show_default=True, help="Timed calls of each read.")
@click.option("--warmup", default=5, show_default=True, help="Untimed calls first.")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--postgres",
    default="postgresql://postgres@127.0.0.1:5432/postgres",
    show_default=True,
    help="Server for the PostgreSQL run (a throw-away database is created and dropped).",
)
def main(database: str, sites: int, calls: int, warmup: int, seed: int, postgres: str) -> None:
    """Time a 20,000-invitation cycle's live status and follow-up list."""
    figures: dict[str, object] = {
        "machine": machine(),
        "sites": sites,
        "calls": calls,
        "goal_p95_ms": GOAL_MS,
    }
    with tempfile.TemporaryDirectory() as folder:
        if database in ("sqlite", "both"):
            url = f"sqlite:///{Path(folder, 'bench.sqlite')}"
            figures.update(asyncio.run(measure("sqlite", url, sites, seed, warmup, calls)))
        if database in ("postgres", "both"):
            name = f"rapport_bench_status_{uuid.uuid4().hex[:8]}"
            asyncio.run(on_server(postgres, f'CREATE DATABASE "{name}"'))
            try:
                server = postgres.rsplit("/", 1)[0]
                figures.update(
                    asyncio.run(measure("postgres", f"{server}/{name}", sites, seed, warmup, calls))
                )
            finally:
                asyncio.run(on_server(postgres, f'DROP DATABASE "{name}" WITH (FORCE)'))
    report("Cycle status benchmark", figures, "status")


if __name__ == "__main__":
    main()
