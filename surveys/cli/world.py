"""`rapport demo` and `rapport world`: the synthetic world with known truth.

Both build the same world from the same options; `demo` goes on to score it, print
links and logins, and serve it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from scoring.config import ScoringConfig
from surveys.cli._run import actor, console, mailer_for, run
from surveys.cli.serve import ensure_port_free, serve_app
from surveys.infra.database import apply_migrations
from surveys.infra.settings import Settings, load_settings

if TYPE_CHECKING:
    from surveys.world import WorldSummary


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


def build(seed: int, sites: int, cycles: int, raters: int) -> WorldSummary:
    """Migrate, then build (or reuse) the synthetic world, showing each step."""
    # lazy: surveys.world pulls in pandas, SciPy and Faker (start-up time)
    from surveys.world import WorldParameters, build_world

    try:
        parameters = WorldParameters(seed=seed, sites=sites, cycles=cycles, raters=raters)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None

    async def step() -> WorldSummary:
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


@click.command()
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
    _score_closed_cycles()
    now = dt.datetime.now(dt.UTC)
    _show_links(settings, now)
    _show_logins(settings, now)
    if serve:
        serve_app(settings)


def _score_closed_cycles() -> None:
    """Score the closed cycles so the demo opens on results, the latest awaiting its review."""
    # lazy: scoring and its results pull in pandas and SciPy (start-up time)
    from surveys.results.cycle_scoring import score_closed_cycles
    from surveys.results.score_file import code_version
    from surveys.results.tier_review import publish_all_but_latest

    with console.status("scoring closed cycles") as status:
        scored = run(
            lambda: score_closed_cycles(
                ScoringConfig(), code_version(), "demo", lambda s: status.update(s)
            )
        )
    if not scored:
        return
    console.print(
        f"Scored {len(scored)} closed cycle(s) ({scored[0].cycle}…{scored[-1].cycle}): "
        f"{sum(s.tiers.computed for s in scored)} tier assignments, "
        f"{sum(s.flags for s in scored)} escalation flags."
    )
    published = run(lambda: publish_all_but_latest("demo", dt.datetime.now(dt.UTC)))
    if published:
        console.print(
            f"Published {', '.join(published)}; {scored[-1].cycle} waits for its tier review."
        )


def _show_links(settings: Settings, now: dt.datetime) -> None:
    """Print fresh survey links, and mail them, so a survey can be answered straight away."""
    # lazy: surveys.world and surveys.cycles pull in pandas (start-up time)
    from surveys.cycles.life_cycle import send_letters
    from surveys.world import sample_links

    links = run(lambda: sample_links(settings.public_url, now, settings.secret_key))
    console.print(
        f"\n[bold]Rapport is at {settings.public_url}/[/bold]"
        f"  (health: {settings.public_url}/healthz)"
    )
    if not links:
        return
    console.print("Sample survey links (each run issues fresh ones):")
    for link in links:
        console.print(
            f"  {link['url']}\n    {link['respondent']} ({link['language']}) rates {link['target']}"
        )
    mailer = mailer_for(settings)
    report = run(lambda: send_letters([link["invitation"] for link in links], now, mailer))
    console.print(f"Their invitation e-mails ({report.sent}) are in {report.to}/.")


def _show_logins(settings: Settings, now: dt.datetime) -> None:
    """Print a login per kind of reader, so the demo's workspaces can be tried at once."""
    # lazy: surveys.world pulls in pandas, SciPy and Faker (start-up time)
    from surveys.world.logins import DEMO_PASSWORD, demo_logins

    logins = run(lambda: demo_logins(now))
    if logins:
        console.print(
            f"\nDemo logins at {settings.public_url}/sign-in (password: {DEMO_PASSWORD}):"
        )
        for login in logins:
            console.print(f"  {login.who}: {login.email}\n    sees {login.sees}")


@click.group()
def world() -> None:
    """The synthetic world with known truth (for demos, tests and benchmarks)."""


@world.command("build")
@world_options
def world_build(seed: int, sites: int, cycles: int, raters: int) -> None:
    """Build a synthetic world into the configured database (or reuse the one there)."""
    build(seed, sites, cycles, raters)
