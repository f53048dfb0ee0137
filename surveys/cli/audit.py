"""`rapport audit`: the audit log, filtered as the console filters it, as a table or CSV."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from rich.table import Table as RichTable

from surveys.cli._run import console, run
from surveys.directory.audit_log import AuditFilter, audit_csv, audit_page


@click.command("audit")
@click.option("--who", default="", help="Part of the actor: an e-mail, cli:<user>, system.")
@click.option("--action", default="", help="An action (cycle.open) or its family (cycle).")
@click.option("--record", "record", default="", help="TABLE or TABLE:ID, such as person:12.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day included.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day included.")
@click.option("--last", default=50, show_default=True, help="Entries shown (newest first).")
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write every matching entry as CSV to this file ('-' for standard output).",
)
def audit(
    who: str,
    action: str,
    record: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
    last: int,
    csv_out: Path | None,
) -> None:
    """Show who did what to which record, and when (the console's audit log)."""
    table_name, _, record_id = record.partition(":")
    filter_ = AuditFilter(
        who=who,
        action=action,
        record_table=table_name,
        record_id=record_id,
        since=since.date() if since else None,
        until=until.date() if until else None,
    )
    if csv_out is not None:

        async def write() -> int:
            lines = 0
            out = sys.stdout if str(csv_out) == "-" else csv_out.open("w", encoding="utf-8")
            try:
                async for line in audit_csv(filter_):
                    out.write(line)
                    lines += 1
            finally:
                if out is not sys.stdout:
                    out.close()
            return lines - 1

        written = run(write)
        if str(csv_out) != "-":
            console.print(f"{written:,} entries written to {csv_out}.")
        return
    found = run(lambda: audit_page(filter_, 1, max(1, last)))
    table = RichTable("when (UTC)", "who", "what", "record", "detail")
    for entry in found.items:
        detail = "; ".join(f"{k}: {v}" for k, v in sorted(entry.detail.items()))
        table.add_row(
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.actor,
            entry.action,
            f"{entry.record_table} {entry.record_id}",
            detail,
        )
    console.print(table)
    console.print(f"{len(found.items)} of {found.total:,} matching entries.")
