"""`rapport programme`, `rapport worker` and `rapport jobs`: the schedule that runs the
cycles, the process that runs it, and what the background work is doing.

The commands call the same functions as the console's programme page, so a change made
here is checked and audited as one made there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal

import click
from rich.table import Table as RichTable

from surveys.cli._run import actor, console, run, settings_and_now
from surveys.directory.audit import Act

day = click.DateTime(["%Y-%m-%d"])


@click.group()
def programme() -> None:
    """The recurring schedule of cycles, which the worker (or `rapport serve`) runs."""


@programme.command("show")
def programme_show() -> None:
    """The programme's rules and its timeline: each planned cycle, its dates and how far it got."""
    from surveys.programme import planned_cycles, the_programme

    async def read() -> None:
        found = await the_programme()
        if found is None:
            console.print("No programme is set up: `rapport programme set --help` says how.")
            return
        rules = found.rules
        state = "paused" if found.paused else "running"
        publishing = (
            "when the window ends" if rules.publish_when_window_ends else "by an administrator"
        )
        console.print(
            f"Programme ({state}): {rules.cadence.value} from {rules.first_opens_on}, open "
            f"{rules.open_days} days, reminders {list(rules.reminder_days)} days before "
            f"closing (at most {rules.most_reminders}), review window {rules.review_days} days"
            f" (reviewers reminded {rules.review_reminder_days} days before it ends), "
            f"published {publishing}.",
            highlight=False,
        )
        table = RichTable("cycle", "opens", "closes", "review ends", "status", "note")
        for planned in await planned_cycles():
            note = "skipped" if planned.done.skipped else ("moved by hand" if planned.moved else "")
            table.add_row(
                planned.key,
                f"{planned.dates.opens_at:%Y-%m-%d}",
                f"{planned.dates.closes_at:%Y-%m-%d}",
                f"{planned.dates.review_ends_at:%Y-%m-%d}",
                planned.done.status or "planned",
                note,
            )
        console.print(table)

    run(read)


@programme.command("set")
@click.option(
    "--cadence",
    type=click.Choice(["quarterly", "half-yearly", "yearly", "dates"]),
    required=True,
    help="How often a cycle runs; `dates` takes the opening days from --date.",
)
@click.option("--first-opens", type=day, help="The first cycle's opening day (regular cadences).")
@click.option("--date", "dates", type=day, multiple=True, help="An opening day (cadence dates).")
@click.option(
    "--open-days", type=int, default=28, show_default=True, help="Days answers are taken."
)
@click.option(
    "--reminder-days",
    default="14,7,2",
    show_default=True,
    help="Days before closing a reminder round goes out, comma-separated.",
)
@click.option("--most-reminders", type=int, default=3, show_default=True)
@click.option("--review-days", type=int, default=14, show_default=True, help="Tier-review window.")
@click.option("--review-reminder-days", type=int, default=3, show_default=True)
@click.option(
    "--publish-when-window-ends/--publish-by-hand",
    default=False,
    help="Publish each cycle when its review window ends (default: an administrator does).",
)
@click.option(
    "--instrument",
    "instruments",
    multiple=True,
    metavar="KEY@VERSION",
    help="Pin an instrument version for its direction (default: the newest at each opening).",
)
def programme_set(
    cadence: str,
    first_opens: dt.datetime | None,
    dates: tuple[dt.datetime, ...],
    open_days: int,
    reminder_days: str,
    most_reminders: int,
    review_days: int,
    review_reminder_days: int,
    publish_when_window_ends: bool,
    instruments: tuple[str, ...],
) -> None:
    """Set up the programme, or change its rules (cycles under way keep their dates)."""
    from surveys.instruments import Direction
    from surveys.instruments.catalogue import instrument_version
    from surveys.programme import Cadence, Rules, set_programme

    try:
        reminders = tuple(int(d) for d in reminder_days.split(",") if d.strip())
    except ValueError:
        raise click.BadParameter(
            f"{reminder_days!r} is not a list of whole days such as 14,7,2",
            param_hint="--reminder-days",
        ) from None
    listed = tuple(d.date() for d in dates)
    if cadence != "dates" and first_opens is None:
        raise click.UsageError("give --first-opens, the first cycle's opening day")
    if cadence == "dates" and first_opens is None and listed:
        first_opens = min(dates)
    rules = Rules(
        Cadence(cadence),
        (first_opens or dt.datetime.now(dt.UTC)).date(),
        open_days=open_days,
        review_days=review_days,
        listed=listed,
        reminder_days=reminders,
        most_reminders=most_reminders,
        review_reminder_days=review_reminder_days,
        publish_when_window_ends=publish_when_window_ends,
    )
    _, now = settings_and_now()

    async def change() -> int:
        pinned = {}
        for named in instruments:
            found = await instrument_version(named)
            pinned[found.direction] = found.id
        plan = await set_programme(
            rules,
            Act(actor(), now),
            pinned.get(Direction.site_rates_sponsor),
            pinned.get(Direction.sponsor_rates_site),
        )
        return len(plan)

    planned = run(change)
    console.print(
        f"Programme set: {planned} cycle(s) planned. `rapport programme show` lists them."
    )


@programme.command("move")
@click.argument("key")
@click.option("--opens", type=day, help="New opening day.")
@click.option("--closes", type=day, help="New closing day (the review window moves with it).")
@click.option("--review-ends", type=day, help="New last day of the tier-review window.")
def programme_move(
    key: str,
    opens: dt.datetime | None,
    closes: dt.datetime | None,
    review_ends: dt.datetime | None,
) -> None:
    """Move a planned cycle's dates."""
    from surveys.programme import move_cycle

    if not (opens or closes or review_ends):
        raise click.UsageError("give --opens, --closes or --review-ends")
    _, now = settings_and_now()
    moved = run(
        lambda: move_cycle(
            key,
            Act(actor(), now),
            opens.date() if opens else None,
            closes.date() if closes else None,
            review_ends.date() if review_ends else None,
        )
    )
    console.print(
        f"{key}: opens {moved.dates.opens_at:%Y-%m-%d}, closes {moved.dates.closes_at:%Y-%m-%d},"
        f" review ends {moved.dates.review_ends_at:%Y-%m-%d}.",
        highlight=False,
    )


@programme.command("skip")
@click.argument("key")
@click.option("--undo", is_flag=True, help="Take the cycle back into the plan.")
def programme_skip(key: str, undo: bool) -> None:
    """Skip a planned cycle that has not opened (or, with --undo, plan it again)."""
    from surveys.programme import skip_cycle

    _, now = settings_and_now()
    run(lambda: skip_cycle(key, not undo, Act(actor(), now)))
    console.print(f"{key} {'is planned again' if undo else 'is skipped'}.")


@programme.command("pause")
@click.option("--resume", is_flag=True, help="Resume the programme instead.")
def programme_pause(resume: bool) -> None:
    """Pause the programme: nothing is opened, sent, closed or published until it resumes."""
    from surveys.programme import pause_programme

    _, now = settings_and_now()
    run(lambda: pause_programme(not resume, Act(actor(), now)))
    console.print("The programme runs again." if resume else "The programme is paused.")


@programme.command("tick")
def programme_tick() -> None:
    """Do once what is due now (what the worker does every minute), and say what was done."""
    from surveys.programme import Tools, tick

    settings, now = settings_and_now()
    runs = run(lambda: tick(now, Tools.from_settings(settings)))
    if not runs:
        console.print("Nothing is due.")
    for done in runs:
        if done.job is None:
            console.print(f"{done.key}: {done.step.value} queued for a worker", highlight=False)
            continue
        failed = f": {'; '.join(done.job.failures)}" if done.job.failures else ""
        console.print(f"{done.key}: {done.step.value} {done.job.state}{failed}", highlight=False)


@click.command()
@click.option(
    "--every",
    type=float,
    default=60,
    show_default=True,
    help="SQLite: seconds between two ticks of the programme.",
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(["programme", "scoring", "mail", "pdf"]),
    help="PostgreSQL: work only these queues (default: all), e.g. a machine for PDFs only.",
)
def worker(every: float, queues: tuple[str, ...]) -> None:
    """Run the programme and every batch until stopped (Ctrl-C or SIGTERM).

    On PostgreSQL, a worker takes jobs from the queue: the programme's tick (once a minute
    across every worker), its steps, a scorecard batch one scorecard at a time, the mail.
    Start as many as the machines allow: each job is done once. On SQLite, `rapport serve`
    runs the programme itself; a worker there ticks it every --every seconds.
    """
    settings, _ = settings_and_now()

    async def loop() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        if settings.database.kind == "postgres":
            from surveys.worker import CONCURRENCY, run_workers

            logging.basicConfig(  # systemd's journal keeps what each job did and why it failed
                level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
            )
            logging.getLogger("weasyprint").setLevel(logging.ERROR)  # its steps, per page
            chosen = list(queues or CONCURRENCY)
            console.print(f"Worker running on queues {', '.join(chosen)}. Stop it with Ctrl-C.")
            await run_workers(settings, chosen, stop)
            return
        from surveys.programme import Tools, tick_forever

        console.print(f"Worker running: a tick every {every:g} s. Stop it with Ctrl-C.")
        await tick_forever(Tools.from_settings(settings), stop, every, role="worker")

    run(loop)


@click.command("jobs")
@click.option("--cycle", "subject", help="Only the jobs on this cycle.")
@click.option("--limit", type=int, default=20, show_default=True)
def jobs(subject: str | None, limit: int) -> None:
    """The newest background jobs: what, on which cycle, how far, and what failed."""
    from surveys.jobs import latest_jobs

    table = RichTable("id", "job", "cycle", "state", "done", "started", "by", "failures")
    for job in run(lambda: latest_jobs(subject, limit)):
        done = f"{job.done}/{job.total}" if job.total else str(job.done or "")
        table.add_row(
            str(job.id),
            job.kind,
            job.subject,
            job.state,
            done,
            f"{job.started_at:%Y-%m-%d %H:%M}",
            job.started_by,
            "\n".join(job.failures[:3]) + (" …" if len(job.failures) > 3 else ""),
        )
    console.print(table)
