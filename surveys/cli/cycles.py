"""`rapport cycle`: a survey cycle's life, from draft through invitations to closing.

Every command that e-mails says first where the e-mails' links point (`announce_links`),
and after sending, how many e-mails went and what was held back and why.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click
from rich.table import Table as RichTable

from surveys.cli._run import actor, announce_links, console, mailer_for, run, settings_and_now

if TYPE_CHECKING:
    from surveys.cycles.letters import SendReport

closes_option = click.option(
    "--closes",
    "closes",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day answers are taken (the survey closes at the end of it, UTC).",
)


def end_of(day: dt.datetime) -> dt.datetime:
    """The last second of `day`, UTC: a survey closes at the end of its last day."""
    return day.replace(tzinfo=dt.UTC) + dt.timedelta(days=1) - dt.timedelta(seconds=1)


@click.group()
def cycle() -> None:
    """Survey cycles: create, open (invite everyone), close, and see how far people got."""


@cycle.command("create")
@click.argument("key")
@closes_option
@click.option("--title", default="", help="Shown to respondents; defaults to the key.")
@click.option(
    "--instrument",
    "instruments",
    multiple=True,
    metavar="KEY@VERSION",
    help="A loaded instrument version to use for its direction (default: the newest).",
)
def cycle_create(key: str, closes: dt.datetime, title: str, instruments: tuple[str, ...]) -> None:
    """Create a draft cycle KEY (e.g. 2027-Q1) with the newest loaded instruments, or
    those named."""
    # lazy: pulls in pandas (start-up time)
    from surveys.cycles.life_cycle import create_cycle
    from surveys.instruments.catalogue import instrument_version

    _, now = settings_and_now()
    closes_at = end_of(closes)

    async def create() -> int:
        chosen = {}
        for named in instruments:
            found = await instrument_version(named)
            chosen[found.direction] = found.id
        return await create_cycle(key, title, closes_at, now, actor(), chosen)

    run(create)
    console.print(
        f"Created cycle {key} (draft), closing {closes_at:%Y-%m-%d}. "
        f"Open it with `rapport cycle open {key}`."
    )


def _report_mail(report: SendReport) -> None:
    """Print what a round of e-mails did; stop with status 1 if any could not be delivered."""
    console.print(f"{report.summary()}.", highlight=False)
    console.print(f"E-mails went to {report.to}.", highlight=False)
    if report.failed:
        shown = "\n  ".join(report.failed[:5])
        more = f"\n  … and {len(report.failed) - 5} more" if len(report.failed) > 5 else ""
        raise click.ClickException(
            f"{len(report.failed)} e-mail(s) could not be delivered; those the server was "
            "busy for go with the next `rapport cycle send` or `remind`, refused addresses "
            f"wait until they are corrected in the directory:\n  {shown}{more}"
        )


@cycle.command("open")
@click.argument("key")
def cycle_open(key: str) -> None:
    """Open cycle KEY: invite both sides of every active relationship, one e-mail per person."""
    from surveys.cycles.life_cycle import open_cycle  # lazy: pulls in pandas (start-up time)

    settings, now = settings_and_now()
    mailer = mailer_for(settings)
    announce_links(settings)
    with console.status("opening") as status:
        summary = run(lambda: open_cycle(key, now, mailer, actor(), lambda s: status.update(s)))
    invited = ", ".join(f"{n:,} {d.replace('_', ' ')}" for d, n in sorted(summary.invited.items()))
    console.print(f"Opened {key}: {invited} invitations, to {summary.people:,} people.")
    _report_mail(summary.mail)


@cycle.command("send")
@click.argument("key")
def cycle_send(key: str) -> None:
    """E-mail the invitations of KEY not sent yet (after a mail server failed, say)."""
    # lazy: surveys.cycles pulls in pandas (start-up time)
    from surveys.cycles.letters import send_invitations

    settings, now = settings_and_now()
    mailer = mailer_for(settings)
    announce_links(settings)
    _report_mail(run(lambda: send_invitations(key, now, mailer)))


@cycle.command("remind")
@click.argument("key")
@click.option("--dry-run", is_flag=True, help="List who would get a reminder; send nothing.")
def cycle_remind(key: str, dry_run: bool) -> None:
    """Remind who has not submitted in KEY, one e-mail per person.

    At most RAPPORT_REMINDERS times each, RAPPORT_REMINDER_DAYS apart at least.
    """
    from surveys.cycles.letters import reminder_preview, send_reminders

    settings, now = settings_and_now()
    mailer = mailer_for(settings)
    if dry_run:
        preview = run(
            lambda: reminder_preview(key, now, mailer, settings.reminders, settings.reminder_days)
        )
        for name, email, organisation, partners in preview.people:
            console.print(
                f"{name} <{email}>, {organisation}: {', '.join(partners)}", highlight=False
            )
        held = "; ".join(
            f"{n:,} {preview.report.reason(r)}" for r, n in preview.report.held.items()
        )
        console.print(
            f"{len(preview.people):,} people would be reminded now"
            + (f"; held back: {held}" if held else "")
            + ". Dry run: nothing was sent.",
            highlight=False,
        )
        return
    announce_links(settings)
    report = run(
        lambda: send_reminders(key, now, mailer, settings.reminders, settings.reminder_days)
    )
    _report_mail(report)


@cycle.command("close")
@click.argument("key")
def cycle_close(key: str) -> None:
    """Close cycle KEY: its links stop taking answers; it can then be scored."""
    from surveys.cycles.life_cycle import close_cycle  # lazy: pulls in pandas (start-up time)

    _, now = settings_and_now()
    submitted = run(lambda: close_cycle(key, now, actor()))
    console.print(
        f"Closed {key} with {submitted:,} submitted responses. "
        f"Score it with `rapport score --cycle {key}`."
    )


@cycle.command("reopen")
@click.argument("key")
@closes_option
def cycle_reopen(key: str, closes: dt.datetime) -> None:
    """Reopen closed cycle KEY until a new date (only before it is scored)."""
    from surveys.cycles.life_cycle import reopen_cycle  # lazy: pulls in pandas (start-up time)

    _, now = settings_and_now()
    closes_at = end_of(closes)
    unanswered = run(lambda: reopen_cycle(key, closes_at, actor(), now))
    console.print(
        f"Reopened {key} until {closes_at:%Y-%m-%d}: {unanswered:,} unanswered invitation(s) "
        f"take answers again. Remind them with `rapport cycle remind {key}`."
    )


@cycle.command("status")
@click.argument("key")
@click.option(
    "--by",
    type=click.Choice(["organisation", "direction", "country", "role"]),  # GROUPINGS
    default="organisation",
    show_default=True,
    help="Group the raters by their organisation, direction, country or role.",
)
def cycle_status(key: str, by: str) -> None:
    """Show who was invited, opened, started and submitted, and whose address was refused,
    furthest behind first."""
    from surveys.cycles.progress import GROUPINGS
    from surveys.cycles.progress import cycle_status as status_of

    grouping = next(g for g in GROUPINGS if g == by)  # the Choice allows these only
    report = run(lambda: status_of(key, grouping))
    stages = ("invited", "people", "opened", "in progress", "submitted", "undeliverable")
    table = RichTable(
        by,
        *(["direction"] if by == "organisation" else []),
        *stages,
        "response rate",
        title=f"{key} · {report.cycle.status}",
    )
    for row in (*report.rows, report.total):
        counts = (
            row.invited,
            row.people,
            row.opened,
            row.in_progress,
            row.submitted,
            row.undeliverable,
        )
        table.add_row(
            row.label,
            *([(row.direction or "").replace("_", " ")] if by == "organisation" else []),
            *(f"{n:,}" for n in counts),
            f"{row.response_rate:.0%}",
            style="bold" if row is report.total else None,
        )
    console.print(table)
