"""`rapport score`, `score-file` and `scorecards`: scoring answers and rendering what comes out.

`score` and `scorecards` work on the database; `score-file` scores a CSV from elsewhere
with no database at all. The scoring engine (scoring/) raises its own errors, which are
translated to one-line failures here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from scoring.config import ConfigError, ScoringConfig, load_config
from surveys.cli._run import actor, announce_links, console, mailer_for, run, settings_and_now
from surveys.infra.settings import programme_scoring_config

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Scoring configuration TOML (see docs/scoring.example.toml); default: the file "
    "RAPPORT_SCORING_CONFIG names, else the built-in defaults.",
)


def scoring_config(path: Path | None) -> ScoringConfig:
    """Return the scoring configuration, or stop with the key the file gets wrong.

    Without --config, the programme's (`programme_scoring_config`): the thresholds the
    survey and the e-mails promised respondents.
    """
    try:
        return load_config(path) if path is not None else programme_scoring_config()
    except ConfigError as error:  # scoring/ knows nothing of RapportError: translate here
        raise click.ClickException(str(error)) from None


@click.command("score")
@click.option("--cycle", "cycle_key", required=True, help="The cycle to score, e.g. 2026-Q1.")
@config_option
def score_command(cycle_key: str, config_path: Path | None) -> None:
    """Score a closed cycle from the database and store the run.

    Earlier closed cycles give this one its trend and history; the run stores its
    configuration and code version. Scoring again stores a new run with the same numbers.
    """
    # lazy: surveys.results pulls in pandas and SciPy (start-up time)
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
    for direction in summary.unanswered:
        console.print(
            f"No {direction.replace('_', ' ')} answers were submitted in {summary.cycle}: "
            "that direction is not scored (nor are perception gaps, which need both sides).",
            style="yellow",
        )
    tiers = summary.tiers
    kept = (
        f"; {tiers.overrides_kept} override(s) kept beside the new computed tier"
        if tiers.overrides_kept
        else ""
    )
    console.print(f"Tiers computed for {tiers.computed} sponsor–site relationships{kept}.")


@click.command("scorecards")
@click.option("--cycle", "cycle_key", required=True, help="A scored cycle, e.g. 2026-Q1.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for the PDFs (a sub-folder per cycle) and their index.csv.",
)
@click.option(
    "--audience",
    "audiences",
    multiple=True,
    metavar="SLUG",
    help="Only the scorecards for this organisation (repeatable).",
)
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=os.cpu_count() or 1,
    show_default="the machine's cores",
    help="Worker processes making PDFs.",
)
@click.option(
    "--email",
    is_flag=True,
    help="Then e-mail each scorecard to its audience's results recipients (once each).",
)
def scorecards_command(
    cycle_key: str,
    out: Path,
    audiences: tuple[str, ...],
    paper: str,
    processes: int,
    email: bool,
) -> None:
    """Render every scorecard of a scored cycle as a PDF, skipping those unchanged.

    A scorecard fails alone: the others go on, and the failures are listed at the end
    (exit status 1). Run it again to resume: what is already written is not made again.
    """
    # lazy: surveys.scorecards pulls in pandas and SciPy (start-up time)
    from surveys.scorecards import render_cycle

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("scorecards", total=None)
        report = run(
            lambda: render_cycle(
                cycle_key,
                out,
                paper,
                processes,
                set(audiences) or None,
                lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    console.print(
        f"{len(report.written)} scorecard(s) written, {report.skipped} unchanged, "
        f"{len(report.failed)} failed, in {out / cycle_key} (index.csv lists them)."
    )
    failed = [f"{name}: {reason}" for name, reason in report.failed]
    if email:
        failed += _mail_scorecards(cycle_key, out, audiences)
    if failed:
        for line in failed:
            console.print(f"  {line}", style="red", highlight=False)
        raise click.exceptions.Exit(1)


def _mail_scorecards(cycle_key: str, out: Path, audiences: tuple[str, ...]) -> list[str]:
    """E-mail the scorecards; return the failures, to be listed with the rendering ones."""
    # lazy: surveys.scorecards pulls in pandas and SciPy (start-up time)
    from surveys.scorecards import mail_scorecards

    settings, now = settings_and_now()
    announce_links(settings)
    mailed = run(
        lambda: mail_scorecards(cycle_key, out, mailer_for(settings), now, set(audiences) or None)
    )
    console.print(
        f"{mailed.sent} e-mail(s) sent, {mailed.already} sent before, {len(mailed.failed)} failed."
    )
    if mailed.unread:
        console.print(
            f"No one is marked to receive the results of {', '.join(mailed.unread)}: "
            "their scorecards were not e-mailed.",
            style="yellow",
            highlight=False,
        )
    return mailed.failed


@click.command("score-file")
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
    # lazy: the scoring engine and surveys.results pull in pandas and SciPy (start-up time)
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
    return re.sub(r"^row (\d+)", lambda m: f"line {int(m.group(1)) + 2}", str(error))
