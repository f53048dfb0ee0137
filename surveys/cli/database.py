"""`rapport migrate` and `rapport settings`: set up the database, check the settings in force."""

from __future__ import annotations

import click
from rich.table import Table as RichTable

from surveys.cli._run import console, run
from surveys.infra.database import apply_migrations
from surveys.infra.settings import in_force, load_settings


@click.command()
def migrate() -> None:
    """Create or update the database schema (applies pending migrations); on PostgreSQL
    also the job queue's tables, which `rapport worker` needs."""
    settings = load_settings()
    applied = run(apply_migrations, needs_schema=False)
    console.print(
        f"Database is up to date ({settings.database.display}); "
        f"{len(applied)} migration(s) applied in all."
    )
    if settings.database.kind == "postgres":
        from surveys.worker import queue_schema_applied  # lazy: the queue's driver

        if run(lambda: queue_schema_applied(settings), needs_schema=False):
            console.print("The job queue's tables were created.")


@click.command("settings")
def show_settings() -> None:
    """List every setting: environment variable, value in force, default, meaning."""
    settings = load_settings()  # fail early and clearly on a bad value
    table = RichTable("variable", "in force", "default", "meaning", title="Rapport settings")
    for setting, value in in_force(settings):
        table.add_row(setting.env, value, setting.default, setting.meaning)
    console.print(table)
