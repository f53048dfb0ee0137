"""The `rapport` command: the `main` group here, each group of commands in its own module.

- `_run`: what every command shares: the console, `RapportGroup` (an expected failure is one
  line on stderr and exit status 1, never a traceback), `run` (connect, check the schema,
  run one async step), the audit `actor`, the mailer.
- `database`: `migrate`, `settings`, `backup` and `restore`.
- `instruments`: `instruments load` and `instruments list`.
- `organisations`: `organisations import`.
- `world`: `demo` and `world build`.
- `cycles`: `cycle create/open/send/remind/close/status`.
- `imports`: `import responses`.
- `exports`: `export responses` and `export scores`.
- `results`: `score`, `score-file` and `scorecards`.
- `tiers`: `tiers accept`, a sponsor's computed tiers accepted (one site, or all).
- `programme`: `programme show|set|move|skip|pause|tick`, `worker` and `jobs`.
- `serve`: `serve`, and the port check and server start `demo` uses too.
- `audit`: `audit`, the audit log as the console filters it.
- `accounts`: `admin create` (the first administrator) and `accounts` (invite, grant, revoke…).
- `people`: `person export|erase` (a person's own data) and `comments purge`.
- `directory`: `directory import`, a CTMS or CRM export checked whole, then imported.
- `directory_records`: `directory organisation|person|relationship`, one record at a time.

A new command goes in the module of its group (a new group gets a module of its own) and
is registered below. These modules may import scoring/, surveys.infra and every domain
package of surveys/, never surveys.web: `serve` names the web app to uvicorn as a string.
Domain modules that pull in pandas, SciPy or WeasyPrint are imported inside the command
that needs them, so that `rapport --help` and the light commands start quickly.
"""

from __future__ import annotations

import click

from surveys.cli import (
    accounts,
    audit,
    cycles,
    database,
    directory,
    directory_records,
    exports,
    imports,
    instruments,
    organisations,
    people,
    programme,
    results,
    serve,
    tiers,
    world,
)
from surveys.cli._run import RapportGroup


@click.group(cls=RapportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rapport")
def main() -> None:
    """Rapport: two-way relationship-health surveys between clinical-trial sponsors/CROs and sites.

    Settings come from environment variables; `rapport settings` lists them.
    """


main.add_command(database.migrate)
main.add_command(database.show_settings)
main.add_command(database.backup_command)
main.add_command(database.restore_command)
main.add_command(instruments.instruments)
main.add_command(organisations.organisations)
main.add_command(world.demo)
main.add_command(world.world)
main.add_command(cycles.cycle)
main.add_command(imports.import_group)
main.add_command(exports.export)
main.add_command(results.score_command)
main.add_command(results.scorecards_command)
main.add_command(results.score_file)
main.add_command(tiers.tiers)
main.add_command(serve.serve)
main.add_command(programme.programme)
main.add_command(programme.worker)
main.add_command(programme.jobs)
main.add_command(audit.audit)
main.add_command(accounts.admin)
main.add_command(accounts.accounts)
main.add_command(people.person)
main.add_command(people.comments)
for group in directory_records.RECORD_GROUPS:
    directory.directory.add_command(group)
main.add_command(directory.directory)
