"""The append-only audit log: who did what to which record, and when.

Rows are only ever inserted. The table refuses `update` and `delete` so that no code
path in Rapport can rewrite history (an administrator with SQL access still can: the
log is for accountability inside the product, not tamper-proofing). The one exception
is a person's erasure (GDPR article 17, `surveys.privacy.erasure`): `pseudonymise`
replaces their e-mail and name in the entries that hold them, so that what was done
stays on record under a pseudonym.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from piccolo.columns import JSON, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from surveys.directory.organisations import Person


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove an audit entry."""


class AuditEntry(Table):
    """One thing someone did."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    at = Timestamptz(index=True)
    actor = Varchar(length=254)
    """Who: a person's e-mail, or `cli:<user>` / `system` for commands and jobs."""
    person = ForeignKey(Person, on_delete=OnDelete.set_null, null=True)
    action = Varchar(length=60, index=True)
    """What, as a verb phrase: `instrument.load`, `tier.override`, `cycle.publish`."""
    record_table = Varchar(length=60)
    record_id = Varchar(length=60, index=True)
    detail = JSON()

    @classmethod
    def update(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the audit log is append-only: entries cannot be changed")

    @classmethod
    def delete(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the audit log is append-only: entries cannot be removed")


@dataclass(frozen=True)
class Act:
    """Who does something, and when: the audit log's actor (a signed-in person's e-mail, or
    the user running a command), the person when one is signed in, and the time."""

    actor: str
    at: dt.datetime
    person_id: int | None = None


async def record(
    actor: str,
    action: str,
    record_table: str,
    record_id: object,
    detail: dict[str, Any] | None = None,
    person_id: int | None = None,
) -> None:
    """Append one entry to the audit log (inside the caller's transaction, if any)."""
    await AuditEntry.insert(
        AuditEntry(
            at=dt.datetime.now(dt.UTC),
            actor=actor,
            person=person_id,
            action=action,
            record_table=record_table,
            record_id=str(record_id),
            detail=detail or {},
        )
    )


async def pseudonymise(
    email: str, pseudonym: str, mentions: Iterable[str], rewrite: Callable[[Any], Any]
) -> int:
    """Rewrite an erased person out of the log: the erasure's one exception to append-only.

    Only `surveys.privacy.erasure` calls this, inside the erasure's transaction. Entries
    whose actor is `email` get `pseudonym` as their actor; in entries whose detail
    holds any of `mentions` (the person's e-mail and name, as stored or as JSON escapes
    them), the detail (parsed) is replaced by what `rewrite` makes of it. When, what and
    on which record stay as they were. Returns how many entries were rewritten.
    """
    if not email.strip():
        raise ValueError("an erased person's e-mail is needed to find their entries")
    table = AuditEntry._meta.get_formatted_tablename()
    patterns = [_containing(text) for text in mentions if text.strip()]
    mentioned = " OR ".join("CAST(detail AS TEXT) LIKE {} ESCAPE '!'" for _ in patterns)
    found = await AuditEntry.raw(
        f"SELECT id, actor, detail FROM {table} WHERE actor = {{}}"  # noqa: S608  (own table)
        + (f" OR {mentioned}" if mentioned else ""),
        email,
        *patterns,
    )
    for entry in found:
        detail = rewrite(_loaded(entry["detail"]))
        actor = pseudonym if entry["actor"] == email else entry["actor"]
        # AuditEntry.update refuses on purpose; this statement is the sanctioned exception
        await AuditEntry.raw(
            f"UPDATE {table} SET actor = {{}}, detail = {{}} WHERE id = {{}}",  # noqa: S608
            actor,
            dump_json(detail),
            entry["id"],
        )
    return len(found)


def _containing(text: str) -> str:
    """A LIKE pattern (escaped with `!`) matching any text that holds `text`."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _loaded(detail: object) -> object:
    """A detail as selected raw: text on both databases, parsed here."""
    return json.loads(detail) if isinstance(detail, str) else detail
