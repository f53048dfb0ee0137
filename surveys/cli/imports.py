"""`rapport import`: responses collected with other survey tools, brought into a cycle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from surveys.cli._run import actor, console, run


@click.group("import")
def import_group() -> None:
    """Responses collected with other tools (plain CSV or XLSX, Qualtrics, REDCap)."""


@import_group.command("responses")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cycle", "cycle_key", required=True, help="The cycle they belong to, e.g. 2027-Q1.")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx", "qualtrics", "redcap"]),
    default=None,
    help="How the file is laid out (default: xlsx for .xlsx files, else csv).",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML mapping the file's columns and codes to items and values (docs/imports.md).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Check the whole file and say what the import would do; write nothing.",
)
def import_responses_command(
    file: Path, cycle_key: str, file_format: str | None, mapping_path: Path | None, check: bool
) -> None:
    """Import the responses in FILE: the whole file is checked first; all of it or nothing.

    With --check, say what the import would do (the console's "Check the file")."""
    # lazy: surveys.responses pulls in pandas (start-up time)
    from surveys.responses.imports import format_for, import_responses, load_mapping

    chosen = file_format or format_for(file.name)
    mapping = load_mapping(mapping_path, chosen)
    now = dt.datetime.now(dt.UTC)
    summary = run(
        lambda: import_responses(file, cycle_key, chosen, mapping, now, actor(), check_only=check)
    )
    if check:
        console.print(
            f"Would import {summary.imported:,} responses into {cycle_key}; "
            f"{summary.unchanged:,} are already there unchanged. Nothing was written."
        )
    else:
        console.print(
            f"Imported {summary.imported:,} responses into {cycle_key}; {summary.unchanged:,} "
            "were already there unchanged."
        )
    if summary.left_out_by_kind:
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(summary.left_out_by_kind.items()))
        verb = "Would leave out" if check else "Left out"
        console.print(f"{verb} {summary.left_out:,} rows: {kinds}.")
    if summary.ignored:
        console.print(f"Columns left alone: {', '.join(summary.ignored)}.")
    for note in summary.notes:
        console.print(f"Note: {note}.")
