"""Letters: a cycle's invitations and reminders, one e-mail per person per cycle and round.

A person asked to rate several partners (a site coordinator rating a sponsor and its
CRO, a sponsor's CRA rating a dozen sites) gets one letter naming them all, each with
its own link, in the person's language. Before a letter goes, the person's invitations
are claimed together by one conditional update, so two runs at once (a retried API
call) never both send it; if it cannot be delivered they are given back together and go
with the next run.

Every round says what it did in a `SendReport`: the e-mails sent, the invitations they
carried, and every invitation held back, counted by reason (`Held`). A mail server's
permanent refusal (a 5xx reply) marks the person's invitations undeliverable: no round
tries them again until `address_corrected` clears the mark. A deactivated or erased
person is never written to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from scoring.config import ScoringConfig
from surveys.cycles.cycle import CycleError, CycleStatus, UnknownCycleError, cycle_by_key
from surveys.cycles.invitations import Invitation, InvitationStatus
from surveys.infra.i18n import N_, Text
from surveys.infra.mail import DeliveryError, Letter, Mailer, Survey, compose
from surveys.infra.settings import programme_scoring_config
from surveys.infra.tokens import link_token, token_hash
from surveys.instruments.questionnaires import privacy_note


class Held(StrEnum):
    """Why an invitation got no e-mail in a round."""

    not_due = "not_due"
    """Reminders: the last e-mail was sent less than the spacing ago."""
    at_limit = "at_limit"
    """Reminders: the person had every reminder allowed."""
    not_sent = "not_sent"
    """Reminders: the invitation itself was never e-mailed (send the invitations first)."""
    expired = "expired"
    """The link has stopped taking answers."""
    undeliverable = "undeliverable"
    """The mail server refused the address for good; waits for a corrected address."""
    inactive = "inactive"
    """The person was deactivated or erased in the directory."""
    issued_once = "issued_once"
    """The link was issued once (an import) and cannot be written into an e-mail."""
    key_changed = "key_changed"
    """The stored link no longer matches the server key (RAPPORT_SECRET_KEY changed)."""
    taken = "taken"
    """Another run was sending it at the same moment."""
    failed = "failed"
    """The delivery failed for now (server busy or unreachable); the next run sends it."""
    refused = "refused"
    """The mail server refused the address in this round; now marked undeliverable."""


BY_RULE = frozenset(
    {
        Held.not_due,
        Held.at_limit,
        Held.not_sent,
        Held.expired,
        Held.undeliverable,
        Held.inactive,
    }
)
"""Reasons that make an invitation not due; the others held back one that was due."""

HELD_SAID = {
    Held.not_due: N_("%(count)s not due yet (last e-mail less than %(days)s days ago)"),
    Held.at_limit: N_("%(count)s at the limit of %(most)s reminders"),
    Held.not_sent: N_("%(count)s invitation never e-mailed (send the invitations first)"),
    Held.expired: N_("%(count)s links expired"),
    Held.undeliverable: N_("%(count)s undeliverable (the address was refused; correct it first)"),
    Held.inactive: N_("%(count)s to people deactivated or erased"),
    Held.issued_once: N_("%(count)s links issued once, which no e-mail can repeat"),
    Held.key_changed: N_("%(count)s links no longer matching the server key"),
    Held.taken: N_("%(count)s being sent by another run"),
    Held.failed: N_("%(count)s not delivered this time (tried again next time)"),
    Held.refused: N_("%(count)s refused by the mail server (now marked undeliverable)"),
}
"""A page's words for invitations held back, by reason, with their count (`SendReport.said`);
the command line's are `SendReport.reason`."""
NOT_OPEN_INVITING = {
    CycleStatus.draft.value: N_(
        "cycle %(cycle)s is draft: only an open cycle's invitations go out"
    ),
    CycleStatus.closed.value: N_(
        "cycle %(cycle)s is closed: only an open cycle's invitations go out"
    ),
    CycleStatus.scored.value: N_(
        "cycle %(cycle)s is scored: only an open cycle's invitations go out"
    ),
    CycleStatus.published.value: N_(
        "cycle %(cycle)s is published: only an open cycle's invitations go out"
    ),
    "": N_("cycle %(cycle)s is %(status)s: only an open cycle's invitations go out"),
}
NOT_OPEN_REMINDING = {
    CycleStatus.draft.value: N_(
        "cycle %(cycle)s is draft: only an open cycle's people are reminded"
    ),
    CycleStatus.closed.value: N_(
        "cycle %(cycle)s is closed: only an open cycle's people are reminded"
    ),
    CycleStatus.scored.value: N_(
        "cycle %(cycle)s is scored: only an open cycle's people are reminded"
    ),
    CycleStatus.published.value: N_(
        "cycle %(cycle)s is published: only an open cycle's people are reminded"
    ),
    "": N_("cycle %(cycle)s is %(status)s: only an open cycle's people are reminded"),
}
"""A round refused in a cycle that is not open, one message per status (so a page says the
status in its reader's language)."""


@dataclass(frozen=True)
class SendReport:
    """What a round of e-mails did: sent, and every invitation held back and why."""

    kind: str
    """invitation or reminder."""
    sent: int
    """E-mails delivered, one per person."""
    invitations: int
    """Invitations those e-mails carried."""
    held: Mapping[Held, int] = field(default_factory=dict)
    """Invitations given no e-mail, by reason (only reasons that occurred)."""
    failed: tuple[str, ...] = ()
    """One line per person the delivery would not take: to whom, and why."""
    to: str = ""
    """Where the messages went: the outbox folder or the mail server."""
    days: int | None = None
    """Reminders: the spacing in days between two e-mails to one person."""
    most: int | None = None
    """Reminders: the most a person gets."""

    @property
    def due(self) -> int:
        """Invitations this round should have e-mailed by its rules."""
        return self.invitations + sum(n for r, n in self.held.items() if r not in BY_RULE)

    @property
    def skipped(self) -> int:
        """Invitations whose link was issued once and cannot be repeated in an e-mail."""
        return self.held.get(Held.issued_once, 0)

    def reason(self, held: Held) -> str:
        """What `held` means, in the words of this round."""
        return {
            Held.not_due: f"not due yet (last e-mail less than {self.days} days ago)",
            Held.at_limit: f"at the limit of {self.most} reminders",
            Held.not_sent: "invitation never e-mailed (send the invitations first)",
            Held.expired: "links expired",
            Held.undeliverable: "undeliverable (the address was refused; correct it first)",
            Held.inactive: "to people deactivated or erased",
            Held.issued_once: "links issued once, which no e-mail can repeat",
            Held.key_changed: "links no longer matching the server key",
            Held.taken: "being sent by another run",
            Held.failed: "not delivered this time (tried again next time)",
            Held.refused: "refused by the mail server (now marked undeliverable)",
        }[held]

    def said(self, held: Held, count: int) -> Text:
        """`count` invitations held back for `held`, for a page to say in its reader's
        language (the English reads as `summary` writes it)."""
        return Text(HELD_SAID[held], {"count": count, "days": self.days, "most": self.most})

    def summary(self) -> str:
        """One line: e-mails sent, invitations due, and what was held back and why.

        e.g. "0 reminders sent (0 of 0 invitations due): 120 not due yet (last e-mail
        less than 3 days ago), 40 at the limit of 2 reminders, 5 links expired".
        """
        noun = "reminders" if self.kind == "reminder" else "invitation e-mails"
        line = f"{self.sent:,} {noun} sent ({self.invitations:,} of {self.due:,} invitations due)"
        held = [f"{n:,} {self.reason(r)}" for r, n in self.held.items() if n]
        return f"{line}: {', '.join(held)}" if held else line


LETTER_COLUMNS = (
    Invitation.id,
    Invitation.cycle,
    Invitation.respondent,
    Invitation.status,
    Invitation.token_nonce,
    Invitation.token_hash,
    Invitation.expires_at,
    Invitation.reminder_count,
    Invitation.sent_at,
    Invitation.opened_at,
    Invitation.created_at,
    Invitation.last_reminded_at,
    Invitation.undeliverable_at,
    Invitation.respondent._.name.as_alias("name"),
    Invitation.respondent._.email.as_alias("email"),
    Invitation.respondent._.language.as_alias("language"),
    Invitation.respondent._.active.as_alias("active"),
    Invitation.respondent._.erased_at.as_alias("erased_at"),
    Invitation.respondent._.organisation._.name.as_alias("organisation"),
    Invitation.target._.name.as_alias("partner"),
    Invitation.instrument._.direction.as_alias("direction"),
    Invitation.cycle._.title.as_alias("cycle_title"),
    Invitation.cycle._.closes_at.as_alias("closes_at"),
)

Row = dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """Taking a person's rows before their letter goes, and giving them back if it fails.

    `take` returns the rows this run won: of two runs at once, only one wins each row.
    """

    take: Callable[[list[Row]], Awaitable[list[Row]]]
    give_back: Callable[[list[Row]], Awaitable[None]]


@dataclass
class _Tally:
    """What a round has done so far."""

    sent: int = 0
    invitations: int = 0
    held: dict[Held, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    def hold(self, reason: Held, count: int = 1) -> None:
        if count:
            self.held[reason] = self.held.get(reason, 0) + count


async def send_invitations(key: str, now: dt.datetime, mailer: Mailer) -> SendReport:
    """E-mail every invitation of an open cycle not sent yet, one letter per person."""
    cycle = await cycle_by_key(key, UnknownCycleError)
    if cycle.status != CycleStatus.open:
        raise CycleError(
            NOT_OPEN_INVITING.get(cycle.status, NOT_OPEN_INVITING[""]),
            cycle=key,
            status=cycle.status,
        )
    rows = (
        await Invitation.select(*LETTER_COLUMNS)
        .where(
            (Invitation.cycle == cycle.id) & (Invitation.status == InvitationStatus.created.value)
        )
        .order_by(Invitation.id)
    )
    tally = _Tally()
    due = []
    for row in rows:
        if (reason := _held_for_any_round(row, now)) is not None:
            tally.hold(reason)
        else:
            due.append(row)

    async def take(mine: list[Row]) -> list[Row]:
        won = (
            await Invitation.update(
                {Invitation.status: InvitationStatus.sent.value, Invitation.sent_at: now}
            )
            .where(
                Invitation.id.is_in([row["id"] for row in mine])
                & (Invitation.status == InvitationStatus.created.value)
                & Invitation.undeliverable_at.is_null()
            )
            .returning(Invitation.id)
        )
        ids = {row["id"] for row in won}
        return [row for row in mine if row["id"] in ids]

    async def give_back(mine: list[Row]) -> None:
        await Invitation.update(
            {Invitation.status: InvitationStatus.created.value, Invitation.sent_at: None}
        ).where(
            Invitation.id.is_in([row["id"] for row in mine])
            & (Invitation.status == InvitationStatus.sent.value)
        )

    await _send(_by_person(due), "invitation", now, mailer, Claim(take, give_back), tally)
    return _report("invitation", tally, mailer)


async def send_reminders(
    key: str, now: dt.datetime, mailer: Mailer, most: int, days: int
) -> SendReport:
    """Remind those who have not submitted: at most `most` times, `days` apart at least.

    The spacing counts from the last e-mail the person got (invitation or reminder), or
    from when they opened or were invited if no e-mail is recorded. One letter per person
    names every partner they are due a reminder about.
    """
    due_by = now - dt.timedelta(days=days)
    due, tally = await _reminders_due(key, now, most, days)

    async def take(mine: list[Row]) -> list[Row]:
        won = (
            await Invitation.update(
                {
                    Invitation.reminder_count: Invitation.reminder_count + 1,
                    Invitation.last_reminded_at: now,
                }
            )
            .where(
                Invitation.id.is_in([row["id"] for row in mine])
                & (Invitation.reminder_count < most)
                & (Invitation.last_reminded_at.is_null() | (Invitation.last_reminded_at <= due_by))
                & (Invitation.status != InvitationStatus.submitted.value)
                & Invitation.undeliverable_at.is_null()
            )
            .returning(Invitation.id)
        )
        ids = {row["id"] for row in won}
        return [row for row in mine if row["id"] in ids]

    async def give_back(mine: list[Row]) -> None:
        for row in mine:  # each invitation back to its own count: rare, so one by one
            await Invitation.update(
                {
                    Invitation.reminder_count: row["reminder_count"],
                    Invitation.last_reminded_at: row["last_reminded_at"],
                }
            ).where(
                (Invitation.id == row["id"])
                & (Invitation.reminder_count == row["reminder_count"] + 1)
            )

    await _send(_by_person(due), "reminder", now, mailer, Claim(take, give_back), tally)
    return _report("reminder", tally, mailer, days=days, most=most)


async def _reminders_due(
    key: str, now: dt.datetime, most: int, days: int
) -> tuple[list[Row], _Tally]:
    """The unanswered invitations of an open cycle due a reminder now, and the others
    counted by why they are held back."""
    cycle = await cycle_by_key(key, UnknownCycleError)
    if cycle.status != CycleStatus.open:
        raise CycleError(
            NOT_OPEN_REMINDING.get(cycle.status, NOT_OPEN_REMINDING[""]),
            cycle=key,
            status=cycle.status,
        )
    due_by = now - dt.timedelta(days=days)
    candidates = (
        await Invitation.select(*LETTER_COLUMNS)
        .where(
            (Invitation.cycle == cycle.id) & (Invitation.status != InvitationStatus.submitted.value)
        )
        .order_by(Invitation.id)
    )
    tally = _Tally()
    due = []
    for row in candidates:
        if (reason := _held_from_reminding(row, now, due_by, most)) is not None:
            tally.hold(reason)
        else:
            due.append(row)
    return due, tally


@dataclass(frozen=True)
class ReminderPreview:
    """Who a reminder round would e-mail now, and what it would hold back and why: the
    console's confirmation and `rapport cycle remind --dry-run`."""

    people: tuple[tuple[str, str, str, tuple[str, ...]], ...]
    """Name, e-mail, organisation and the partners the reminder names, by organisation."""
    report: SendReport
    """The round's counts as if sent (held back by reason; nothing delivered)."""


async def reminder_preview(
    key: str, now: dt.datetime, mailer: Mailer, most: int, days: int
) -> ReminderPreview:
    """What `send_reminders` would do now, without sending or marking anything."""
    due, tally = await _reminders_due(key, now, most, days)
    people = sorted(
        (
            (
                str(rows[0]["name"]),
                str(rows[0]["email"]),
                str(rows[0]["organisation"]),
                tuple(str(r["partner"]) for r in rows),
            )
            for rows in _by_person(due)
        ),
        key=lambda person: (person[2], person[0]),
    )
    tally.invitations = len(due)
    return ReminderPreview(tuple(people), _report("reminder", tally, mailer, days, most))


async def send_letters(invitation_ids: list[int], now: dt.datetime, mailer: Mailer) -> SendReport:
    """E-mail the invitation letters of the given invitations (the demo's sample links),
    one per person."""
    rows = await Invitation.select(*LETTER_COLUMNS).where(
        Invitation.id.is_in(invitation_ids or [0])
    )

    async def take(mine: list[Row]) -> list[Row]:
        return mine  # the demo shows the letters; the invitations count as sent already

    async def give_back(_mine: list[Row]) -> None:
        return None

    tally = _Tally()
    await _send(_by_person(rows), "invitation", now, mailer, Claim(take, give_back), tally)
    return _report("invitation", tally, mailer)


async def address_corrected(person_id: int) -> int:
    """Clear the undeliverable mark on a person's invitations, so the next round writes to
    them again; return how many were marked.

    The directory calls it when a person's e-mail address changes.
    """
    cleared = (
        await Invitation.update(
            {Invitation.undeliverable_at: None, Invitation.delivery_problem: None}
        )
        .where((Invitation.respondent == person_id) & Invitation.undeliverable_at.is_not_null())
        .returning(Invitation.id)
    )
    return len(cleared)


def _held_for_any_round(row: Row, now: dt.datetime) -> Held | None:
    """Why no letter of any kind may carry this invitation now; None if one may."""
    if not row["active"] or row["erased_at"] is not None:
        return Held.inactive
    if row["undeliverable_at"] is not None:
        return Held.undeliverable
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return Held.expired
    if row["token_nonce"] is None:
        return Held.issued_once
    return None


def _held_from_reminding(row: Row, now: dt.datetime, due_by: dt.datetime, most: int) -> Held | None:
    """Why this invitation gets no reminder now (an invitation never sent, the limit, the
    spacing, or any reason of `_held_for_any_round`); None if it is due one."""
    reason = _held_for_any_round(row, now)
    if reason in (Held.inactive, Held.undeliverable):
        return reason  # what the person's record says comes first: no letter would help
    if row["status"] == InvitationStatus.created.value:
        return Held.not_sent
    if reason is not None:
        return reason
    if row["reminder_count"] >= most:
        return Held.at_limit
    last = cast(
        dt.datetime,
        row["last_reminded_at"] or row["sent_at"] or row["opened_at"] or row["created_at"],
    )
    return Held.not_due if last > due_by else None


def _by_person(rows: Iterable[Row]) -> list[list[Row]]:
    """The rows grouped by respondent, in the order each person first appears."""
    people: dict[int, list[Row]] = {}
    for row in rows:
        people.setdefault(int(row["respondent"]), []).append(row)
    return list(people.values())


def _report(
    kind: str, tally: _Tally, mailer: Mailer, days: int | None = None, most: int | None = None
) -> SendReport:
    return SendReport(
        kind=kind,
        sent=tally.sent,
        invitations=tally.invitations,
        held=dict(sorted(tally.held.items(), key=lambda pair: list(Held).index(pair[0]))),
        failed=tuple(tally.failed),
        to=mailer.delivery.description,
        days=days,
        most=most,
    )


async def _send(
    people: list[list[Row]],
    kind: str,
    now: dt.datetime,
    mailer: Mailer,
    claim: Claim,
    tally: _Tally,
) -> None:
    """Deliver one letter per person, their invitations claimed first and given back if
    it cannot be sent.

    An invitation whose stored link no longer matches the server key (RAPPORT_SECRET_KEY
    was changed) is reported, not sent: its link would lead nowhere. A letter the mail
    library refuses (a line break in a name, say) is reported and the rest go on.
    """
    config = programme_scoring_config()
    # each letter waits on the mail server, not the processor: on PostgreSQL several go at
    # once (their claims are row updates); SQLite has one writer, so they go one by one
    at_once = MAIL_AT_ONCE if Invitation._meta.db.engine_type == "postgres" else 1
    turns = asyncio.Semaphore(at_once)

    async def one(rows: list[Row]) -> None:
        async with turns:
            await _send_one(rows, kind, now, mailer, claim, tally, config)

    for start in range(0, len(people), 64 * at_once):  # a slice at a time: memory stays flat
        await asyncio.gather(*(one(rows) for rows in people[start : start + 64 * at_once]))


MAIL_AT_ONCE = 8
"""Letters handed to the mail server at once, on PostgreSQL."""


async def _send_one(
    rows: list[Row],
    kind: str,
    now: dt.datetime,
    mailer: Mailer,
    claim: Claim,
    tally: _Tally,
    config: ScoringConfig,
) -> None:
    """One person's letter: their invitations claimed, the letter delivered, or the claim
    given back and the reason noted."""
    email = rows[0]["email"]
    links: dict[int, str] = {}
    once = [row for row in rows if row["token_nonce"] is None]
    tally.hold(Held.issued_once, len(once))
    rows = [row for row in rows if row["token_nonce"] is not None]
    for row in rows:
        token = link_token(mailer.secret, row["token_nonce"])
        if token_hash(token) == row["token_hash"]:
            links[row["id"]] = f"{mailer.public_url}/s/{token}"
    if len(links) < len(rows):
        tally.hold(Held.key_changed, len(rows) - len(links))
        tally.failed.append(
            f"{email}: {len(rows) - len(links)} link(s) no longer match the server key "
            "(was RAPPORT_SECRET_KEY changed?)"
        )
    wanted = [row for row in rows if row["id"] in links]
    won = await claim.take(wanted) if wanted else []
    tally.hold(Held.taken, len(wanted) - len(won))
    if not won:
        return
    try:
        letter = _letter(won, kind, links, config)
        await mailer.delivery.deliver(compose(letter, mailer.sender, now), email)
    except DeliveryError as error:
        await claim.give_back(won)
        if error.permanent:
            await _mark_undeliverable(won, error.reason, now)
        tally.hold(Held.refused if error.permanent else Held.failed, len(won))
        tally.failed.append(str(error))
        return
    except (ValueError, TypeError) as error:  # the mail library refuses the headers
        await claim.give_back(won)
        tally.hold(Held.failed, len(won))
        tally.failed.append(f"{email}: cannot be written as an e-mail ({error})")
        return
    tally.sent += 1
    tally.invitations += len(won)


def _letter(rows: list[Row], kind: str, links: dict[int, str], config: ScoringConfig) -> Letter:
    """The letter carrying a person's claimed invitations, partners in alphabetical order."""
    first = rows[0]
    rows = sorted(rows, key=lambda row: (str(row["partner"]).casefold(), row["id"]))
    closing = [row["expires_at"] or row["closes_at"] for row in rows]
    return Letter(
        cycle_id=int(first["cycle"]),
        person_id=int(first["respondent"]),
        kind=kind,
        number=0 if kind == "invitation" else max(row["reminder_count"] for row in rows) + 1,
        name=first["name"],
        email=first["email"],
        language=first["language"],
        organisation=first["organisation"],
        cycle=first["cycle_title"],
        deadline=min(moment for moment in closing if moment is not None),
        surveys=tuple(
            Survey(
                invitation_id=int(row["id"]),
                partner=row["partner"],
                link=links[row["id"]],
                privacy=privacy_note(row["direction"], row["partner"], config),
            )
            for row in rows
        ),
    )


async def _mark_undeliverable(rows: list[Row], reason: str, now: dt.datetime) -> None:
    """Mark every unanswered invitation of the person in this cycle undeliverable: the
    address itself was refused, so no letter to it would arrive."""
    first = rows[0]
    await Invitation.update(
        {Invitation.undeliverable_at: now, Invitation.delivery_problem: reason[:300]}
    ).where(
        (Invitation.cycle == first["cycle"])
        & (Invitation.respondent == first["respondent"])
        & (Invitation.status != InvitationStatus.submitted.value)
    )
