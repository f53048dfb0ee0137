"""`rapport organisations`: the directory of sponsors, CROs, sites and networks."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli._run import actor, console, run


@click.group()
def organisations() -> None:
    """Sponsors, CROs, sites and networks."""


@organisations.command("import")
@click.argument("file", type=click.Path(path_type=Path))
def organisations_import(file: Path) -> None:
    """Create or update organisations from a CSV FILE; all lines or none.

    Header: slug,name,kind,country,network,acts_for,therapeutic_areas. kind is sponsor, cro,
    site or network; network and acts_for give another organisation's slug; areas are
    separated by semicolons.
    """
    # lazy: defining its Piccolo tables would add ~10 ms to every command's start-up
    from surveys.directory.organisation_import import import_organisations

    created, updated = run(lambda: import_organisations(file, actor=actor()))
    console.print(f"{file}: {created} organisation(s) created, {updated} updated.")
