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
from surveys.infra.tokens import new_token, token_hash
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

EXPLICIT_IDS = (Organisation, Person, Relationship, Invitation, Response, SimulatedWorld)
"""Tables a world is written into with ids of its own choosing, locked while it is written."""


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
        await lock_for_explicit_ids([*EXPLICIT_IDS, Cycle])
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


@dataclass(frozen=True)
class _Placement:
    """A generated world as this database will hold it: the world, the day its directory
    begins, and the first free id of each table written with explicit ids. A row's 0-based
    `ref` is its offset from there, so rows can name each other before they are written."""

    world: World
    epoch: dt.datetime
    first_ids: dict[str, int]
    """Table name → its first free id."""

    def id_of(self, table: str, ref: Any) -> int:
        """The id the row `ref` of `table` is written with."""
        return self.first_ids[table] + int(ref)

    def org_id(self, ref: Any) -> int | None:
        """An organisation's id, or None where the world names none (a site without a network)."""
        ref = db_value(ref)
        return None if ref is None else self.id_of("organisation", ref)


async def _write(world: World, say: Progress) -> int:
    """Write a generated world; return its SimulatedWorld id. Each step writes whole tables
    with one bulk insert, in the order their foreign keys need."""
    first_ids = {table._meta.tablename: await next_id(table) for table in EXPLICIT_IDS}
    epoch = cycle_window(world.cycles["key"].iloc[0])[0] - dt.timedelta(days=365)
    at = _Placement(world, epoch, first_ids)
    say("writing organisations and people")
    await _write_organisations(at)
    await _write_people(at)
    say("writing cycles and invitations")
    instruments = await _instrument_ids(world)
    cycle_ids = await _write_cycles(at, instruments)
    await _write_invitations(at, instruments, cycle_ids)
    say("writing responses and answers")
    response_ids = await _write_responses(at)
    await _write_answers(world, instruments, response_ids)
    say("writing the truth")
    await _write_truth(at, cycle_ids)
    for table in EXPLICIT_IDS:
        await reset_id_sequence(table)
    return at.first_ids["simulated_world"]


async def _write_organisations(at: _Placement) -> None:
    """The world's record, its organisations and their therapeutic areas."""
    world = at.world
    await SimulatedWorld.insert(
        SimulatedWorld(
            id=at.first_ids["simulated_world"],
            seed=world.parameters.seed,
            parameters=world.parameters.as_dict(),
            created_at=at.epoch,
        )
    )
    # networks and sponsors first, so a site's network and a CRO's sponsor exist when they are named
    order = world.organisations.sort_values(
        "kind", key=lambda k: k.map({"network": 0, "sponsor": 1, "cro": 2, "site": 3})
    )
    await bulk_insert(
        Organisation,
        ["id", "slug", "name", "kind", "country", "network", "acts_for", "active", "created_at"],
        [
            (
                at.org_id(o.ref),
                o.slug,
                o.name,
                o.kind,
                db_value(o.country),
                at.org_id(o.network),
                at.org_id(o.acts_for),
                True,
                at.epoch,
            )
            for o in order.itertuples()
        ],
    )
    await bulk_insert(
        TherapeuticArea,
        ["organisation", "area"],
        [(at.org_id(a.organisation), a.area) for a in world.areas.itertuples()],
    )


async def _write_people(at: _Placement) -> None:
    """The people, the relationships and who works on which relationship."""
    world = at.world
    await bulk_insert(
        Person,
        ["id", "organisation", "name", "email", "role", "language", "active", "created_at"],
        [
            (
                at.id_of("person", p.ref),
                at.org_id(p.organisation),
                p.name,
                p.email,
                p.role,
                p.language,
                True,
                at.epoch,
            )
            for p in world.persons.itertuples()
        ],
    )
    await bulk_insert(
        Relationship,
        ["id", "sponsor", "site", "cro", "active", "started_on"],
        [
            (
                at.id_of("relationship", r.ref),
                at.org_id(r.sponsor),
                at.org_id(r.site),
                at.org_id(r.cro),
                True,
                at.epoch,
            )
            for r in world.relationships.itertuples()
        ],
    )
    await bulk_insert(
        RelationshipContact,
        ["relationship", "person"],
        [
            (at.id_of("relationship", c.relationship), at.id_of("person", c.person))
            for c in world.contacts.itertuples()
        ],
    )


async def _instrument_ids(world: World) -> dict[str, int]:
    """Direction → the id of the loaded instrument version the world answers."""
    instruments: dict[str, int] = {}
    for direction, spec in world.instruments.items():
        row = (
            await Instrument.select(Instrument.id)
            .where((Instrument.key == spec.key) & (Instrument.version == spec.version))
            .first()
        )
        if row is None:
            raise WorldConflictError(f"instrument {spec.key} v{spec.version} is not loaded")
        instruments[direction] = row["id"]
    return instruments


async def _write_cycles(at: _Placement, instruments: dict[str, int]) -> dict[str, int]:
    """Write the cycles; return cycle key → id."""
    cycle_ids: dict[str, int] = {}
    for c in at.world.cycles.itertuples():
        cycle = Cycle(
            key=c.key,
            title=f"{c.key} partnership survey",
            status=c.status,
            site_instrument=instruments[Direction.site_rates_sponsor],
            sponsor_instrument=instruments[Direction.sponsor_rates_site],
            opens_at=db_value(c.opens_at),
            closes_at=db_value(c.closes_at),
            created_at=at.epoch,
            status_changed_at=db_value(c.closes_at if c.status == "closed" else c.opens_at),
        )
        await cycle.save()
        cycle_ids[c.key] = int(cycle.id)
    return cycle_ids


async def _write_invitations(
    at: _Placement, instruments: dict[str, int], cycle_ids: dict[str, int]
) -> None:
    """Every invitation, each with a fresh secret nobody knows: the world's respondents
    answer through the database, never through a link."""
    closes = {c.key: db_value(c.closes_at) for c in at.world.cycles.itertuples()}
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
                at.id_of("invitation", i.ref),
                cycle_ids[i.cycle],
                at.id_of("relationship", i.relationship),
                instruments[i.direction],
                at.id_of("person", i.respondent),
                at.org_id(i.target),
                token_hash(new_token()),
                i.status,
                db_value(i.sent_at),
                db_value(i.sent_at),
                db_value(i.opened_at),
                db_value(i.submitted_at),
                closes[i.cycle],
                0,
            )
            for i in at.world.invitations.itertuples()
        ],
    )


async def _write_responses(at: _Placement) -> dict[int, int]:
    """Write the responses; return invitation ref → response id."""
    responses = at.world.responses
    response_ids = {
        int(ref): at.first_ids["response"] + n for n, ref in enumerate(responses["invitation"])
    }
    await bulk_insert(
        Response,
        ["id", "invitation", "status", "language", "started_at", "updated_at", "submitted_at"],
        [
            (
                response_ids[int(r.invitation)],
                at.id_of("invitation", r.invitation),
                r.status,
                r.language,
                db_value(r.started_at),
                db_value(r.submitted_at) or db_value(r.started_at),
                db_value(r.submitted_at),
            )
            for r in responses.itertuples()
        ],
    )
    return response_ids


async def _write_answers(
    world: World, instruments: dict[str, int], response_ids: dict[int, int]
) -> None:
    """Every answer. Answers are the bulk of a world: their rows are built column-wise, a
    slice at a time, so memory stays flat however large the world."""
    item_ids = {
        (row["instrument"], row["key"]): row["id"]
        for row in await Item.select(Item.id, Item.instrument, Item.key).where(
            Item.instrument.is_in(list(instruments.values()))
        )
    }
    answers, invitations = world.answers, world.invitations
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
                    part["invitation"].map(response_ids).tolist(),
                    (item_key + ":" + part["item"]).map(item_id_of).tolist(),
                    values.where(part["value"].notna(), None).tolist(),
                    part["not_applicable"].astype(bool).tolist(),
                    texts.where(part["text"].notna(), None).tolist(),
                    strict=True,
                )
            ),
        )


async def _write_truth(at: _Placement, cycle_ids: dict[str, int]) -> None:
    """The true scores the answers were drawn from, for tests to check the method against."""
    await bulk_insert(
        TrueScore,
        ["world", "cycle", "target", "scope", "key", "value", "profile"],
        [
            (
                at.first_ids["simulated_world"],
                cycle_ids[t.cycle],
                at.org_id(t.target),
                t.scope,
                t.key,
                float(t.value),
                t.profile,
            )
            for t in at.world.truth.itertuples()
        ],
    )
