"""Running a cycle: create it, open it (invite everyone), close it, and report on it.

Opening a cycle invites, for every active relationship, both sides: the site's staff
whose roles the site instrument names rate the sponsor (and its CRO), and the
relationship's sponsor and CRO contacts whose roles the sponsor instrument names rate
the site. The invitations are written in one transaction; the e-mails follow, each
marked sent once it is delivered, so a failure leaves the rest to send again later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from scoring.config import ScoringConfig
from surveys.cycles.cycle import Cycle, CycleRecord, CycleStatus, check_transition, cycle_by_key
from surveys.cycles.invitations import Invitation, InvitationStatus
from surveys.directory import audit
from surveys.directory.organisations import Person, Relationship, RelationshipContact
from surveys.infra.database import bulk_insert, lock_row, writing_transaction
from surveys.infra.errors import RapportError
from surveys.infra.mail import DeliveryError, Letter, Mailer, compose
from surveys.infra.tokens import link_token, new_nonce, token_hash
from surveys.instruments import Direction, Instrument
from surveys.instruments.questionnaires import privacy_note


class CycleError(RapportError):
    """A cycle cannot be created or changed as asked; the message says why."""


class UnknownCycleError(CycleError):
    """No cycle has the key asked for."""


@dataclass(frozen=True)
class SendReport:
    """What a round of e-mails did: sent, and what failed (to send again later)."""

    sent: int
    failed: tuple[str, ...]
    """One line per message the delivery would not take: to whom, and why."""
    skipped: int = 0
    """Invitations whose link was issued once and cannot be repeated in an e-mail."""
    to: str = ""
    """Where the messages went: the outbox folder or the mail server."""


@dataclass(frozen=True)
class OpenSummary:
    """What opening a cycle did."""

    invited: dict[str, int]
    """Invitations per direction."""
    mail: SendReport


async def create_cycle(
    key: str, title: str, closes_at: dt.datetime, now: dt.datetime, actor: str = "system"
) -> int:
    """Create a draft cycle using the newest loaded version of each default instrument."""
    if await Cycle.exists().where(Cycle.key == key):
        raise CycleError(f"a cycle {key!r} exists already")
    if closes_at <= now:
        raise CycleError(f"the closing date {closes_at:%Y-%m-%d} is not in the future")
    instruments = {}
    for direction in (Direction.site_rates_sponsor, Direction.sponsor_rates_site):
        row = (
            await Instrument.select(Instrument.id)
            .where(Instrument.direction == direction)
            .order_by(Instrument.version, ascending=False)
            .first()
        )
        if row is None:
            raise CycleError(
                f"no {direction} instrument is loaded: run `rapport instruments load` first"
            )
        instruments[direction] = row["id"]
    async with writing_transaction(Cycle._meta.db):
        cycle = Cycle(
            key=key,
            title=title or key,
            status=CycleStatus.draft.value,
            site_instrument=instruments[Direction.site_rates_sponsor],
            sponsor_instrument=instruments[Direction.sponsor_rates_site],
            closes_at=closes_at,
            created_at=now,
            status_changed_at=now,
        )
        await cycle.save()
        await audit.record(actor, "cycle.create", "cycle", cycle.id, {"key": key})
    return int(cycle.id)


async def invitees(cycle: CycleRecord) -> pd.DataFrame:
    """Return who rates whom in a cycle: relationship, respondent, target, instrument, direction.

    A person working with the same partner through two relationships is invited once.
    """
    roles = {
        row["id"]: (row["direction"], set(row["respondent_roles"]))
        for row in await Instrument.select(
            Instrument.id, Instrument.direction, Instrument.respondent_roles
        )
        .where(Instrument.id.is_in([cycle.site_instrument, cycle.sponsor_instrument]))
        .output(load_json=True)
    }
    site_roles = roles[cycle.site_instrument][1]
    sponsor_roles = roles[cycle.sponsor_instrument][1]
    relationships = await Relationship.select(
        Relationship.id, Relationship.sponsor, Relationship.site, Relationship.cro
    ).where(Relationship.active.eq(True))
    staff = await Person.select(Person.id, Person.organisation, Person.role).where(
        Person.active.eq(True)
    )
    contacts = await RelationshipContact.select(
        RelationshipContact.relationship,
        RelationshipContact.person,
        RelationshipContact.person._.role.as_alias("role"),
        RelationshipContact.person._.active.as_alias("active"),
    )
    at_site: dict[int, list[int]] = {}
    for person in staff:
        if person["role"] in site_roles:
            at_site.setdefault(person["organisation"], []).append(person["id"])
    on_relationship: dict[int, list[int]] = {}
    for contact in contacts:
        if contact["active"] and contact["role"] in sponsor_roles:
            on_relationship.setdefault(contact["relationship"], []).append(contact["person"])
    rows = []
    for rel in sorted(relationships, key=lambda r: r["id"]):
        partners = [rel["sponsor"]] + ([rel["cro"]] if rel["cro"] is not None else [])
        for rater in at_site.get(rel["site"], []):
            rows += [
                (rel["id"], rater, partner, cycle.site_instrument, Direction.site_rates_sponsor)
                for partner in partners
            ]
        for rater in on_relationship.get(rel["id"], []):
            rows.append(
                (
                    rel["id"],
                    rater,
                    rel["site"],
                    cycle.sponsor_instrument,
                    Direction.sponsor_rates_site,
                )
            )
    table = pd.DataFrame(
        rows, columns=["relationship", "respondent", "target", "instrument", "direction"]
    )
    return table.drop_duplicates(["respondent", "target"], ignore_index=True)


async def open_cycle(
    key: str,
    now: dt.datetime,
    mailer: Mailer,
    actor: str = "system",
    progress: Callable[[str], None] | None = None,
) -> OpenSummary:
    """Open a draft cycle: invite everyone (one transaction), then e-mail each invitation."""
    say = progress or (lambda _step: None)
    cycle = await cycle_by_key(key, UnknownCycleError)
    check_transition(cycle.status, CycleStatus.open)
    if cycle.closes_at is None or cycle.closes_at <= now:
        raise CycleError(f"cycle {key} closes on {cycle.closes_at:%Y-%m-%d}: set a later date")
    table = await invitees(cycle)
    if table.empty:
        raise CycleError(f"cycle {key} would invite nobody: no active relationship has contacts")
    say(f"inviting {len(table):,} people")
    table["nonce"] = [new_nonce() for _ in range(len(table))]
    async with writing_transaction(Cycle._meta.db):
        moved = (
            await Cycle.update(
                {
                    Cycle.status: CycleStatus.open.value,
                    Cycle.opens_at: now,
                    Cycle.status_changed_at: now,
                }
            )
            .where((Cycle.id == cycle.id) & (Cycle.status == cycle.status))
            .returning(Cycle.id)
        )
        if not moved:
            raise CycleError(f"cycle {key} changed status meanwhile; nothing was done")
        await bulk_insert(
            Invitation,
            [
                "cycle",
                "relationship",
                "instrument",
                "respondent",
                "target",
                "token_hash",
                "token_nonce",
                "status",
                "created_at",
                "expires_at",
                "reminder_count",
            ],
            [
                (
                    cycle.id,
                    int(r.relationship),
                    int(r.instrument),
                    int(r.respondent),
                    int(r.target),
                    token_hash(link_token(mailer.secret, r.nonce)),
                    r.nonce,
                    InvitationStatus.created.value,
                    now,
                    cycle.closes_at,
                    0,
                )
                for r in table.itertuples()
            ],
        )
        await audit.record(
            actor,
            "cycle.open",
            "cycle",
            cycle.id,
            {"key": key, "invitations": len(table)},
        )
    say("sending invitations")
    report = await send_invitations(key, now, mailer)
    invited = table.groupby("direction").size().astype(int).to_dict()
    return OpenSummary(invited=invited, mail=report)


LETTER_COLUMNS = (
    Invitation.id,
    Invitation.token_nonce,
    Invitation.token_hash,
    Invitation.expires_at,
    Invitation.reminder_count,
    Invitation.sent_at,
    Invitation.last_reminded_at,
    Invitation.respondent._.name.as_alias("name"),
    Invitation.respondent._.email.as_alias("email"),
    Invitation.respondent._.language.as_alias("language"),
    Invitation.respondent._.organisation._.name.as_alias("organisation"),
    Invitation.target._.name.as_alias("partner"),
    Invitation.instrument._.direction.as_alias("direction"),
    Invitation.cycle._.title.as_alias("cycle"),
)


@dataclass(frozen=True)
class Claim:
    """Taking a row for one letter before sending it, and giving it back if sending fails.

    The claim is a conditional update: of two runs at once (a retried API call, say),
    only one wins each row, so no one gets the same letter twice.
    """

    take: Callable[[dict[str, Any]], Awaitable[bool]]
    give_back: Callable[[dict[str, Any]], Awaitable[None]]


async def send_invitations(key: str, now: dt.datetime, mailer: Mailer) -> SendReport:
    """E-mail every invitation of a cycle not sent yet (all of them, or those that failed)."""
    rows = (
        await Invitation.select(*LETTER_COLUMNS)
        .where(
            (Invitation.cycle._.key == key)
            & (Invitation.status == InvitationStatus.created.value)
            & Invitation.token_nonce.is_not_null()
        )
        .order_by(Invitation.id)
    )

    async def take(row: dict[str, Any]) -> bool:
        won = (
            await Invitation.update(
                {Invitation.status: InvitationStatus.sent.value, Invitation.sent_at: now}
            )
            .where(
                (Invitation.id == row["id"]) & (Invitation.status == InvitationStatus.created.value)
            )
            .returning(Invitation.id)
        )
        return bool(won)

    async def give_back(row: dict[str, Any]) -> None:
        await Invitation.update(
            {Invitation.status: InvitationStatus.created.value, Invitation.sent_at: None}
        ).where((Invitation.id == row["id"]) & (Invitation.status == InvitationStatus.sent.value))

    return await _send(rows, "invitation", now, mailer, Claim(take, give_back))


async def send_reminders(
    key: str, now: dt.datetime, mailer: Mailer, most: int, days: int
) -> SendReport:
    """Remind those who have not submitted: at most `most` times, `days` apart at least.

    The spacing counts from the last e-mail the person got (invitation or reminder), or
    from when they opened or were invited if no e-mail is recorded; an expired link is
    not reminded.
    """
    cycle = await cycle_by_key(key, UnknownCycleError)
    if cycle.status != CycleStatus.open:
        raise CycleError(f"cycle {key} is {cycle.status}: only an open cycle's people are reminded")
    due = now - dt.timedelta(days=days)
    candidates = (
        await Invitation.select(*LETTER_COLUMNS, Invitation.opened_at, Invitation.created_at)
        .where(
            (Invitation.cycle == cycle.id)
            & Invitation.status.is_in(
                [
                    InvitationStatus.sent.value,
                    InvitationStatus.opened.value,
                    InvitationStatus.in_progress.value,
                ]
            )
            & (Invitation.reminder_count < most)
        )
        .order_by(Invitation.id)
    )

    def last_contact(row: dict[str, Any]) -> dt.datetime:
        return cast(
            dt.datetime,
            row["last_reminded_at"] or row["sent_at"] or row["opened_at"] or row["created_at"],
        )

    rows = [
        row
        for row in candidates
        if last_contact(row) <= due and (row["expires_at"] is None or row["expires_at"] > now)
    ]

    async def take(row: dict[str, Any]) -> bool:
        won = (
            await Invitation.update(
                {
                    Invitation.reminder_count: row["reminder_count"] + 1,
                    Invitation.last_reminded_at: now,
                }
            )
            .where(
                (Invitation.id == row["id"]) & (Invitation.reminder_count == row["reminder_count"])
            )
            .returning(Invitation.id)
        )
        return bool(won)

    async def give_back(row: dict[str, Any]) -> None:
        await Invitation.update(
            {
                Invitation.reminder_count: row["reminder_count"],
                Invitation.last_reminded_at: row["last_reminded_at"],
            }
        ).where(
            (Invitation.id == row["id"]) & (Invitation.reminder_count == row["reminder_count"] + 1)
        )

    return await _send(rows, "reminder", now, mailer, Claim(take, give_back))


async def send_letters(invitation_ids: list[int], now: dt.datetime, mailer: Mailer) -> SendReport:
    """E-mail the invitation letters of the given invitations (the demo's sample links)."""
    rows = await Invitation.select(*LETTER_COLUMNS).where(Invitation.id.is_in(invitation_ids))

    async def take(_row: dict[str, Any]) -> bool:
        return True  # the demo shows the letters; the invitations count as sent already

    async def give_back(_row: dict[str, Any]) -> None:
        return None

    return await _send(rows, "invitation", now, mailer, Claim(take, give_back))


async def _send(
    rows: list[dict[str, Any]], kind: str, now: dt.datetime, mailer: Mailer, claim: Claim
) -> SendReport:
    """Deliver one letter per row, each claimed first and given back if it cannot be sent.

    A row whose stored link no longer matches the server key (RAPPORT_SECRET_KEY was
    changed) is reported, not sent: its link would lead nowhere. A letter the mail
    library refuses (a line break in a name, say) is reported and the rest go on.
    """
    config = ScoringConfig()
    sent, failed, skipped = 0, [], 0
    for row in rows:
        if row["token_nonce"] is None:
            skipped += 1
            continue
        token = link_token(mailer.secret, row["token_nonce"])
        if token_hash(token) != row["token_hash"]:
            failed.append(
                f"{row['email']}: the link no longer matches the server key "
                "(was RAPPORT_SECRET_KEY changed?)"
            )
            continue
        if not await claim.take(row):
            continue  # another run is sending this one
        letter = Letter(
            invitation_id=row["id"],
            kind=kind,
            number=0 if kind == "invitation" else row["reminder_count"] + 1,
            name=row["name"],
            email=row["email"],
            language=row["language"],
            organisation=row["organisation"],
            partner=row["partner"],
            cycle=row["cycle"],
            deadline=row["expires_at"],
            link=f"{mailer.public_url}/s/{token}",
            privacy=privacy_note(row["direction"], row["partner"], config),
        )
        try:
            await mailer.delivery.deliver(compose(letter, mailer.sender, now), letter.email)
        except DeliveryError as error:
            await claim.give_back(row)
            failed.append(str(error))
            continue
        except (ValueError, TypeError) as error:  # the mail library refuses the headers
            await claim.give_back(row)
            failed.append(f"{row['email']}: cannot be written as an e-mail ({error})")
            continue
        sent += 1
    return SendReport(sent, tuple(failed), skipped, mailer.delivery.description)


async def close_cycle(key: str, now: dt.datetime, actor: str = "system") -> int:
    """Close an open cycle: its links stop taking answers. Return the responses submitted."""
    cycle = await cycle_by_key(key, UnknownCycleError)
    check_transition(cycle.status, CycleStatus.closed)
    async with writing_transaction(Cycle._meta.db):
        await lock_row(Cycle, cycle.id)  # waits for answers being saved right now
        moved = (
            await Cycle.update(
                {Cycle.status: CycleStatus.closed.value, Cycle.status_changed_at: now}
            )
            .where((Cycle.id == cycle.id) & (Cycle.status == cycle.status))
            .returning(Cycle.id)
        )
        if not moved:
            raise CycleError(f"cycle {key} changed status meanwhile; nothing was done")
        await audit.record(actor, "cycle.close", "cycle", cycle.id, {"key": key})
        submitted = await Invitation.count().where(
            (Invitation.cycle == cycle.id) & (Invitation.status == InvitationStatus.submitted.value)
        )
    return int(submitted)


STAGES = ("invited", "opened", "in_progress", "submitted")


async def cycle_report(key: str) -> tuple[CycleRecord, pd.DataFrame]:
    """Return the cycle and, per rating organisation and direction, how far its people got.

    Columns: organisation, direction, invited, opened, in_progress, submitted,
    response_rate. Each stage counts those who got at least that far.
    """
    cycle = await cycle_by_key(key, UnknownCycleError)
    rows = await Invitation.select(
        Invitation.respondent._.organisation._.name.as_alias("organisation"),
        Invitation.instrument._.direction.as_alias("direction"),
        Invitation.status,
    ).where(Invitation.cycle == cycle.id)
    table = pd.DataFrame(rows, columns=["organisation", "direction", "status"])
    order = {"created": 0, "sent": 0, "opened": 1, "in_progress": 2, "submitted": 3}
    reached = table["status"].map(order)
    for level, stage in enumerate(STAGES):
        table[stage] = (reached >= level).astype(int)
    report = table.groupby(["organisation", "direction"], as_index=False)[list(STAGES)].sum()
    report["response_rate"] = report["submitted"] / report["invited"]
    return cycle, report.sort_values(["direction", "organisation"], ignore_index=True)
