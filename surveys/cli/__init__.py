"""The `rapport` command: migrate, load instruments, import organisations, build the demo, serve.

Every expected failure (bad settings, an unreachable database, a malformed file, a port
in use) ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import getpass
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table as RichTable

from surveys.infra.database import apply_migrations, describe
from surveys.infra.errors import RapportError
from surveys.infra.settings import SETTINGS, load_settings

T = TypeVar("T")
console = Console()


class RapportGroup(click.Group):
    """Turns Rapport's expected errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RapportError as error:
            raise click.ClickException(str(error)) from None


class PortInUseError(RapportError):
    """The web server's port is taken."""


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
        from surveys.infra.database import (
            configured_engine,
            pending_migrations,
            prepare,
            use_engine,
        )

        engine = configured_engine(load_settings())
        use_engine(engine)
        await prepare(engine)
        if needs_schema and (pending := await pending_migrations()):
            raise SchemaOutdatedError(
                f"the database ({describe(engine)}) lacks {pending} migration(s): "
                "run `rapport migrate` first"
            )
        return await step()

    return asyncio.run(connected())


@click.group(cls=RapportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rapport")
def main() -> None:
    """Rapport: two-way relationship-health surveys between clinical-trial sponsors/CROs and sites.

    Settings come from environment variables; `rapport settings` lists them.
    """


@main.command()
def migrate() -> None:
    """Create or update the database schema (applies pending migrations)."""
    settings = load_settings()
    applied = run(apply_migrations, needs_schema=False)
    console.print(
        f"Database is up to date ({settings.database.display}); "
        f"{len(applied)} migration(s) applied in all."
    )


@main.command("settings")
def show_settings() -> None:
    """List every setting: environment variable, value in force, default, meaning."""
    settings = load_settings()  # fail early and clearly on a bad value
    import os

    in_force = {
        "DATABASE_URL": settings.database.display,
        "RAPPORT_HOST": settings.host,
        "RAPPORT_PORT": str(settings.port),
        "RAPPORT_PUBLIC_URL": settings.public_url,
        "RAPPORT_SECRET_KEY": "(set)" if os.environ.get("RAPPORT_SECRET_KEY") else "(generated)",
        "RAPPORT_VAR_DIR": str(settings.var_dir),
        "RAPPORT_DB_TIMEOUT": str(settings.db_timeout),
        "RAPPORT_DB_POOL_SIZE": str(settings.db_pool_size),
        "RAPPORT_MAIL_FROM": settings.mail_from,
        "RAPPORT_SMTP_URL": settings.smtp.display if settings.smtp else "(outbox folder)",
        "RAPPORT_REMINDERS": str(settings.reminders),
        "RAPPORT_REMINDER_DAYS": str(settings.reminder_days),
        "RAPPORT_LINK_RATE": str(settings.link_rate),
        "RAPPORT_WORKERS": str(settings.workers),
    }
    table = RichTable("variable", "in force", "default", "meaning", title="Rapport settings")
    for setting in SETTINGS:
        table.add_row(setting.env, in_force[setting.env], setting.default, setting.meaning)
    console.print(table)


@main.group()
def instruments() -> None:
    """Questionnaires: load the TOML files, list what is loaded."""


@instruments.command("load")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def instruments_load(files: tuple[Path, ...]) -> None:
    """Load instrument FILES (default: the bundled instruments); all or none.

    A loaded version is immutable: changing a file needs a new `version`.
    """
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
    from surveys.instruments import Instrument, Item

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


@main.group()
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
    from surveys.directory.organisation_import import import_organisations

    created, updated = run(lambda: import_organisations(file, actor=actor()))
    console.print(f"{file}: {created} organisation(s) created, {updated} updated.")


def world_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The sizes of a synthetic world, shared by `demo` and `world build`."""
    for option in reversed(
        [
            click.option("--seed", default=7, show_default=True, help="Same seed, same world."),
            click.option("--sites", default=40, show_default=True, help="Investigator sites."),
            click.option(
                "--cycles", default=6, show_default=True, help="Past quarterly cycles answered."
            ),
            click.option(
                "--raters", default=3, show_default=True, help="Staff per site who answer."
            ),
        ]
    ):
        command = option(command)
    return command


def build(seed: int, sites: int, cycles: int, raters: int) -> Any:
    """Migrate, then build (or reuse) the synthetic world, showing each step."""
    from surveys.world import WorldParameters, build_world

    try:
        parameters = WorldParameters(seed=seed, sites=sites, cycles=cycles, raters=raters)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None

    async def step() -> Any:
        await apply_migrations()
        with console.status("building the world") as status:
            return await build_world(parameters, actor=actor(), progress=lambda s: status.update(s))

    summary = run(step, needs_schema=False)
    verb = "Reusing the world already built" if summary.reused else "Built a new world"
    console.print(
        f"{verb}: {summary.organisations} organisations, {summary.persons} persons, "
        f"{summary.relationships} relationships, {summary.cycles} cycles, "
        f"{summary.responses} responses, {summary.answers} answers."
    )
    return summary


@main.command()
@world_options
@click.option(
    "--serve/--no-serve", default=True, show_default=True, help="Start the web server afterwards."
)
def demo(seed: int, sites: int, cycles: int, raters: int, serve: bool) -> None:
    """Build the demo world (once; later runs reuse it), print links, and serve it."""
    settings = load_settings()
    if serve:
        ensure_port_free(settings.host, settings.port)
    build(seed, sites, cycles, raters)
    from scoring.config import ScoringConfig
    from surveys.results.cycle_scoring import score_closed_cycles
    from surveys.results.score_file import code_version
    from surveys.world import sample_links

    with console.status("scoring closed cycles") as status:
        scored = run(
            lambda: score_closed_cycles(
                ScoringConfig(), code_version(), "demo", lambda s: status.update(s)
            )
        )
    if scored:
        console.print(
            f"Scored {len(scored)} closed cycle(s) ({scored[0].cycle}…{scored[-1].cycle}): "
            f"{sum(s.tiers.computed for s in scored)} tier assignments, "
            f"{sum(s.flags for s in scored)} escalation flags."
        )
        from surveys.results.tier_review import publish_all_but_latest

        published = run(lambda: publish_all_but_latest("demo", dt.datetime.now(dt.UTC)))
        if published:
            console.print(
                f"Published {', '.join(published)}; {scored[-1].cycle} waits for its tier review."
            )

    now = dt.datetime.now(dt.UTC)
    links = run(lambda: sample_links(settings.public_url, now, settings.secret_key))
    console.print(
        f"\n[bold]Rapport is at {settings.public_url}/[/bold]"
        f"  (health: {settings.public_url}/healthz)"
    )
    if links:
        from surveys.cycles.life_cycle import send_letters

        console.print("Sample survey links (each run issues fresh ones):")
        for link in links:
            console.print(
                f"  {link['url']}\n"
                f"    {link['respondent']} ({link['language']}) rates {link['target']}"
            )
        mailer = _mailer(settings)
        report = run(lambda: send_letters([link["invitation"] for link in links], now, mailer))
        console.print(f"Their invitation e-mails ({report.sent}) are in {report.to}/.")
    from surveys.world.logins import DEMO_PASSWORD, demo_logins

    logins = run(lambda: demo_logins(now))
    if logins:
        console.print(
            f"\nDemo logins at {settings.public_url}/sign-in (password: {DEMO_PASSWORD}):"
        )
        for login in logins:
            console.print(f"  {login.who}: {login.email}\n    sees {login.sees}")
    if serve:
        serve_app(settings.host, settings.port, settings.workers)


@main.group()
def world() -> None:
    """The synthetic world with known truth (for demos, tests and benchmarks)."""


@world.command("build")
@world_options
def world_build(seed: int, sites: int, cycles: int, raters: int) -> None:
    """Build a synthetic world into the configured database (or reuse the one there)."""
    build(seed, sites, cycles, raters)


@main.group()
def cycle() -> None:
    """Survey cycles: create, open (invite everyone), close, and see how far people got."""


def _settings_and_now() -> tuple[Any, dt.datetime]:
    return load_settings(), dt.datetime.now(dt.UTC)


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
    from surveys.cycles.life_cycle import create_cycle

    _, now = _settings_and_now()
    closes_at = closes.replace(tzinfo=dt.UTC) + dt.timedelta(days=1) - dt.timedelta(seconds=1)
    run(lambda: create_cycle(key, title, closes_at, now, actor()))
    console.print(f"Created cycle {key} (draft), closing {closes_at:%Y-%m-%d}. "
                  f"Open it with `rapport cycle open {key}`.")  # fmt: skip


def _mailer(settings: Any) -> Any:
    from surveys.cycles.life_cycle import Mailer

    return Mailer.from_settings(settings)


def _report_mail(what: str, report: Any) -> None:
    """Print what a round of e-mails did; stop with status 1 if any could not be delivered."""
    console.print(f"{report.sent:,} {what} delivered to {report.to}.")
    if report.skipped:
        console.print(f"{report.skipped:,} invitations have links that were issued once and "
                      "cannot be sent again.")  # fmt: skip
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
    from surveys.cycles.life_cycle import open_cycle

    settings, now = _settings_and_now()
    mailer = _mailer(settings)
    with console.status("opening") as status:
        summary = run(lambda: open_cycle(key, now, mailer, actor(), lambda s: status.update(s)))
    invited = ", ".join(f"{n:,} {d.replace('_', ' ')}" for d, n in sorted(summary.invited.items()))
    console.print(f"Opened {key}: {invited} invitations.")
    _report_mail("invitation e-mails", summary.mail)


@cycle.command("send")
@click.argument("key")
def cycle_send(key: str) -> None:
    """E-mail the invitations of KEY not sent yet (after a mail server failed, say)."""
    from surveys.cycles.life_cycle import send_invitations

    settings, now = _settings_and_now()
    mailer = _mailer(settings)
    _report_mail("invitation e-mails", run(lambda: send_invitations(key, now, mailer)))


@cycle.command("remind")
@click.argument("key")
def cycle_remind(key: str) -> None:
    """Remind who has not submitted in KEY.

    At most RAPPORT_REMINDERS times each, RAPPORT_REMINDER_DAYS apart at least.
    """
    from surveys.cycles.life_cycle import send_reminders

    settings, now = _settings_and_now()
    mailer = _mailer(settings)
    report = run(
        lambda: send_reminders(key, now, mailer, settings.reminders, settings.reminder_days)
    )
    _report_mail("reminders", report)


@cycle.command("close")
@click.argument("key")
def cycle_close(key: str) -> None:
    """Close cycle KEY: its links stop taking answers; it can then be scored."""
    from surveys.cycles.life_cycle import close_cycle

    _, now = _settings_and_now()
    submitted = run(lambda: close_cycle(key, now, actor()))
    console.print(f"Closed {key} with {submitted:,} submitted responses. "
                  f"Score it with `rapport score --cycle {key}`.")  # fmt: skip


@cycle.command("status")
@click.argument("key")
def cycle_status(key: str) -> None:
    """Show who was invited, opened, started and submitted, per organisation and direction."""
    from rich.table import Table

    from surveys.cycles.life_cycle import STAGES, cycle_report

    cycle_row, report = run(lambda: cycle_report(key))
    table = Table("organisation", "direction", *STAGES, "response rate",
                  title=f"{key} · {cycle_row['status']}")  # fmt: skip
    for row in report.itertuples():
        counts = (f"{getattr(row, stage):,}" for stage in STAGES)
        direction = row.direction.replace("_", " ")
        table.add_row(row.organisation, direction, *counts, f"{row.response_rate:.0%}")
    totals = report[list(STAGES)].sum()
    if len(report):
        table.add_row("all", "", *(f"{totals[s]:,}" for s in STAGES),
                      f"{totals['submitted'] / totals['invited']:.0%}", style="bold")  # fmt: skip
    console.print(table)


@main.group("import")
def import_group() -> None:
    """Responses collected with other tools (plain CSV or XLSX, Qualtrics, REDCap)."""


@import_group.command("responses")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--cycle", "cycle_key", required=True, help="The cycle they belong to, e.g. 2027-Q1.")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx", "qualtrics", "redcap"]),
    default=None,
    help="How the file is laid out (default: xlsx for .xlsx files, else csv).",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML mapping the file's columns and codes to items and values (docs/imports.md).",
)
def import_responses_command(
    file: Path, cycle_key: str, file_format: str | None, mapping_path: Path | None
) -> None:
    """Import the responses in FILE: the whole file is checked first; all of it or nothing."""
    from surveys.responses.imports import import_responses, load_mapping

    chosen = file_format or ("xlsx" if file.suffix.lower() == ".xlsx" else "csv")
    mapping = load_mapping(mapping_path, chosen)
    now = dt.datetime.now(dt.UTC)
    summary = run(lambda: import_responses(file, cycle_key, chosen, mapping, now, actor()))
    console.print(
        f"Imported {summary.imported:,} responses into {cycle_key}; {summary.unchanged:,} "
        f"were already there unchanged; {summary.left_out:,} unfinished left out."
    )


@main.group()
def export() -> None:
    """Exports for administrators (CSV)."""


@export.command("responses")
@click.option("--cycle", "cycle_key", required=True, help="The cycle, e.g. 2027-Q1.")
@click.option(
    "--out", "out", type=click.Path(path_type=Path), default=None, help="File (default: stdout)."
)
def export_responses(cycle_key: str, out: Path | None) -> None:
    """Write a cycle's submitted answers as CSV, raters under pseudonyms.

    The file is in score-file's format (one instrument at a time: filter on `instrument`).
    """
    from surveys.responses.exports import responses_table, write_csv

    settings = load_settings()
    table = run(lambda: responses_table(cycle_key, settings.secret_key))
    if out is None:
        click.echo(table.to_csv(index=False), nl=False)
        return
    write_csv(table, out)
    click.echo(f"Wrote {len(table):,} answers to {out}.", err=True)


@export.command("scores")
@click.option("--cycle", "cycle_key", required=True, help="The cycle, e.g. 2026-Q3.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder.")
def export_scores(cycle_key: str, out: Path) -> None:
    """Write a cycle's latest score run: targets.csv, dimensions.csv and flags.csv.

    Pooled scores and each organisation's view, with whether the rated party may see each
    row (`shown`); for administrators, so hidden rows are included.
    """
    from surveys.responses.exports import spreadsheet_safe, write_csv
    from surveys.results.score_exports import scores_tables

    tables = run(lambda: scores_tables(cycle_key))
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_csv(table.map(spreadsheet_safe), out / name)
    counts = ", ".join(f"{len(t):,} rows in {n}" for n, t in tables.items())
    console.print(f"Wrote {counts} to {out}.")


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Scoring configuration TOML (defaults: docs/scoring.example.toml).",
)


def scoring_config(path: Path | None) -> Any:
    """Return the scoring configuration, or stop with the key the file gets wrong."""
    from scoring.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as error:  # scoring/ knows nothing of RapportError: translate here
        raise click.ClickException(str(error)) from None


@main.command("score")
@click.option("--cycle", "cycle_key", required=True, help="The cycle to score, e.g. 2026-Q1.")
@config_option
def score_command(cycle_key: str, config_path: Path | None) -> None:
    """Score a closed cycle from the database and store the run.

    Earlier closed cycles give this one its trend and history; the run stores its
    configuration and code version. Scoring again stores a new run with the same numbers.
    """
    from surveys.results.cycle_scoring import score_cycle
    from surveys.results.score_file import code_version

    config = scoring_config(config_path)
    with console.status("scoring") as status:
        summary = run(
            lambda: score_cycle(
                cycle_key, config, code_version(), actor(), lambda s: status.update(s)
            )
        )
    scored = ", ".join(
        f"{n} {direction.replace('_', ' ')} target(s)" for direction, n in summary.targets.items()
    )
    views = sum(summary.views.values())
    console.print(
        f"Stored run {summary.run_id} for {summary.cycle}: {scored} "
        f"from {summary.answers:,} answers; {views} organisation-to-partner views, "
        f"{summary.gaps} perception gaps, {summary.flags} escalation flags."
    )
    tiers = summary.tiers
    kept = (
        f"; {tiers.overrides_kept} override(s) kept beside the new computed tier"
        if tiers.overrides_kept
        else ""
    )
    console.print(f"Tiers computed for {tiers.computed} sponsor–site relationships{kept}.")


@main.command("scorecards")
@click.option("--cycle", "cycle_key", required=True, help="A scored cycle, e.g. 2026-Q1.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for the PDFs (a sub-folder per cycle) and their index.csv.")  # fmt: skip
@click.option("--audience", "audiences", multiple=True, metavar="SLUG",
              help="Only the scorecards for this organisation (repeatable).")  # fmt: skip
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option("--processes", type=click.IntRange(1, 64), default=os.cpu_count() or 1,
              show_default="the machine's cores", help="Worker processes making PDFs.")  # fmt: skip
@click.option("--email", is_flag=True,
              help="Then e-mail each scorecard to its audience's readers (once each).")  # fmt: skip
def scorecards_command(
    cycle_key: str, out: Path, audiences: tuple[str, ...], paper: str, processes: int,
    email: bool,
) -> None:  # fmt: skip
    """Render every scorecard of a scored cycle as a PDF, skipping those unchanged.

    A scorecard fails alone: the others go on, and the failures are listed at the end
    (exit status 1). Run it again to resume: what is already written is not made again.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from surveys.scorecards import render_cycle

    with Progress("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as bar:  # fmt: skip
        task = bar.add_task("scorecards", total=None)
        report = run(lambda: render_cycle(
            cycle_key, out, paper, processes, set(audiences) or None,
            lambda done, total: bar.update(task, completed=done, total=total),
        ))  # fmt: skip
    console.print(
        f"{len(report.written)} scorecard(s) written, {report.skipped} unchanged, "
        f"{len(report.failed)} failed, in {out / cycle_key} (index.csv lists them)."
    )
    failed = [f"{name}: {reason}" for name, reason in report.failed]
    if email:
        from surveys.scorecards import mail_scorecards

        settings, now = _settings_and_now()
        mailed = run(lambda: mail_scorecards(
            cycle_key, out, _mailer(settings), now, set(audiences) or None))  # fmt: skip
        console.print(f"{mailed.sent} e-mail(s) sent, {mailed.already} sent before, "
                      f"{len(mailed.failed)} failed.")  # fmt: skip
        failed += mailed.failed
    if failed:
        for line in failed:
            console.print(f"  {line}", style="red", highlight=False)
        raise click.exceptions.Exit(1)


@main.command("score-file")
@click.argument("answers", type=click.Path(path_type=Path))
@click.option(
    "--instrument",
    "instrument",
    required=True,
    help="A bundled instrument key (site_rates_sponsor, sponsor_rates_site) or a TOML file.",
)
@config_option
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for targets.csv, dimensions.csv, reliability.csv and run.json.",
)
def score_file(answers: Path, instrument: str, config_path: Path | None, out: Path) -> None:
    """Score an ANSWERS.csv from elsewhere, without a database.

    ANSWERS.csv is long format with the header cycle,rater,rater_org,target,item,value
    (item: the instrument's item key; empty value: missing; NA: not applicable). Every
    cycle in the file is scored; earlier cycles give later ones their trend and tier.
    """
    from scoring.engine import score
    from scoring.items import AnswersError
    from surveys.results.score_file import instrument_for, read_answers_csv, write_results

    config = scoring_config(config_path)
    spec = instrument_for(instrument)
    table = read_answers_csv(answers)
    with console.status(f"scoring {len(table):,} answers"):
        try:
            result = score(table, spec.item_table(), spec.scale_points, spec.direction, config)
        except AnswersError as error:
            # rows count from 0 in the table; the file's line is two further on (header)
            raise click.ClickException(f"{answers}: {_line_of(error)}") from None
    written = write_results(result, out, config, spec, answers)
    cycles = result.targets["cycle"].nunique()
    console.print(
        f"Scored {len(table):,} answers: {cycles} cycle(s), "
        f"{result.targets['target'].nunique()} target(s). "
        f"Wrote {', '.join(p.name for p in written)} to {out}."
    )


def _line_of(error: Exception) -> str:
    """Turn the engine's 0-based row into the CSV's line number (the header is line 1)."""
    import re

    return re.sub(r"^row (\d+)", lambda m: f"line {int(m.group(1)) + 2}", str(error))


@main.command()
def serve() -> None:
    """Start the web server on RAPPORT_HOST:RAPPORT_PORT."""
    settings = load_settings()
    ensure_port_free(settings.host, settings.port)
    run(_nothing)
    serve_app(settings.host, settings.port, settings.workers)


async def _nothing() -> None:
    """A step that only proves the database is reachable and migrated."""


def ensure_port_free(host: str, port: int) -> None:
    """Raise PortInUseError if nothing can listen on host:port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {port} on {host} is already in use; "
                    "stop the other server or set RAPPORT_PORT"
                ) from None
            raise PortInUseError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def serve_app(host: str, port: int, workers: int = 1) -> None:
    """Run the app under uvicorn until interrupted (in `workers` processes)."""
    import uvicorn

    uvicorn.run(
        "surveys.web.app:create_app", factory=True, host=host, port=port, log_level="info",
        workers=workers,
    )  # fmt: skip
