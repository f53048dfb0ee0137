"""`rapport instruments`: the questionnaires, loaded from TOML files and listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    from surveys.instruments import Instrument, Item  # lazy: pulls in pandas (start-up time)

    async def rows() -> list[dict[str, Any]]:
        listed = (
            await Instrument.select(
                Instrument.id,
                Instrument.key,
                Instrument.version,
                Instrument.direction,
                Instrument.scale_points,
                Instrument.languages,
            )
            .output(load_json=True)
            .order_by(Instrument.key)
            .order_by(Instrument.version)
        )
        for row in listed:
            row["items"] = await Item.count().where(
                (Item.instrument == row["id"]) & (Item.kind == "likert")
            )
        return listed

    table = RichTable("instrument", "version", "direction", "scale", "Likert items", "languages")
    for row in run(rows):
        table.add_row(
            row["key"],
            str(row["version"]),
            row["direction"],
            f"1–{row['scale_points']}",
            str(row["items"]),
            ", ".join(row["languages"]),
        )
    console.print(table)
