"""Writing a synthetic world into the database, once: a second build reuses the first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.directory import audit
from surveys.directory.organisations import (
    Organisation,
    Person,
    Relationship,
    RelationshipContact,
    TherapeuticArea,
)
from surveys.infra.database import (
    bulk_insert,
    db_value,
    lock_for_explicit_ids,
    next_id,
    reset_id_sequence,
    writing_transaction,
)
from surveys.infra.errors import RapportError
from surveys.infra.tokens import link_token, new_nonce, new_token, token_hash
from surveys.instruments import (
    Direction,
    Instrument,
    Item,
    bundled_instrument_paths,
    bundled_specs_by_key,
    load_instruments,
)
from surveys.responses.answers import Answer, Response
from surveys.world._model import World, WorldParameters, cycle_window, generate_world
from surveys.world._tables import SimulatedWorld, TrueScore

ANSWER_SLICE = 200_000
"""Answers written per batch when storing a world."""

Progress = Callable[[str], None]
"""Told the name of each step as it starts."""


class WorldConflictError(RapportError):
    """The database already holds a different world (or organisations that clash with it)."""


@dataclass(frozen=True)
class WorldSummary:
    """What a build did and what the world holds."""

    world_id: int
    reused: bool
    parameters: dict[str, Any]
    organisations: int
    persons: int
    relationships: int
    cycles: int
    responses: int
    answers: int


def bundled_specs() -> dict[str, Any]:
    """Return the default instruments' specifications keyed by direction."""
    return {spec.direction: spec for spec in bundled_specs_by_key().values()}


async def build_world(
    parameters: WorldParameters, actor: str = "system", progress: Progress | None = None
) -> WorldSummary:
    """Build the world for `parameters` into the database, or reuse the one already there.

    Everything is written in one transaction: an interrupted build leaves nothing behind.
    """
    say = progress or (lambda _step: None)
    say("loading the default instruments")
    await load_instruments(bundled_instrument_paths(), actor=actor)
    world: World | None = None
    engine = Organisation._meta.db
    async with writing_transaction(engine):
        # the checks run inside the write lock, so two builds cannot both pass them
        await lock_for_explicit_ids(
            [Organisation, Person, Relationship, Invitation, Response, SimulatedWorld, Cycle]
        )
        existing = await SimulatedWorld.select().output(load_json=True).first()
        if existing:
            if existing["parameters"] != parameters.as_dict():
                raise WorldConflictError(
                    f"this database already holds a demo world built with "
                    f"{existing['parameters']}; point DATABASE_URL at a fresh database "
                    "to build another"
                )
            world_id, reused = existing["id"], True
        else:
            say("generating the world")
            world = generate_world(parameters, bundled_specs())
            await _refuse_clashes(world)
            world_id, reused = await _write(world, say), False
            await audit.record(
                actor, "world.build", "simulated_world", world_id, parameters.as_dict()
            )
    return await _summary(world_id, parameters.as_dict(), reused=reused)


async def _refuse_clashes(world: World) -> None:
    """Raise WorldConflictError if the world's names are already taken in this database."""
    checks = [
        ("organisation slug", Organisation, Organisation.slug, world.organisations["slug"]),
        ("person e-mail", Person, Person.email, world.persons["email"]),
        ("cycle", Cycle, Cycle.key, world.cycles["key"]),
    ]
    for label, table, column, values in checks:
        taken = await table.select(column).where(column.is_in(values.tolist())).limit(3)
        if taken:
            examples = ", ".join(str(row[column._meta.name]) for row in taken)
            raise WorldConflictError(
                f"the demo world's {label}s already exist in this database (e.g. {examples}); "
                "point DATABASE_URL at a fresh database"
            )


async def _summary(world_id: int, parameters: dict[str, Any], reused: bool) -> WorldSummary:
    return WorldSummary(
        world_id=world_id,
        reused=reused,
        parameters=parameters,
        organisations=await Organisation.count(),
        persons=await Person.count(),
        relationships=await Relationship.count(),
        cycles=await Cycle.count(),
        responses=await Response.count(),
        answers=await Answer.count(),
    )


async def _write(world: World, say: Progress) -> int:
    epoch = cycle_window(world.cycles["key"].iloc[0])[0] - dt.timedelta(days=365)
    ids: dict[str, int] = {}
    for table in (Organisation, Person, Relationship, Invitation, Response, SimulatedWorld):
        ids[table._meta.tablename] = await next_id(table)

    def org_id(ref: Any) -> int | None:
        ref = db_value(ref)
        return None if ref is None else ids["organisation"] + int(ref)

    say("writing organisations and people")
    await SimulatedWorld.insert(
        SimulatedWorld(
            id=ids["simulated_world"],
            seed=world.parameters.seed,
            parameters=world.parameters.as_dict(),
            created_at=epoch,
        )
    )
    orgs = world.organisations
    # networks and sponsors first, so a site's network and a CRO's sponsor exist when they are named
    order = orgs.sort_values(
        "kind", key=lambda k: k.map({"network": 0, "sponsor": 1, "cro": 2, "site": 3})
    )
    await bulk_insert(
        Organisation,
        ["id", "slug", "name", "kind", "country", "network", "acts_for", "active", "created_at"],
        [
            (
                org_id(o.ref),
                o.slug,
                o.name,
                o.kind,
                db_value(o.country),
                org_id(o.network),
                org_id(o.acts_for),
                True,
                epoch,
            )
            for o in order.itertuples()
        ],
    )
    await bulk_insert(
        TherapeuticArea,
        ["organisation", "area"],
        [(org_id(a.organisation), a.area) for a in world.areas.itertuples()],
    )
    await bulk_insert(
        Person,
        ["id", "organisation", "name", "email", "role", "language", "active", "created_at"],
        [
            (
                ids["person"] + int(p.ref),
                org_id(p.organisation),
                p.name,
                p.email,
                p.role,
                p.language,
                True,
                epoch,
            )
            for p in world.persons.itertuples()
        ],
    )
    await bulk_insert(
        Relationship,
        ["id", "sponsor", "site", "cro", "active", "started_on"],
        [
            (
                ids["relationship"] + int(r.ref),
                org_id(r.sponsor),
                org_id(r.site),
                org_id(r.cro),
                True,
                epoch,
            )
            for r in world.relationships.itertuples()
        ],
    )
    await bulk_insert(
        RelationshipContact,
        ["relationship", "person"],
        [
            (ids["relationship"] + int(c.relationship), ids["person"] + int(c.person))
            for c in world.contacts.itertuples()
        ],
    )

    say("writing cycles and invitations")
    instruments: dict[str, int] = {}
    for direction, spec in world.instruments.items():
        row = (
            await Instrument.select(Instrument.id)
            .where((Instrument.key == spec.key) & (Instrument.version == spec.version))
            .first()
        )
        instruments[direction] = row["id"]
    cycle_ids: dict[str, int] = {}
    for c in world.cycles.itertuples():
        cycle = Cycle(
            key=c.key,
            title=f"{c.key} partnership survey",
            status=c.status,
            site_instrument=instruments[Direction.site_rates_sponsor],
            sponsor_instrument=instruments[Direction.sponsor_rates_site],
            opens_at=db_value(c.opens_at),
            closes_at=db_value(c.closes_at),
            created_at=epoch,
            status_changed_at=db_value(c.closes_at if c.status == "closed" else c.opens_at),
        )
        await cycle.save()
        cycle_ids[c.key] = int(cycle.id)
    closes = {c.key: db_value(c.closes_at) for c in world.cycles.itertuples()}
    invitations = world.invitations
    await bulk_insert(
        Invitation,
        [
            "id",
            "cycle",
            "relationship",
            "instrument",
            "respondent",
            "target",
            "token_hash",
            "status",
            "created_at",
            "sent_at",
            "opened_at",
            "submitted_at",
            "expires_at",
            "reminder_count",
        ],
        [
            (
                ids["invitation"] + int(i.ref),
                cycle_ids[i.cycle],
                ids["relationship"] + int(i.relationship),
                instruments[i.direction],
                ids["person"] + int(i.respondent),
                org_id(i.target),
                token_hash(new_token()),
                i.status,
                db_value(i.sent_at),
                db_value(i.sent_at),
                db_value(i.opened_at),
                db_value(i.submitted_at),
                closes[i.cycle],
                0,
            )
            for i in invitations.itertuples()
        ],
    )

    say("writing responses and answers")
    response_id = {
        int(ref): ids["response"] + n for n, ref in enumerate(world.responses["invitation"])
    }
    await bulk_insert(
        Response,
        ["id", "invitation", "status", "language", "started_at", "updated_at", "submitted_at"],
        [
            (
                response_id[int(r.invitation)],
                ids["invitation"] + int(r.invitation),
                r.status,
                r.language,
                db_value(r.started_at),
                db_value(r.submitted_at) or db_value(r.started_at),
                db_value(r.submitted_at),
            )
            for r in world.responses.itertuples()
        ],
    )
    item_ids = {
        (row["instrument"], row["key"]): row["id"]
        for row in await Item.select(Item.id, Item.instrument, Item.key).where(
            Item.instrument.is_in(list(instruments.values()))
        )
    }
    # answers are the bulk of a world: build their rows column-wise, a slice at a time,
    # so memory stays flat however large the world
    answers = world.answers
    direction_of = dict(zip(invitations["ref"], invitations["direction"], strict=True))
    item_id_of = {f"{i}:{k}": v for (i, k), v in item_ids.items()}
    for start in range(0, len(answers), ANSWER_SLICE):
        part = answers.iloc[start : start + ANSWER_SLICE]
        item_key = part["invitation"].map(direction_of).map(instruments).astype(str)
        values = part["value"].astype(object)
        texts = part["text"].astype(object)
        await bulk_insert(
            Answer,
            ["response", "item", "value", "not_applicable", "text"],
            list(
                zip(
                    part["invitation"].map(response_id).tolist(),
                    (item_key + ":" + part["item"]).map(item_id_of).tolist(),
                    values.where(part["value"].notna(), None).tolist(),
                    part["not_applicable"].astype(bool).tolist(),
                    texts.where(part["text"].notna(), None).tolist(),
                    strict=True,
                )
            ),
        )

    say("writing the truth")
    await bulk_insert(
        TrueScore,
        ["world", "cycle", "target", "scope", "key", "value", "profile"],
        [
            (
                ids["simulated_world"],
                cycle_ids[t.cycle],
                org_id(t.target),
                t.scope,
                t.key,
                float(t.value),
                t.profile,
            )
            for t in world.truth.itertuples()
        ],
    )
    for table in (Organisation, Person, Relationship, Invitation, Response, SimulatedWorld):
        await reset_id_sequence(table)
    return ids["simulated_world"]


DEMO_OPEN_DAYS = 28
"""How long the demo's open cycle stays open after each `rapport demo`."""


async def keep_open_cycles_open(now: dt.datetime) -> None:
    """Keep the open cycles, and their links, open for DEMO_OPEN_DAYS from `now`.

    The synthetic world's cycles have fixed dates (its open cycle closes on 1 December
    2026), so without this a demo, or a test that answers a survey, would find that cycle
    closed once the calendar had passed it.
    """
    closes = now + dt.timedelta(days=DEMO_OPEN_DAYS)
    async with writing_transaction(Cycle._meta.db):
        open_cycles = [
            row["id"] for row in await Cycle.select(Cycle.id).where(Cycle.status == "open")
        ]
        if open_cycles:
            await Cycle.update({Cycle.closes_at: closes}).where(
                Cycle.id.is_in(open_cycles) & (Cycle.closes_at < closes)
            )
            await Invitation.update({Invitation.expires_at: closes}).where(
                Invitation.cycle.is_in(open_cycles) & (Invitation.expires_at < closes)
            )


async def sample_links(
    base_url: str, now: dt.datetime, secret: str, count: int = 3
) -> list[dict[str, Any]]:
    """Issue fresh links for a few open invitations (one per language where possible).

    Only hashes are stored, so the demo cannot show an existing link: it replaces the
    token of a handful of invitations and prints those links instead. The synthetic
    world's open cycle has fixed dates, so a demo run months later would hand out links
    to a closed survey; each run therefore keeps that cycle open for DEMO_OPEN_DAYS more.
    """
    if not await SimulatedWorld.exists():
        return []
    await keep_open_cycles_open(now)
    rows = (
        await Invitation.select(
            Invitation.id,
            Invitation.respondent.name,
            Invitation.respondent.language,
            Invitation.target.name,
        )
        .where((Invitation.cycle.status == "open") & (Invitation.status.is_in(["created", "sent"])))
        .order_by(Invitation.id)
    )
    chosen: list[dict[str, Any]] = []
    languages: set[str] = set()
    for row in rows:
        if row["respondent.language"] not in languages:
            chosen.append(row)
            languages.add(row["respondent.language"])
        if len(chosen) == count:
            break
    links = []
    for row in chosen:
        # a derivable link (like a real cycle's), so the demo can also e-mail it
        nonce = new_nonce()
        token = link_token(secret, nonce)
        await Invitation.update(
            {Invitation.token_hash: token_hash(token), Invitation.token_nonce: nonce}
        ).where(Invitation.id == row["id"])
        links.append(
            {
                "url": f"{base_url}/s/{token}",
                "respondent": row["respondent.name"],
                "language": row["respondent.language"],
                "target": row["target.name"],
                "invitation": row["id"],
            }
        )
    return links
