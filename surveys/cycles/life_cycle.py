"""Running a cycle: create it, open it (invite everyone), close it, reopen it.

Who is invited, for every active relationship, both sides:

- the site rates the sponsor (and its CRO, if any). If the relationship has site-side
  contacts (site staff the directory import named for that sponsor), only those rate it;
  otherwise every member of the site's staff whose role the site instrument names does.
- the relationship's sponsor- and CRO-side contacts whose roles the sponsor instrument
  names rate the site.

Only active people are invited, and a person working with the same partner through two
relationships is invited once. Opening is refused, with the reason, when nothing could be
asked in a direction (no active relationship, an instrument that names no roles, nobody
on one side). The invitations are written in one transaction; the e-mails follow
(`surveys.cycles.letters`), one per person, so a failure leaves the rest to send later.
A cycle closed too soon may be reopened, with a new closing date, until it is scored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import pandas as pd

from surveys.cycles.cycle import (
    Cycle,
    CycleError,
    CycleRecord,
    CycleStatus,
    UnknownCycleError,
    check_transition,
    checked_cycle_key,
    cycle_by_key,
)
from surveys.cycles.invitations import Invitation, InvitationStatus
from surveys.cycles.letters import SendReport, send_invitations, send_letters, send_reminders
from surveys.directory import audit
from surveys.directory.organisations import Person, Relationship, RelationshipContact
from surveys.infra.database import bulk_insert, lock_row, writing_transaction
from surveys.infra.i18n import N_, Text
from surveys.infra.mail import Mailer
from surveys.infra.tokens import link_token, new_nonce, token_hash
from surveys.instruments import Direction, Instrument

__all__ = [
    "CycleError",
    "OpenSummary",
    "SendReport",
    "UnknownCycleError",
    "close_cycle",
    "create_cycle",
    "invitees",
    "open_cycle",
    "opening_plan",
    "reopen_cycle",
    "send_invitations",
    "send_letters",
    "send_reminders",
]
"""`send_*` live in `letters`; they are named here too, beside the life-cycle they belong to."""

SIDE_WORDS = {
    Direction.site_rates_sponsor: "rate sponsors and CROs",
    Direction.sponsor_rates_site: "rate sites",
}
NO_INSTRUMENT = {
    Direction.site_rates_sponsor: N_(
        "cycle %(cycle)s has no site_rates_sponsor instrument: load one with "
        "`rapport instruments load` and create the cycle again"
    ),
    Direction.sponsor_rates_site: N_(
        "cycle %(cycle)s has no sponsor_rates_site instrument: load one with "
        "`rapport instruments load` and create the cycle again"
    ),
}
NO_ROLES = {
    Direction.site_rates_sponsor: N_(
        "instrument %(instrument)s %(version)s names no respondent roles, so no one would rate "
        "sponsors and CROs"
    ),
    Direction.sponsor_rates_site: N_(
        "instrument %(instrument)s %(version)s names no respondent roles, so no one would rate "
        "sites"
    ),
}
NOBODY = {
    Direction.site_rates_sponsor: N_(
        "cycle %(cycle)s would invite nobody to rate sponsors and CROs: no active "
        "relationship's site has active staff with the role %(roles)s"
    ),
    Direction.sponsor_rates_site: N_(
        "cycle %(cycle)s would invite nobody to rate sites: no active relationship has an "
        "active sponsor- or CRO-side contact with the role %(roles)s"
    ),
}
"""Why a cycle cannot be opened, one message per direction (the words are in the message,
so a page says them in its reader's language); `roles` are role codes."""
NOT_LOADED = {
    Direction.site_rates_sponsor: N_(
        "no site_rates_sponsor instrument is loaded: run `rapport instruments load` first"
    ),
    Direction.sponsor_rates_site: N_(
        "no sponsor_rates_site instrument is loaded: run `rapport instruments load` first"
    ),
}
NOT_LOADED_CHOSEN = {
    Direction.site_rates_sponsor: N_(
        "the instrument chosen for site rates sponsor is not a loaded version of that direction"
    ),
    Direction.sponsor_rates_site: N_(
        "the instrument chosen for sponsor rates site is not a loaded version of that direction"
    ),
}
NOT_DRAFT = {
    CycleStatus.open.value: N_("cycle %(cycle)s is open: only a draft cycle is opened"),
    CycleStatus.closed.value: N_(
        "cycle %(cycle)s is closed: only a draft cycle is opened (reopen a closed one with a new "
        "closing date)"
    ),
    CycleStatus.scored.value: N_("cycle %(cycle)s is scored: only a draft cycle is opened"),
    CycleStatus.published.value: N_("cycle %(cycle)s is published: only a draft cycle is opened"),
    "": N_("cycle %(cycle)s is %(status)s: only a draft cycle is opened"),
}
NOT_CLOSED = {
    CycleStatus.draft.value: N_(
        "cycle %(cycle)s is draft: only a closed cycle that is not scored yet can be reopened"
    ),
    CycleStatus.open.value: N_(
        "cycle %(cycle)s is open: only a closed cycle that is not scored yet can be reopened"
    ),
    CycleStatus.scored.value: N_(
        "cycle %(cycle)s is scored: only a closed cycle that is not scored yet can be reopened"
    ),
    CycleStatus.published.value: N_(
        "cycle %(cycle)s is published: only a closed cycle that is not scored yet can be reopened"
    ),
    "": N_(
        "cycle %(cycle)s is %(status)s: only a closed cycle that is not scored yet can be reopened"
    ),
}
"""A step refused in a cycle of the wrong status, one message per status (so a page says
the status in its reader's language)."""


@dataclass(frozen=True)
class OpenSummary:
    """What opening a cycle did."""

    invited: dict[str, int]
    """Invitations per direction."""
    people: int
    """People invited (each gets one e-mail)."""
    mail: SendReport


async def create_cycle(
    key: str,
    title: str,
    closes_at: dt.datetime,
    now: dt.datetime,
    actor: str = "system",
    chosen: Mapping[Direction, int] | None = None,
) -> int:
    """Create a draft cycle with the instrument version chosen for each direction, or
    (for a direction not chosen) the newest version loaded."""
    checked_cycle_key(key)
    if await Cycle.exists().where(Cycle.key == key):
        raise CycleError(N_("a cycle %(key)s exists already"), key=repr(key))
    if closes_at <= now:
        raise CycleError(
            N_("the closing date %(day)s is not in the future"), day=f"{closes_at:%Y-%m-%d}"
        )
    instruments = {}
    for direction in (Direction.site_rates_sponsor, Direction.sponsor_rates_site):
        query = Instrument.select(Instrument.id).where(Instrument.direction == direction)
        if chosen and direction in chosen:
            query = query.where(Instrument.id == chosen[direction])
        row = await query.order_by(Instrument.version, ascending=False).first()
        if row is None and chosen and direction in chosen:
            raise CycleError(NOT_LOADED_CHOSEN[direction], direction=direction.replace("_", " "))
        if row is None:
            raise CycleError(NOT_LOADED[direction], direction=direction)
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


@dataclass(frozen=True)
class _Asked:
    """An instrument as opening reads it."""

    id: int
    key: str
    version: int
    direction: str
    roles: frozenset[str]


async def _instruments(cycle: CycleRecord) -> dict[int, _Asked]:
    """The cycle's two instruments, by id."""
    rows = (
        await Instrument.select(
            Instrument.id,
            Instrument.key,
            Instrument.version,
            Instrument.direction,
            Instrument.respondent_roles,
        )
        .where(Instrument.id.is_in([cycle.site_instrument, cycle.sponsor_instrument]))
        .output(load_json=True)
    )
    return {
        row["id"]: _Asked(
            row["id"],
            row["key"],
            row["version"],
            row["direction"],
            frozenset(row["respondent_roles"] or ()),
        )
        for row in rows
    }


async def invitees(cycle: CycleRecord) -> pd.DataFrame:
    """Return who rates whom in a cycle: relationship, respondent, target, instrument, direction.

    The rule is the module's (site-side contacts, else the site's staff by role; the
    sponsor's and CRO's contacts by role); a person is invited once per partner.
    """
    asked = await _instruments(cycle)
    site_roles = asked[cycle.site_instrument].roles if cycle.site_instrument in asked else set()
    sponsor_roles = (
        asked[cycle.sponsor_instrument].roles if cycle.sponsor_instrument in asked else set()
    )
    relationships = await Relationship.select(
        Relationship.id, Relationship.sponsor, Relationship.site, Relationship.cro
    ).where(Relationship.active.eq(True))
    staff = await Person.select(Person.id, Person.organisation, Person.role).where(
        Person.active.eq(True) & Person.erased_at.is_null()
    )
    contacts = await RelationshipContact.select(
        RelationshipContact.relationship,
        RelationshipContact.person,
        RelationshipContact.person._.organisation.as_alias("organisation"),
        RelationshipContact.person._.role.as_alias("role"),
        RelationshipContact.person._.active.as_alias("active"),
        RelationshipContact.person._.erased_at.as_alias("erased_at"),
    )
    at_site: dict[int, list[int]] = {}
    for person in staff:
        if person["role"] in site_roles:
            at_site.setdefault(person["organisation"], []).append(person["id"])
    on_relationship: dict[int, list[dict[str, object]]] = {}
    for contact in contacts:
        on_relationship.setdefault(contact["relationship"], []).append(contact)
    rows = []
    for rel in sorted(relationships, key=lambda r: r["id"]):
        partners = [rel["sponsor"]] + ([rel["cro"]] if rel["cro"] is not None else [])
        named = on_relationship.get(rel["id"], [])
        site_named = [c for c in named if c["organisation"] == rel["site"]]
        site_raters = (
            [c["person"] for c in site_named if _invitable(c, site_roles)]
            if site_named
            else at_site.get(rel["site"], [])
        )
        for rater in site_raters:
            rows += [
                (rel["id"], rater, partner, cycle.site_instrument, Direction.site_rates_sponsor)
                for partner in partners
            ]
        for contact in named:
            if contact["organisation"] in partners and _invitable(contact, sponsor_roles):
                rows.append(
                    (
                        rel["id"],
                        contact["person"],
                        rel["site"],
                        cycle.sponsor_instrument,
                        Direction.sponsor_rates_site,
                    )
                )
    table = pd.DataFrame(
        rows, columns=["relationship", "respondent", "target", "instrument", "direction"]
    )
    return table.drop_duplicates(["respondent", "target"], ignore_index=True)


def _invitable(contact: dict[str, object], roles: AbstractSet[str]) -> bool:
    """Whether a named contact is active and has a role the instrument asks."""
    return bool(contact["active"]) and contact["erased_at"] is None and contact["role"] in roles


@dataclass(frozen=True)
class OpeningPlan:
    """What opening a cycle would do, or why it cannot."""

    cycle: CycleRecord
    invitees: pd.DataFrame
    """As `invitees` returns it."""
    problems: tuple[Text, ...]
    """Why opening is refused (empty: it may open), each for a page to say in its reader's
    language (the English is `message % values`)."""


async def opening_plan(key: str) -> OpeningPlan:
    """Return who opening cycle `key` would invite, and every reason it would be refused."""
    cycle = await cycle_by_key(key, UnknownCycleError)
    asked = await _instruments(cycle)
    problems = []
    for instrument_id, direction in (
        (cycle.site_instrument, Direction.site_rates_sponsor),
        (cycle.sponsor_instrument, Direction.sponsor_rates_site),
    ):
        found = asked.get(instrument_id)
        if found is None or found.direction != direction:
            problems.append(Text(NO_INSTRUMENT[direction], {"cycle": key, "direction": direction}))
        elif not found.roles:
            values = {"instrument": found.key, "version": f"v{found.version}"}
            problems.append(Text(NO_ROLES[direction], values))
    table = await invitees(cycle)
    if not await Relationship.exists().where(Relationship.active.eq(True)):
        problems.append(
            Text(
                N_(
                    "cycle %(cycle)s would invite nobody: there is no active relationship "
                    "(import the directory with `rapport organisations import`)"
                ),
                {"cycle": key},
            )
        )
    elif not problems:
        for direction, instrument_id in (
            (Direction.site_rates_sponsor, cycle.site_instrument),
            (Direction.sponsor_rates_site, cycle.sponsor_instrument),
        ):
            if not (table["direction"] == direction).any():
                problems.append(_nobody(key, direction, asked[instrument_id].roles))
    return OpeningPlan(cycle, table, tuple(problems))


def _nobody(key: str, direction: str, roles: frozenset[str]) -> Text:
    """Why no one would answer in `direction`, naming the roles looked for (role codes, as
    the directory file writes them)."""
    return Text(NOBODY[Direction(direction)], {"cycle": key, "roles": " or ".join(sorted(roles))})


async def open_cycle(
    key: str,
    now: dt.datetime,
    mailer: Mailer,
    actor: str = "system",
    progress: Callable[[str], None] | None = None,
) -> OpenSummary:
    """Open a draft cycle: invite everyone (one transaction), then e-mail each person once."""
    say = progress or (lambda _step: None)
    cycle = await cycle_by_key(key, UnknownCycleError)
    if cycle.status != CycleStatus.draft:
        raise CycleError(NOT_DRAFT.get(cycle.status, NOT_DRAFT[""]), cycle=key, status=cycle.status)
    check_transition(cycle.status, CycleStatus.open)
    if cycle.closes_at is None or cycle.closes_at <= now:
        raise CycleError(
            N_("cycle %(cycle)s closes on %(day)s: set a later date"),
            cycle=key,
            day=f"{cycle.closes_at:%Y-%m-%d}",
        )
    plan = await opening_plan(key)
    if plan.problems:
        raise CycleError("; ".join(problem.message % problem.values for problem in plan.problems))
    table = plan.invitees.copy()
    say(f"inviting {table['respondent'].nunique():,} people ({len(table):,} invitations)")
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
            raise CycleError(
                N_("cycle %(cycle)s changed status meanwhile; nothing was done"), cycle=key
            )
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
    return OpenSummary(invited=invited, people=int(table["respondent"].nunique()), mail=report)


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
            raise CycleError(
                N_("cycle %(cycle)s changed status meanwhile; nothing was done"), cycle=key
            )
        await audit.record(actor, "cycle.close", "cycle", cycle.id, {"key": key})
        submitted = await Invitation.count().where(
            (Invitation.cycle == cycle.id) & (Invitation.status == InvitationStatus.submitted.value)
        )
    return int(submitted)


async def reopen_cycle(key: str, closes_at: dt.datetime, actor: str, now: dt.datetime) -> int:
    """Reopen a closed cycle that is not scored yet, until `closes_at`: its unanswered links
    take answers again. Return how many invitations are still unanswered.

    For a cycle closed too soon (one side had not answered); once scored, a cycle stays
    closed, since its results may have been read.
    """
    cycle = await cycle_by_key(key, UnknownCycleError)
    if cycle.status != CycleStatus.closed:
        raise CycleError(
            NOT_CLOSED.get(cycle.status, NOT_CLOSED[""]), cycle=key, status=cycle.status
        )
    check_transition(cycle.status, CycleStatus.open)
    if closes_at <= now:
        raise CycleError(
            N_("the new closing date %(day)s is not in the future"), day=f"{closes_at:%Y-%m-%d}"
        )
    async with writing_transaction(Cycle._meta.db):
        await lock_row(Cycle, cycle.id)
        moved = (
            await Cycle.update(
                {
                    Cycle.status: CycleStatus.open.value,
                    Cycle.closes_at: closes_at,
                    Cycle.status_changed_at: now,
                }
            )
            .where((Cycle.id == cycle.id) & (Cycle.status == cycle.status))
            .returning(Cycle.id)
        )
        if not moved:
            raise CycleError(
                N_("cycle %(cycle)s changed status meanwhile; nothing was done"), cycle=key
            )
        unanswered = (
            await Invitation.update({Invitation.expires_at: closes_at})
            .where(
                (Invitation.cycle == cycle.id)
                & (Invitation.status != InvitationStatus.submitted.value)
            )
            .returning(Invitation.id)
        )
        await audit.record(
            actor,
            "cycle.reopen",
            "cycle",
            cycle.id,
            {
                "key": key,
                "closed_on": f"{cycle.closes_at:%Y-%m-%d}" if cycle.closes_at else None,
                "closes_on": f"{closes_at:%Y-%m-%d}",
            },
        )
    return len(unanswered)
