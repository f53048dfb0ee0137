"""`rapport migrate` and `rapport settings`: set up the database, check the settings in force."""

from __future__ import annotations

from pathlib import Path

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


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(target: Path) -> None:
    """Write a backup of the database to TARGET, consistent while the server runs (SQLite's
    online backup, or pg_dump). Keep the secret key (RAPPORT_SECRET_KEY) with it."""
    from surveys.infra.backups import backup

    settings = load_settings()
    kind = backup(settings.database, target)
    size = target.stat().st_size
    console.print(
        f"Backed up {settings.database.display} to {target} ({kind}, {size:,} bytes).",
        highlight=False,
    )


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(source: Path) -> None:
    """Restore the backup SOURCE into the configured database, which must be empty; then
    `rapport migrate` brings it up to this version's schema."""
    from surveys.infra.backups import restore

    settings = load_settings()
    restore(settings.database, source)
    console.print(
        f"Restored {source} into {settings.database.display}. Run `rapport migrate` next "
        "(it applies what this version added since the backup, if anything), then start "
        "the server with the same RAPPORT_SECRET_KEY as before.",
        highlight=False,
    )
