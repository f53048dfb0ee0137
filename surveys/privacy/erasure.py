"""Erasing a person (GDPR article 17): name, e-mail and account gone, answers kept under a
pseudonym so that no score changes.

The person's row stays, renamed to a pseudonym made from a random token (never from the
e-mail, so it cannot be reversed by guessing addresses), so that what they submitted
keeps its rater: stored runs and tiers stay as they were, and a re-score gives the same
numbers to the last bit (the engine names raters by person id). Everything else that is
theirs alone goes: their account with its grants, sessions, links and
tokens, their drafts, their place as a relationship's contact. Texts elsewhere that
name them (the audit log, tier histories, action items, replies, comments, jobs) get
the pseudonym instead. All of it is one transaction, audited under the pseudonym.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from piccolo.columns import JSON, Column, Varchar
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from surveys.accounts.credentials import (
    AccessGrant,
    Account,
    ApiToken,
    GrantRole,
    SignInLink,
    WebSession,
)
from surveys.cycles.invitations import Invitation, InvitationStatus
from surveys.directory import audit
from surveys.directory.audit import Act
from surveys.directory.organisations import Person, RelationshipContact
from surveys.infra.database import lock_row, writing_transaction
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_
from surveys.jobs import Job
from surveys.responses.answers import Answer, Response, ResponseStatus, forget_digests
from surveys.results.meetings import ActionItem
from surveys.results.tier_assignments import TierAssignment, TierEvent
from surveys.scorecards import PartnerReply

ERASED_DOMAIN = "erased.invalid"
"""The domain of every erased person's stand-in address (`.invalid` can never deliver)."""

FREE_TEXT: tuple[tuple[type[Table], Column], ...] = (
    (Answer, Answer.text),
    (Invitation, Invitation.delivery_problem),
    (ActionItem, ActionItem.title),
    (ActionItem, ActionItem.owner),
    (PartnerReply, PartnerReply.text),
    (TierAssignment, TierAssignment.override_reason),
    (TierEvent, TierEvent.reason),
    (TierEvent, TierEvent.actor),
    (Job, Job.started_by),
    (Job, Job.step),
    (Job, Job.summary),
    (Job, Job.failures),
)
"""Every column outside the person's own row and the audit log where people write, or
Rapport records, a person's name or e-mail: searched and rewritten at an erasure."""


class ErasureError(RapportError, ValueError):
    """A person cannot be erased as asked; the message says why."""


@dataclass(frozen=True)
class Pseudonym:
    """What an erased person is called from then on."""

    name: str
    """E.g. "Erased person 7f3a9c01"."""
    email: str
    """A unique address that can never receive mail, e.g. "erased-7f3a…@erased.invalid"."""

    @classmethod
    def new(cls) -> Pseudonym:
        """A fresh pseudonym from a random token: nothing about the person is in it."""
        token = secrets.token_hex(8)
        return cls(name=f"Erased person {token[:8]}", email=f"erased-{token}@{ERASED_DOMAIN}")


@dataclass(frozen=True)
class Erasure:
    """What erasing a person did."""

    person_id: int
    pseudonym: str
    pseudonymous_email: str
    erased_at: dt.datetime
    account_deleted: bool
    """Whether they had an account (its grants, sessions, links and tokens went with it)."""
    drafts_deleted: int
    """Responses never submitted, deleted with their answers."""
    submitted_responses_kept: int
    """Submitted responses kept under the pseudonym, so that scores do not change."""
    audit_entries_rewritten: int
    texts_rewritten: int
    """Texts outside the audit log that named them (FREE_TEXT), now naming the pseudonym."""


async def erase_person(person_id: int, act: Act) -> Erasure:
    """Erase a person's own data, keeping their submitted answers under a pseudonym.

    In one transaction: the person's name and e-mail become a pseudonym, they are
    deactivated and sent no results; their account goes (with grants, sessions, sign-in
    links and API tokens), their drafts go, their relationship contacts go, and links
    of invitations they never submitted stop working. Invitations stay (a past cycle's
    response rate counts them) and submitted answers stay, so a re-score of any cycle
    gives the same numbers. Texts that named them (the audit log, FREE_TEXT) name the
    pseudonym instead, and the erasure is audited under the pseudonym.

    Raises ErasureError for an unknown or already erased person, for the person acting,
    and for the last active administrator.
    """
    async with writing_transaction(Person._meta.db):
        await lock_row(Person, person_id)
        person = await _erasable(person_id, act)
        pseudonym = Pseudonym.new()
        renames = {person["email"]: pseudonym.email, person["name"]: pseudonym.name}
        rename = renamer(renames)
        account_deleted = await _delete_account(person_id)
        drafts = await _delete_drafts(person_id)
        kept = await Response.count().where(
            (Response.invitation._.respondent == person_id)
            & (Response.status == ResponseStatus.submitted.value)
        )
        await _close_unsubmitted_invitations(person_id, act.at)
        await RelationshipContact.delete().where(RelationshipContact.person == person_id)
        await Person.update(
            {
                Person.name: pseudonym.name,
                Person.email: pseudonym.email,
                Person.active: False,
                Person.receives_results: False,
                Person.erased_at: act.at,
            }
        ).where(Person.id == person_id)
        mentions = [form for text in renames for form in _stored_forms(text)]
        entries = await audit.pseudonymise(
            person["email"], pseudonym.email, mentions, lambda detail: renamed(detail, rename)
        )
        texts = 0
        for table, column in FREE_TEXT:
            rewritten = await _rewrite_texts(table, column, mentions, rename)
            if table is Answer:
                await forget_digests(rewritten)
            texts += len(rewritten)
        erasure = Erasure(
            person_id=person_id,
            pseudonym=pseudonym.name,
            pseudonymous_email=pseudonym.email,
            erased_at=act.at,
            account_deleted=account_deleted,
            drafts_deleted=drafts,
            submitted_responses_kept=kept,
            audit_entries_rewritten=entries,
            texts_rewritten=texts,
        )
        await audit.record(
            act.actor,
            "person.erase",
            "person",
            person_id,
            {
                "pseudonym": pseudonym.name,
                "account_deleted": account_deleted,
                "drafts_deleted": drafts,
                "submitted_responses_kept": kept,
            },
            act.person_id,
        )
    return erasure


async def _erasable(person_id: int, act: Act) -> dict[str, Any]:
    """The person's name and e-mail, or ErasureError saying why they cannot be erased."""
    person = (
        await Person.select(Person.name, Person.email, Person.erased_at)
        .where(Person.id == person_id)
        .first()
    )
    if person is None:
        raise ErasureError(N_("there is no person %(person)s"), person=str(person_id))
    if person["erased_at"] is not None:
        raise ErasureError(
            N_("person %(person)s was already erased on %(day)s (now %(name)s)"),
            person=str(person_id),
            day=f"{person['erased_at']:%Y-%m-%d}",
            name=repr(person["name"]),
        )
    if act.person_id == person_id or act.actor == person["email"]:
        raise ErasureError(N_("you cannot erase yourself: ask another administrator"))
    administrators = {
        int(row["person"])
        for row in await AccessGrant.select(AccessGrant.account._.person.as_alias("person")).where(
            (AccessGrant.role == GrantRole.administrator.value)
            & AccessGrant.account._.active.eq(True)
            & AccessGrant.account._.person._.active.eq(True)
        )
    }
    if administrators == {person_id}:
        raise ErasureError(
            N_("this is the last active administrator: make someone else an administrator first")
        )
    return dict(person)


async def _delete_account(person_id: int) -> bool:
    """Delete the person's account and everything hanging from it; whether there was one."""
    account = await Account.select(Account.id).where(Account.person == person_id).first()
    if account is None:
        return False
    for table in (ApiToken, SignInLink, WebSession, AccessGrant):
        await table.delete().where(table.account == account["id"])
    await Account.delete().where(Account.id == account["id"])
    return True


async def _delete_drafts(person_id: int) -> int:
    """Delete the person's responses never submitted, with their answers; how many."""
    drafts = [
        int(row["id"])
        for row in await Response.select(Response.id).where(
            (Response.invitation._.respondent == person_id)
            & (Response.status == ResponseStatus.draft.value)
        )
    ]
    if drafts:
        await Answer.delete().where(Answer.response.is_in(drafts))
        await Response.delete().where(Response.id.is_in(drafts))
    return len(drafts)


async def _close_unsubmitted_invitations(person_id: int, now: dt.datetime) -> None:
    """Stop the links of the person's unsubmitted invitations, and forget why mail to their
    address failed; the invitations themselves stay, counted in their cycle's response rate."""
    unsubmitted = (Invitation.respondent == person_id) & (
        Invitation.status != InvitationStatus.submitted.value
    )
    # their draft is gone: the invitation was opened, no longer in progress
    await Invitation.update({Invitation.status: InvitationStatus.opened.value}).where(
        unsubmitted & (Invitation.status == InvitationStatus.in_progress.value)
    )
    await Invitation.update({Invitation.expires_at: now, Invitation.token_nonce: None}).where(
        unsubmitted & (Invitation.expires_at.is_null() | (Invitation.expires_at > now))
    )
    await Invitation.update({Invitation.delivery_problem: None}).where(
        Invitation.respondent == person_id
    )


def renamer(renames: Mapping[str, str]) -> Callable[[str], str]:
    """A function replacing each key of `renames` by its value wherever it stands as whole
    words in a text (so a short name inside a longer word is left alone).

    >>> rename = renamer({"Al Day": "Erased person 1", "al@x.org": "erased-1@erased.invalid"})
    >>> rename("Owner: Al Day <al@x.org>; Al Dayton stays")
    'Owner: Erased person 1 <erased-1@erased.invalid>; Al Dayton stays'
    """
    olds = sorted((old for old in renames if old.strip()), key=len, reverse=True)
    if not olds:
        return lambda text: text
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(old)}(?!\w)" for old in olds))
    return lambda text: pattern.sub(lambda found: renames[found.group(0)], text)


def renamed(value: Any, rename: Callable[[str], str]) -> Any:
    """A parsed JSON document with every text in it, keys too, passed through `rename`."""
    if isinstance(value, str):
        return rename(value)
    if isinstance(value, list):
        return [renamed(one, rename) for one in value]
    if isinstance(value, dict):
        return {rename(str(key)): renamed(one, rename) for key, one in value.items()}
    return value


def _stored_forms(text: str) -> list[str]:
    """`text` as a text column holds it and as a JSON column may (non-ASCII escaped)."""
    escaped = json.dumps(text)[1:-1]
    return [text] if escaped == text else [text, escaped]


def _containing(text: str) -> str:
    """A LIKE pattern (escaped with `!`) matching any text that holds `text`."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


async def _rewrite_texts(
    table: type[Table], column: Column, mentions: list[str], rename: Callable[[str], str]
) -> list[int]:
    """Rewrite the values of one column that mention the person; the ids of rows changed."""
    name = f'"{column._meta.db_column_name}"'
    patterns = [_containing(text) for text in mentions if text.strip()]
    if not patterns:
        return []
    where = " OR ".join(f"CAST({name} AS TEXT) LIKE {{}} ESCAPE '!'" for _ in patterns)
    rows = await table.raw(
        f"SELECT id, {name} AS value FROM {table._meta.get_formatted_tablename()} WHERE {where}",  # noqa: S608  (own names)
        *patterns,
    )
    changed = []
    for row in rows:
        new = _rewritten(column, row["value"], rename)
        if new is not None:
            await table.update({column: new}).where(table._meta.primary_key == row["id"])
            changed.append(row["id"])
    return changed


def _rewritten(column: Column, value: Any, rename: Callable[[str], str]) -> Any:
    """The column's new value, or None when renaming leaves it as it was."""
    if isinstance(column, JSON):
        parsed = json.loads(value) if isinstance(value, str) else value
        new_json = renamed(parsed, rename)
        return dump_json(new_json) if new_json != parsed else None
    new = rename(str(value))
    if isinstance(column, Varchar):
        new = new[: column.length]
    return new if new != value else None
