"""What every benchmark reports: the machine, peak memory, and one table saved as JSON."""

from __future__ import annotations

import json
import os
import platform
import resource
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """The machine a figure comes from, as the README records it."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(title: str, figures: dict[str, object], name: str) -> None:
    """Print the figures as a table and keep them in benchmarks/results/<name>.json."""
    table = Table("measure", "value", title=title)
    for key, value in figures.items():
        table.add_row(key, str(value))
    Console().print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2))
