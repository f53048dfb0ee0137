"""The append-only audit log: who did what to which record, and when.

Rows are only ever inserted. The table refuses `update` and `delete` so that no code
path in Rapport can rewrite history (an administrator with SQL access still can: the
log is for accountability inside the product, not tamper-proofing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NoReturn

from piccolo.columns import JSON, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

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
