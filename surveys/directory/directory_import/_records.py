"""What an import compares and writes: the stored directory as read in bulk, and the rows
an import inserts and updates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StoredOrganisation:
    """An organisation as stored."""

    id: int
    slug: str
    name: str
    kind: str
    country: str | None
    network: int | None
    acts_for: int | None
    external_id: str | None
    active: bool


@dataclass(frozen=True)
class StoredPerson:
    """A person as stored."""

    id: int
    organisation: int
    name: str
    email: str
    role: str
    language: str
    receives_results: bool | None
    active: bool
    erased: bool


@dataclass(frozen=True)
class StoredRelationship:
    """A relationship as stored."""

    id: int
    sponsor: int
    site: int
    cro: int | None
    active: bool


@dataclass(frozen=True)
class StoredDirectory:
    """The whole stored directory, read in a few statements."""

    organisations: dict[int, StoredOrganisation]
    areas: dict[int, frozenset[str]]
    people: dict[str, StoredPerson]
    """By e-mail (stored lower-case)."""
    relationships: dict[tuple[int, int], StoredRelationship]
    """By (sponsor, site)."""
    contacts: dict[tuple[int, int], int]
    """(relationship, person) → the contact row's id."""
    first_ids: dict[str, int]
    """Table name → the first free id (new rows get explicit ids, so rows can name each
    other before they are written)."""


@dataclass
class Writes:
    """The rows an import inserts and the stored rows it updates, table by table."""

    organisations: list[tuple[Any, ...]] = field(default_factory=list)
    """id, slug, name, kind, country, network, acts_for, external_id, active, created_at."""
    organisation_updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    areas_replaced: list[int] = field(default_factory=list)
    """Organisations whose therapeutic areas are all rewritten."""
    areas: list[tuple[int, str]] = field(default_factory=list)
    people: list[tuple[Any, ...]] = field(default_factory=list)
    """id, organisation, name, email, role, language, receives_results, active, created_at."""
    person_updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    relationships: list[tuple[Any, ...]] = field(default_factory=list)
    """id, sponsor, site, cro, active, started_on."""
    relationship_updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    contacts: list[tuple[int, int]] = field(default_factory=list)
    contacts_removed: list[int] = field(default_factory=list)
