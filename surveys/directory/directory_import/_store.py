"""The stored directory read whole in five statements, and an import's writes made in a
few statements per table (bulk inserts, grouped updates), never one per row."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from piccolo.table import Table

from surveys.directory.directory_import._records import (
    StoredDirectory,
    StoredOrganisation,
    StoredPerson,
    StoredRelationship,
    Writes,
)
from surveys.directory.organisations import (
    Organisation,
    Person,
    Relationship,
    RelationshipContact,
    TherapeuticArea,
)
from surveys.infra.database import bulk_insert, next_id, reset_id_sequence

EXPLICIT_IDS: tuple[type[Table], ...] = (Organisation, Person, Relationship)
"""Tables whose new rows get their ids from the plan (so that rows can name each other)."""
CHUNK = 900
"""Ids per `IN (…)` list: under SQLite's oldest limit of 999 bound values."""


async def stored_directory() -> StoredDirectory:
    """Everything stored that an import compares a file with."""
    organisations = {
        row["id"]: StoredOrganisation(
            id=row["id"],
            slug=row["slug"],
            name=row["name"],
            kind=row["kind"],
            country=row["country"],
            network=row["network"],
            acts_for=row["acts_for"],
            external_id=row["external_id"],
            active=bool(row["active"]),
        )
        for row in await Organisation.select(
            Organisation.id,
            Organisation.slug,
            Organisation.name,
            Organisation.kind,
            Organisation.country,
            Organisation.network,
            Organisation.acts_for,
            Organisation.external_id,
            Organisation.active,
        )
    }
    areas: dict[int, set[str]] = defaultdict(set)
    for row in await TherapeuticArea.select(TherapeuticArea.organisation, TherapeuticArea.area):
        areas[row["organisation"]].add(row["area"])
    people = {
        row["email"]: StoredPerson(
            id=row["id"],
            organisation=row["organisation"],
            name=row["name"],
            email=row["email"],
            role=row["role"],
            language=row["language"],
            receives_results=None
            if row["receives_results"] is None
            else bool(row["receives_results"]),
            active=bool(row["active"]),
            erased=row["erased_at"] is not None,
        )
        for row in await Person.select(
            Person.id,
            Person.organisation,
            Person.name,
            Person.email,
            Person.role,
            Person.language,
            Person.receives_results,
            Person.active,
            Person.erased_at,
        )
    }
    relationships = {
        (row["sponsor"], row["site"]): StoredRelationship(
            id=row["id"],
            sponsor=row["sponsor"],
            site=row["site"],
            cro=row["cro"],
            active=bool(row["active"]),
        )
        for row in await Relationship.select(
            Relationship.id,
            Relationship.sponsor,
            Relationship.site,
            Relationship.cro,
            Relationship.active,
        )
    }
    contacts = {
        (row["relationship"], row["person"]): row["id"]
        for row in await RelationshipContact.select(
            RelationshipContact.id, RelationshipContact.relationship, RelationshipContact.person
        )
    }
    return StoredDirectory(
        organisations=organisations,
        areas={number: frozenset(found) for number, found in areas.items()},
        people=people,
        relationships=relationships,
        contacts=contacts,
        first_ids={table._meta.tablename: await next_id(table) for table in EXPLICIT_IDS},
    )


async def write(writes: Writes) -> None:
    """Make an import's writes; call inside `writing_transaction`, after locking the
    tables that get explicit ids (`lock_for_explicit_ids(EXPLICIT_IDS)`)."""
    await bulk_insert(
        Organisation,
        [
            "id",
            "slug",
            "name",
            "kind",
            "country",
            "network",
            "acts_for",
            "external_id",
            "active",
            "created_at",
        ],
        writes.organisations,
    )
    await _update(Organisation, writes.organisation_updates)
    for chunk in _chunks(writes.areas_replaced):
        await TherapeuticArea.delete().where(TherapeuticArea.organisation.is_in(chunk))
    await bulk_insert(TherapeuticArea, ["organisation", "area"], writes.areas)
    await bulk_insert(
        Person,
        [
            "id",
            "organisation",
            "name",
            "email",
            "role",
            "language",
            "receives_results",
            "active",
            "created_at",
        ],
        writes.people,
    )
    await _update(Person, writes.person_updates)
    await bulk_insert(
        Relationship,
        ["id", "sponsor", "site", "cro", "active", "started_on"],
        writes.relationships,
    )
    await _update(Relationship, writes.relationship_updates)
    for chunk in _chunks(writes.contacts_removed):
        await RelationshipContact.delete().where(RelationshipContact.id.is_in(chunk))
    await bulk_insert(RelationshipContact, ["relationship", "person"], writes.contacts)
    for table in EXPLICIT_IDS:
        await reset_id_sequence(table)


async def _update(table: type[Table], updates: list[tuple[int, dict[str, Any]]]) -> None:
    """Update stored rows: one executemany per set of columns changed together."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for number, values in updates:
        columns = tuple(sorted(values))
        groups[columns].append((*(values[c] for c in columns), number))
    engine = table._meta.db
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("an import writes inside writing_transaction(...)")
    for columns, rows in groups.items():
        if engine.engine_type == "sqlite":
            marks = [f'"{c}" = ?' for c in columns]
            key = "?"
        else:
            marks = [f'"{c}" = ${n}' for n, c in enumerate(columns, 1)]
            key = f"${len(columns) + 1}"
        # names come from Rapport's own table classes; every value is a bound parameter
        sql = (
            f"UPDATE {table._meta.get_formatted_tablename()} "  # noqa: S608
            f"SET {', '.join(marks)} WHERE id = {key}"
        )
        await transaction.connection.executemany(sql, rows)


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
