"""What every benchmark shares: the machine, peak memory, one table saved as JSON, and
statements run on a PostgreSQL server (a throw-away database created and dropped)."""

from __future__ import annotations

import json
import os
import platform
import resource
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """The machine a figure comes from, as the README records it."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started or `reset_peak`, in MB.

    Linux's VmHWM, not getrusage's ru_maxrss: ru_maxrss survives fork and exec, so a
    child would report its parent's peak, and it cannot be reset between phases.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start measuring the peak afresh, so a phase is measured apart from what came before."""
    clear = Path("/proc/self/clear_refs")
    if clear.exists():
        clear.write_text("5")


def report(title: str, figures: dict[str, object], name: str) -> None:
    """Print the figures as a table and keep them in benchmarks/results/<name>.json."""
    table = Table("measure", "value", title=title)
    for key, value in figures.items():
        table.add_row(key, str(value))
    Console().print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2))


async def on_server(server: str, statement: str) -> None:
    """Run one statement on a PostgreSQL server (CREATE or DROP DATABASE: no transaction)."""
    connection = await asyncpg.connect(server, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
