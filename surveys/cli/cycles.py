"""`rapport cycle`: a survey cycle's life, from draft through invitations to closing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click
from rich.table import Table as RichTable

from surveys.cli._run import actor, console, mailer_for, run, settings_and_now

if TYPE_CHECKING:
    from surveys.cycles.life_cycle import SendReport


@click.group()
def cycle() -> None:
    """Survey cycles: create, open (invite everyone), close, and see how far people got."""


@cycle.command("create")
@click.argument("key")
@click.option(
    "--closes",
    "closes",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day answers are taken (the survey closes at the end of it, UTC).",
)
@click.option("--title", default="", help="Shown to respondents; defaults to the key.")
def cycle_create(key: str, closes: dt.datetime, title: str) -> None:
    """Create a draft cycle KEY (e.g. 2027-Q1) with the newest loaded instruments."""
    from surveys.cycles.life_cycle import create_cycle  # lazy: pulls in pandas (start-up time)

    _, now = settings_and_now()
    closes_at = closes.replace(tzinfo=dt.UTC) + dt.timedelta(days=1) - dt.timedelta(seconds=1)
    run(lambda: create_cycle(key, title, closes_at, now, actor()))
    console.print(
        f"Created cycle {key} (draft), closing {closes_at:%Y-%m-%d}. "
        f"Open it with `rapport cycle open {key}`."
    )


def _report_mail(what: str, report: SendReport) -> None:
    """Print what a round of e-mails did; stop with status 1 if any could not be delivered."""
    console.print(f"{report.sent:,} {what} delivered to {report.to}.")
    if report.skipped:
        console.print(
            f"{report.skipped:,} invitations have links that were issued once and "
            "cannot be sent again."
        )
    if report.failed:
        shown = "\n  ".join(report.failed[:5])
        more = f"\n  … and {len(report.failed) - 5} more" if len(report.failed) > 5 else ""
        raise click.ClickException(
            f"{len(report.failed)} e-mail(s) could not be delivered; they will go with the "
            f"next `rapport cycle send` or `remind`:\n  {shown}{more}"
        )


@cycle.command("open")
@click.argument("key")
def cycle_open(key: str) -> None:
    """Open cycle KEY: invite both sides of every active relationship and e-mail each one."""
    from surveys.cycles.life_cycle import open_cycle  # lazy: pulls in pandas (start-up time)

    settings, now = settings_and_now()
    mailer = mailer_for(settings)
    with console.status("opening") as status:
        summary = run(lambda: open_cycle(key, now, mailer, actor(), lambda s: status.update(s)))
    invited = ", ".join(f"{n:,} {d.replace('_', ' ')}" for d, n in sorted(summary.invited.items()))
    console.print(f"Opened {key}: {invited} invitations.")
    _report_mail("invitation e-mails", summary.mail)


@cycle.command("send")
@click.argument("key")
def cycle_send(key: str) -> None:
    """E-mail the invitations of KEY not sent yet (after a mail server failed, say)."""
    # lazy: surveys.cycles pulls in pandas (start-up time)
    from surveys.cycles.life_cycle import send_invitations

    settings, now = settings_and_now()
    mailer = mailer_for(settings)
    _report_mail("invitation e-mails", run(lambda: send_invitations(key, now, mailer)))


@cycle.command("remind")
@click.argument("key")
def cycle_remind(key: str) -> None:
    """Remind who has not submitted in KEY.

    At most RAPPORT_REMINDERS times each, RAPPORT_REMINDER_DAYS apart at least.
    """
    from surveys.cycles.life_cycle import send_reminders  # lazy: pulls in pandas (start-up time)

    settings, now = settings_and_now()
    mailer = mailer_for(settings)
    report = run(
        lambda: send_reminders(key, now, mailer, settings.reminders, settings.reminder_days)
    )
    _report_mail("reminders", report)


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


@cycle.command("status")
@click.argument("key")
def cycle_status(key: str) -> None:
    """Show who was invited, opened, started and submitted, per organisation and direction."""
    # lazy: surveys.cycles pulls in pandas (start-up time)
    from surveys.cycles.life_cycle import STAGES, cycle_report

    cycle_row, report = run(lambda: cycle_report(key))
    table = RichTable(
        "organisation",
        "direction",
        *STAGES,
        "response rate",
        title=f"{key} · {cycle_row.status}",
    )
    for row in report.itertuples():
        counts = (f"{getattr(row, stage):,}" for stage in STAGES)
        direction = row.direction.replace("_", " ")
        table.add_row(row.organisation, direction, *counts, f"{row.response_rate:.0%}")
    totals = report[list(STAGES)].sum()
    if len(report):
        table.add_row(
            "all",
            "",
            *(f"{totals[s]:,}" for s in STAGES),
            f"{totals['submitted'] / totals['invited']:.0%}",
            style="bold",
        )
    console.print(table)
