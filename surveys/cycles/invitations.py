"""Invitations: one person asked to rate one organisation in one cycle, by a secret link.

Only a hash of the link's token is stored, so a leaked database reveals no working
link; lookups go through the hash's unique index, never a comparison of secrets.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from surveys.cycles.cycle import Cycle
from surveys.directory.organisations import Organisation, Person, Relationship
from surveys.infra.sql_scripts import Statement, fetch
from surveys.infra.tokens import token_hash
from surveys.instruments import Instrument


class InvitationStatus(StrEnum):
    """How far the respondent got."""

    created = "created"
    sent = "sent"
    opened = "opened"
    in_progress = "in_progress"
    submitted = "submitted"


class Invitation(Table):
    """One person asked to rate one organisation in one cycle."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False, index=True)
    relationship = ForeignKey(Relationship, on_delete=OnDelete.restrict, null=False)
    instrument = ForeignKey(Instrument, on_delete=OnDelete.restrict, null=False)
    respondent = ForeignKey(Person, on_delete=OnDelete.restrict, null=False, index=True)
    target = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    """The organisation being rated."""
    token_hash = Varchar(length=64, unique=True)
    token_nonce = Varchar(length=64, null=True, default=None)
    """Derives the link with the server's key (`link_token`); null for links issued once."""
    status = Varchar(length=12, choices=InvitationStatus, default="created", index=True)
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    opened_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    last_reminded_at = Timestamptz(null=True, default=None)
    reminder_count = Integer(default=0)
    undeliverable_at = Timestamptz(null=True, default=None)
    """When the mail server refused the address for good (a 5xx); cleared when the
    person's address is corrected, so the next send tries again."""
    delivery_problem = Varchar(length=300, null=True, default=None)
    """The mail server's refusal, as it gave it."""

    invitation_one_per_respondent_and_target = Unique(["cycle", "respondent", "target"])
    invitation_status_is_known = Check(
        "status IN ('created', 'sent', 'opened', 'in_progress', 'submitted')"
    )
    invitation_reminders_not_negative = Check("reminder_count >= 0")
    invitation_submitted_has_time = Check("status != 'submitted' OR submitted_at IS NOT NULL")


TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class LinkState(StrEnum):
    """What a survey link leads to; each gets its own page, none reveals another invitation."""

    open = "open"
    submitted = "submitted"
    expired = "expired"
    unknown = "unknown"


@dataclass(frozen=True)
class LinkView:
    """What the link page may say about the invitation behind a token."""

    state: LinkState
    partner: str | None = None
    cycle: str | None = None
    language: str = "en"
    invitation_id: int | None = None
    """For the server only: which invitation to save answers to (never rendered)."""
    status: str | None = None
    """For the server only: how far the respondent got (created … submitted)."""
    instrument_id: int | None = None
    closes_at: dt.datetime | None = None


async def link_view(token: str, now: dt.datetime) -> LinkView:
    """Return what the invitation behind `token` is, looked up by the token's hash only.

    Every form view and answer starts here, so it is one statement written out (with
    the token's hash as a bound parameter) and sent straight to a pooled connection:
    building it through the query builder cost more than running it.
    """
    if not TOKEN_SHAPE.match(token):
        return LinkView(LinkState.unknown)
    rows = await fetch(Invitation._meta.db, Statement(_LINK_QUERY, (token_hash(token),)))
    if not rows:
        return LinkView(LinkState.unknown)
    row = rows[0]
    if row["status"] == InvitationStatus.submitted:
        state = LinkState.submitted
    elif row["cycle_status"] != "open" or (row["expires_at"] and row["expires_at"] <= now):
        state = LinkState.expired
    else:
        state = LinkState.open
    return LinkView(
        state,
        row["partner"],
        row["cycle_key"],
        row["language"],
        row["id"],
        row["status"],
        row["instrument"],
        row["expires_at"] or row["closes_at"],
    )


_LINK_QUERY = f"""
    SELECT i.id, i.status, i.expires_at, i.instrument, o.name AS partner, c.key AS cycle_key,
           c.status AS cycle_status, c.closes_at, p.language
    FROM {Invitation._meta.get_formatted_tablename()} AS i
    JOIN {Cycle._meta.get_formatted_tablename()} AS c ON c.id = i.cycle
    JOIN {Organisation._meta.get_formatted_tablename()} AS o ON o.id = i.target
    JOIN {Person._meta.get_formatted_tablename()} AS p ON p.id = i.respondent
    WHERE i.token_hash = {{}}
"""  # noqa: S608  (table names are Rapport's own; the hash is a bound parameter)
