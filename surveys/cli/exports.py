"""`rapport export`: CSV files for administrators, hidden rows included."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli._run import console, run
from surveys.infra.settings import load_settings


@click.group()
def export() -> None:
    """Exports for administrators (CSV)."""


@export.command("responses")
@click.option("--cycle", "cycle_key", required=True, help="The cycle, e.g. 2027-Q1.")
@click.option(
    "--out", "out", type=click.Path(path_type=Path), default=None, help="File (default: stdout)."
)
def export_responses(cycle_key: str, out: Path | None) -> None:
    """Write a cycle's submitted answers as CSV, raters under pseudonyms.

    The file is in score-file's format (one instrument at a time: filter on `instrument`).
    """
    # lazy: surveys.responses pulls in pandas (start-up time)
    from surveys.infra.spreadsheets import write_csv
    from surveys.responses.exports import responses_table

    settings = load_settings()
    table = run(lambda: responses_table(cycle_key, settings.secret_key))
    if out is None:
        click.echo(table.to_csv(index=False), nl=False)
        return
    write_csv(table, out)
    click.echo(f"Wrote {len(table):,} answers to {out}.", err=True)


@export.command("scores")
@click.option("--cycle", "cycle_key", required=True, help="The cycle, e.g. 2026-Q3.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder.")
def export_scores(cycle_key: str, out: Path) -> None:
    """Write a cycle's latest score run: targets.csv, dimensions.csv and flags.csv.

    Pooled scores and each organisation's view, with whether the rated party may see each
    row (`shown`); for administrators, so hidden rows are included.
    """
    # lazy: surveys.responses and surveys.results pull in pandas (start-up time)
    from surveys.infra.spreadsheets import spreadsheet_safe, write_csv
    from surveys.results.score_exports import scores_tables

    tables = run(lambda: scores_tables(cycle_key))
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_csv(table.map(spreadsheet_safe), out / name)
    counts = ", ".join(f"{len(t):,} rows in {n}" for n, t in tables.items())
    console.print(f"Wrote {counts} to {out}.")
