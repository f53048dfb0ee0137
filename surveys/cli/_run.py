"""What every command shares: one console, one way to fail, one way to reach the database.

Every expected failure (bad settings, an unreachable database, a malformed file, a port
in use) is a RapportError; `RapportGroup` turns it into one line on stderr and exit
status 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from surveys.infra.database import (
    configured_engine,
    describe,
    pending_migrations,
    prepare,
    use_engine,
)
from surveys.infra.errors import RapportError
from surveys.infra.mail import Mailer
from surveys.infra.settings import Settings, load_settings

T = TypeVar("T")
console = Console()


class RapportGroup(click.Group):
    """Turns Rapport's expected errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RapportError as error:
            raise click.ClickException(str(error)) from None


class SchemaOutdatedError(RapportError):
    """The database has not been migrated to the schema this code needs."""


def actor() -> str:
    """Who runs this command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def run(step: Callable[[], Awaitable[T]], needs_schema: bool = True) -> T:
    """Connect to the configured database, then run one async step to completion.

    Unless `needs_schema` is False (commands that migrate), a database without the
    current schema stops here with a message, not with "no such table" deep inside.
    """

    async def connected() -> T:
        engine = configured_engine(load_settings())
        use_engine(engine)
        await prepare(engine, create=not needs_schema)
        if needs_schema and (pending := await pending_migrations()):
            raise SchemaOutdatedError(
                f"the database ({describe(engine)}) lacks {pending} migration(s): "
                "run `rapport migrate` first"
            )
        return await step()

    return asyncio.run(connected())


def settings_and_now() -> tuple[Settings, dt.datetime]:
    """The settings and one timestamp, so a command's steps all agree on when they ran."""
    return load_settings(), dt.datetime.now(dt.UTC)


def announce_links(settings: Settings) -> None:
    """Say where the links in the e-mails about to go will point, and warn when that is the
    default address (RAPPORT_PUBLIC_URL unset), which people elsewhere cannot reach."""
    if settings.public_url_is_default:
        console.print(
            f"Links in these e-mails point at {settings.public_url}, the default address: set "
            "RAPPORT_PUBLIC_URL to the address people reach Rapport at.",
            style="yellow",
            highlight=False,
        )
    else:
        console.print(
            f"Links in these e-mails point at {settings.public_url} (RAPPORT_PUBLIC_URL).",
            highlight=False,
        )


def mailer_for(settings: Settings) -> Mailer:
    """One mailer from the settings, so `cycle`, `demo` and `scorecards --email` send alike."""
    return Mailer.from_settings(settings)
