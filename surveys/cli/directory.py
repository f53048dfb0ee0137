"""`rapport directory`: the directory of organisations, people and relationships."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from surveys.cli._run import actor, console, run


@click.group()
def directory() -> None:
    """Organisations, people and the relationships they rate."""


@directory.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx"]),
    default=None,
    help="How the file is stored (default: xlsx for .xlsx files, else csv).",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML mapping the export's columns and codes to Rapport's (docs/directory-import.md).",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option(
    "--sync",
    is_flag=True,
    help="Also deactivate stored organisations, people and relationships the file omits.",
)
def directory_import(
    file: Path, file_format: str | None, mapping_path: Path | None, dry_run: bool, sync: bool
) -> None:
    """Import a directory from a CTMS or CRM export FILE (CSV or XLSX): all of it or nothing.

    The whole file is checked first; every problem is listed as FILE:LINE: column COL:
    reason, and nothing is written. Importing the same file again changes nothing.
    """
    # lazy: the import's modules (and openpyxl) are not needed by other commands
    from surveys.directory.audit import Act
    from surveys.directory.directory_import import (
        DirectoryFileError,
        apply_directory,
        directory_mapping,
        plan_directory,
        read_directory,
    )
    from surveys.infra.errors import RapportError

    try:
        mapping = directory_mapping(mapping_path)
        found = read_directory(file, str(file), file_format, mapping)
        if dry_run:
            changes = run(lambda: plan_directory(found, sync))
        else:
            act = Act(actor(), dt.datetime.now(dt.UTC))
            changes = run(lambda: apply_directory(found, sync, act))
    except DirectoryFileError as error:
        for problem in error.problems:
            click.echo(problem.where(error.filename), err=True)
        count = len(error.problems)
        raise RapportError(
            f"{error.filename}: {count} problem{'s' if count > 1 else ''}; nothing imported"
        ) from None
    for line in changes.lines():
        console.print(line, highlight=False, markup=False)
    if dry_run:
        console.print("Dry run: nothing was written.")
    elif changes.changes_nothing:
        console.print("The directory already matched the file: nothing changed.")
