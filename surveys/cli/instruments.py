"""`rapport instruments`: the questionnaires, loaded from TOML files and listed."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table as RichTable

from surveys.cli._run import actor, console, run


@click.group()
def instruments() -> None:
    """Questionnaires: load the TOML files, list what is loaded."""


@instruments.command("load")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def instruments_load(files: tuple[Path, ...]) -> None:
    """Load instrument FILES (default: the bundled instruments); all or none.

    A loaded version is immutable: changing a file needs a new `version`.
    """
    # lazy: surveys.instruments pulls in pandas (start-up time)
    from surveys.instruments import bundled_instrument_paths, load_instruments, parse_instrument

    paths = list(files) or bundled_instrument_paths()
    for path in paths:  # a broken file is reported before any database is touched
        parse_instrument(path)
    outcomes = run(lambda: load_instruments(paths, actor=actor()))
    table = RichTable("instrument", "version", "file", "status")
    for outcome in outcomes:
        table.add_row(outcome.key, str(outcome.version), str(outcome.path), outcome.status)
    console.print(table)


@instruments.command("list")
def instruments_list() -> None:
    """List the loaded instruments with their item counts."""
    # lazy: surveys.instruments pulls in pandas (start-up time)
    from surveys.instruments.catalogue import loaded_instruments

    table = RichTable("instrument", "version", "direction", "scale", "Likert items", "languages")
    for instrument in run(loaded_instruments):
        table.add_row(
            instrument.key,
            str(instrument.version),
            instrument.direction,
            f"1–{instrument.scale_points}",
            str(instrument.likert_items),
            ", ".join(instrument.languages),
        )
    console.print(table)
