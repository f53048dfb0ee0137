"""`rapport person` (a person's own data: export, erase) and `rapport comments purge`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from surveys.cli._run import actor, console, run, settings_and_now
from surveys.directory.audit import Act


@click.group()
def person() -> None:
    """A person's own data (GDPR): export everything held on them, or erase them."""


@person.command("export")
@click.argument("email")
@click.option(
    "--out", "out", type=click.Path(path_type=Path), default=None, help="File (default: stdout)."
)
def person_export(email: str, out: Path | None) -> None:
    """Write everything held on the person with EMAIL as JSON (secrets only said to exist)."""
    # lazy: surveys.privacy pulls in pandas and the scorecards (start-up time)
    from surveys.privacy import person_with_email, personal_data

    async def export() -> dict[str, object]:
        return await personal_data(await person_with_email(email))

    text = json.dumps(run(export), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"Wrote everything held on {email} to {out}.", err=True)


@person.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Confirm: an erasure cannot be undone.")
def person_erase(email: str, yes: bool) -> None:
    """Erase the person with EMAIL: name, e-mail, account and drafts go; submitted answers
    stay under a pseudonym, so scores do not change. Cannot be undone."""
    from surveys.privacy import Erasure, erase_person, person_with_email

    if not yes:
        raise click.ClickException("an erasure cannot be undone: add --yes to erase " + email)
    _, now = settings_and_now()

    async def erase() -> Erasure:
        return await erase_person(await person_with_email(email), Act(actor(), now))

    done = run(erase)
    console.print(
        f"Erased {email}: now {done.pseudonym!r}. {done.drafts_deleted:,} draft(s) deleted, "
        f"{done.submitted_responses_kept:,} submitted response(s) kept under the pseudonym"
        + (", account deleted" if done.account_deleted else "")
        + f"; {done.audit_entries_rewritten + done.texts_rewritten:,} record(s) that named "
        "them now name the pseudonym."
    )


@click.group()
def comments() -> None:
    """Comment texts: purge those older than RAPPORT_KEEP_COMMENTS_CYCLES scored cycles."""


@comments.command("purge")
@click.option(
    "--keep",
    "keep",
    type=click.IntRange(min=1),
    default=None,
    help="Scored cycles whose comments stay (default: RAPPORT_KEEP_COMMENTS_CYCLES).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be blanked; change nothing.")
def comments_purge(keep: int | None, dry_run: bool) -> None:
    """Blank comment texts of scored cycles older than the newest N; scores stay as they are."""
    from surveys.privacy import purge_old_comments

    settings, now = settings_and_now()
    cycles = keep or settings.keep_comments_cycles
    if cycles is None:
        raise click.ClickException(
            "RAPPORT_KEEP_COMMENTS_CYCLES is not set (comments are kept forever): "
            "set it, or give --keep N"
        )
    kept = cycles
    done = run(lambda: purge_old_comments(kept, Act(actor(), now), dry_run))
    verb = "Would blank" if dry_run else "Blanked"
    where = ", ".join(f"{n:,} in {key}" for key, n in done.purged.items()) or "none"
    console.print(
        f"{verb} {done.comments:,} comment(s) ({where}); kept those of "
        f"{', '.join(done.kept) or 'no scored cycle'}."
    )
