"""A checked file against the stored directory: what matches, what is wrong, what changes.

Pure: it is given what is stored (read in bulk by `_store`) and returns the change set
and the rows to write, so that the preview and the import decide alike. Organisations
match by CTMS id, else by slug; people by e-mail; relationships by sponsor and site. An
organisation a row names (a sponsor, a CRO, a site, a CRO's sponsor) must be in the file
or stored; a network named only in a site's row is created.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from surveys.directory.directory_import._changes import Changed, ChangeSet, KindChanges
from surveys.directory.directory_import._check import (
    DirectoryFile,
    OrganisationEntry,
    PersonEntry,
    Ref,
)
from surveys.directory.directory_import._problems import Problem, problem, refused
from surveys.directory.directory_import._records import StoredDirectory, Writes
from surveys.directory.organisations import OrgKind
from surveys.directory.rules import DirectoryValueError, slug_for
from surveys.infra.i18n import N_

KIND_ORDER = (OrgKind.network, OrgKind.sponsor, OrgKind.cro, OrgKind.site)
"""New organisations are written in this order, so the ones they point at exist first."""


@dataclass
class _Relationship:
    """A relationship of the file: its first line, its parties and the people on it."""

    line: int
    sponsor: int
    site: int
    cro: int | None = None
    cro_line: int = 0
    people: set[str] = field(default_factory=set)
    id: int = 0


@dataclass
class _Planner:
    """One planning pass: the file, the stored directory, and what is found so far."""

    file: DirectoryFile
    stored: StoredDirectory
    sync: bool
    now: dt.datetime
    problems: list[Problem] = field(default_factory=list)
    writes: Writes = field(default_factory=Writes)
    ids: dict[str, int] = field(default_factory=dict)
    """File organisation key → the organisation's id (stored or new)."""
    kinds: dict[int, str] = field(default_factory=dict)
    slugs: dict[int, str] = field(default_factory=dict)
    by_external_id: dict[str, int] = field(default_factory=dict)
    by_slug: dict[str, int] = field(default_factory=dict)
    named: set[int] = field(default_factory=set)
    """Stored organisations the file names (its own or in a reference)."""
    new_organisations: list[tuple[int, OrganisationEntry | Ref]] = field(default_factory=list)
    """New ids, with the file entry (or a site's network reference) each comes from."""
    next_id: dict[str, int] = field(default_factory=dict)

    def problem(self, line: int, name: str, message: str, /, **values: Any) -> None:
        """Note a problem in the field's column: a marked message with its values."""
        self.problems.append(problem(line, self.file.columns.get(name, name), message, **values))

    def new_id(self, table: str) -> int:
        number = self.next_id.setdefault(table, self.stored.first_ids[table])
        self.next_id[table] = number + 1
        return number


def plan(
    file: DirectoryFile, stored: StoredDirectory, sync: bool, now: dt.datetime
) -> tuple[ChangeSet, Writes, list[Problem]]:
    """Return what importing `file` changes, the writes that do it, and every problem."""
    planner = _Planner(file, stored, sync, now, problems=list(file.problems))
    for organisation in stored.organisations.values():
        planner.kinds[organisation.id] = organisation.kind
        planner.slugs[organisation.id] = organisation.slug
    _match_organisations(planner)
    _resolve_ties(planner)
    relationships = _relationships(planner)
    people = _people(planner)
    organisations = _organisation_changes(planner)
    person_changes = _person_changes(planner, people)
    relationship_changes = _relationship_changes(planner, relationships)
    added, removed = _contacts(planner, relationships, people)
    changes = ChangeSet(
        filename=file.filename,
        rows=file.rows,
        sync=sync,
        organisations=organisations,
        people=person_changes,
        relationships=relationship_changes,
        contacts_added=added,
        contacts_removed=removed,
    )
    return changes, planner.writes, planner.problems


def _match_organisations(p: _Planner) -> None:
    """Give each organisation of the file its stored id, or a new id and a free slug."""
    stored_by_external_id = {
        o.external_id: o.id for o in p.stored.organisations.values() if o.external_id
    }
    stored_by_slug = {o.slug: o.id for o in p.stored.organisations.values()}
    claimed: dict[int, OrganisationEntry] = {}
    taken = set(stored_by_slug)
    for entry in p.file.organisations:
        found = stored_by_external_id.get(entry.external_id or "")
        if found is None and entry.slug in stored_by_slug:
            candidate = p.stored.organisations[stored_by_slug[entry.slug]]
            if candidate.external_id in (None, entry.external_id):
                found = candidate.id
        if found is not None and found in claimed:
            p.problem(
                entry.line,
                "organisation",
                N_(
                    "%(name)s is the stored organisation %(slug)s, as is %(other)s on line %(line)s"
                ),
                name=entry.name,
                slug=p.slugs[found],
                other=claimed[found].name,
                line=str(claimed[found].line),
            )
            continue
        if found is not None:
            claimed[found] = entry
            stored = p.stored.organisations[found]
            if stored.kind != entry.kind.value:
                p.problem(
                    entry.line,
                    "kind",
                    N_("%(name)s is stored as a %(stored)s, not a %(kind)s"),
                    name=stored.name,
                    stored=stored.kind,
                    kind=entry.kind.value,
                )
            p.ids[entry.key] = found
            p.named.add(found)
            continue
        slug = _free_slug(entry, taken)
        if slug is None:
            p.problem(
                entry.line,
                "organisation",
                N_(
                    "another organisation is already called %(name)s: give each its "
                    "CTMS id (external_id) to tell them apart"
                ),
                name=entry.name,
            )
            continue
        taken.add(slug)
        new = p.new_id("organisation")
        p.ids[entry.key] = new
        p.kinds[new], p.slugs[new] = entry.kind.value, slug
        p.new_organisations.append((new, entry))
    for entry in p.file.organisations:
        if entry.key in p.ids:
            p.by_external_id.setdefault(entry.external_id or "", p.ids[entry.key])
            p.by_slug.setdefault(entry.slug, p.ids[entry.key])
    p.by_external_id.pop("", None)
    for external_id, number in stored_by_external_id.items():
        p.by_external_id.setdefault(external_id, number)
    for slug, number in stored_by_slug.items():
        p.by_slug.setdefault(slug, number)


def _free_slug(entry: OrganisationEntry, taken: set[str]) -> str | None:
    """The entry's slug, or with its CTMS id added when another organisation has it."""
    if entry.slug not in taken:
        return entry.slug
    if entry.external_id:
        try:
            slug = slug_for(f"{entry.slug} {entry.external_id}")
        except DirectoryValueError:
            return None
        return slug if slug not in taken else None
    return None


def _resolved(p: _Planner, ref: Ref) -> int | None:
    """The id of the organisation a reference names: by CTMS id, else by name."""
    if ref.own is not None:
        return p.ids.get(ref.own)
    found = p.by_external_id.get(ref.text)
    if found is None:
        try:
            found = p.by_slug.get(slug_for(ref.text))
        except DirectoryValueError:
            return None
    if found is not None and found in p.stored.organisations:
        p.named.add(found)
    return found


def _of_kind(p: _Planner, ref: Ref, kind: OrgKind) -> int | None:
    """The id of the organisation of this kind a reference names; else a problem, None."""
    found = _resolved(p, ref)
    if found is None:
        p.problems.append(
            problem(
                ref.line,
                ref.column,
                N_("no organisation %(text)r in this file or the directory"),
                text=ref.text,
            )
        )
    elif p.kinds[found] != kind.value:
        p.problems.append(
            problem(
                ref.line,
                ref.column,
                N_("%(text)r is a %(found)s, not a %(kind)s"),
                text=ref.text,
                found=p.kinds[found],
                kind=kind.value,
            )
        )
        return None
    return found


def _resolve_ties(p: _Planner) -> None:
    """Find each site's network (creating a network named only here) and each CRO's sponsor."""
    for entry in p.file.organisations:
        if entry.network is not None and entry.kind == OrgKind.site:
            if _resolved(p, entry.network) is None:
                _new_network(p, entry.network)
            _of_kind(p, entry.network, OrgKind.network)
        if entry.acts_for is not None and entry.kind == OrgKind.cro:
            _of_kind(p, entry.acts_for, OrgKind.sponsor)


def _new_network(p: _Planner, ref: Ref) -> None:
    try:
        slug = slug_for(ref.text)
    except DirectoryValueError as error:
        p.problems.append(refused(ref.line, ref.column, error))
        return
    new = p.new_id("organisation")
    p.kinds[new], p.slugs[new] = OrgKind.network.value, slug
    p.by_slug[slug] = new
    p.new_organisations.append((new, ref))


def _relationships(p: _Planner) -> dict[tuple[int, int], _Relationship]:
    """The file's relationships by (sponsor, site), with their CRO and people."""
    found: dict[tuple[int, int], _Relationship] = {}
    for mention in p.file.mentions:
        sponsor = _of_kind(p, mention.sponsor, OrgKind.sponsor)
        site = _of_kind(p, mention.site, OrgKind.site)
        cro = _of_kind(p, mention.cro, OrgKind.cro) if mention.cro else None
        if sponsor is None or site is None or (mention.cro and cro is None):
            continue
        relationship = found.setdefault((sponsor, site), _Relationship(mention.line, sponsor, site))
        if cro is not None and relationship.cro is None:
            relationship.cro, relationship.cro_line = cro, mention.line
        elif cro is not None and relationship.cro is not None and cro != relationship.cro:
            p.problems.append(
                problem(
                    mention.line,
                    mention.cro.column if mention.cro else "",
                    N_(
                        "%(sponsor)s works with %(site)s through %(cro)s on line %(line)s, "
                        "not %(other)s: one CRO per relationship"
                    ),
                    sponsor=p.slugs[sponsor],
                    site=p.slugs[site],
                    cro=p.slugs[relationship.cro],
                    line=str(relationship.cro_line),
                    other=p.slugs[cro],
                )
            )
        if mention.person:
            relationship.people.add(mention.person)
    return found


def _people(p: _Planner) -> dict[str, int]:
    """Each person of the file's id (stored or new); an e-mail held elsewhere is a problem."""
    ids: dict[str, int] = {}
    for person in p.file.people:
        organisation = p.ids.get(person.organisation)
        if organisation is None:
            continue
        stored = p.stored.people.get(person.email)
        if stored is not None and stored.erased:
            p.problem(
                person.line,
                "email",
                N_("%(email)s belonged to a person whose data was erased"),
                email=person.email,
            )
        elif stored is not None and stored.organisation != organisation:
            elsewhere = p.stored.organisations[stored.organisation]
            here = _name_of(p, person.organisation)
            p.problem(
                person.line,
                "email",
                N_(
                    "%(email)s is already %(name)s's, at %(organisation)s; "
                    "this file puts them at %(here)s"
                ),
                email=person.email,
                name=stored.name,
                organisation=elsewhere.name,
                here=here,
            )
        else:
            ids[person.email] = stored.id if stored else p.new_id("person")
    return ids


def _name_of(p: _Planner, key: str) -> str:
    return next((o.name for o in p.file.organisations if o.key == key), key)


def _organisation_changes(p: _Planner) -> KindChanges:
    """New organisations to insert, stored ones to update, and (with sync) to deactivate."""
    rows: list[tuple[int, tuple[Any, ...]]] = []
    for number, source in p.new_organisations:
        if isinstance(source, Ref):  # a network named only as a site's network
            values: dict[str, Any] = {"name": source.text, "kind": OrgKind.network}
        else:
            values = {**_organisation_values(p, source), "kind": source.kind}
            p.writes.areas += [(number, area) for area in sorted(source.areas)]
        kind = values["kind"]
        links = (values.get("network"), values.get("acts_for"), values.get("external_id"))
        row = (number, p.slugs[number], values["name"], kind.value, values.get("country"))
        rows.append((KIND_ORDER.index(kind), (*row, *links, True, p.now)))
    p.writes.organisations = [row for _, row in sorted(rows, key=lambda r: r[0])]
    changed: list[Changed] = []
    unchanged = 0
    in_file = {p.ids[e.key]: e for e in p.file.organisations if e.key in p.ids}
    for number in sorted(p.named):
        stored = p.stored.organisations[number]
        entry = in_file.get(number)
        wanted = _organisation_values(p, entry) if entry else {}
        differs = {k: v for k, v in wanted.items() if getattr(stored, k) != v}
        if not stored.active:
            differs["active"] = True
        fields = list(differs)
        areas = p.stored.areas.get(number, frozenset())
        if entry and "therapeutic_areas" in p.file.present and entry.areas != areas:
            fields.append("therapeutic_areas")
            p.writes.areas_replaced.append(number)
            p.writes.areas += [(number, area) for area in sorted(entry.areas)]
        if differs:
            p.writes.organisation_updates.append((number, differs))
        if fields:
            changed.append(Changed(stored.slug, number, tuple(fields)))
        else:
            unchanged += 1
    deactivated = []
    if p.sync:
        for stored in p.stored.organisations.values():
            if stored.active and stored.id not in p.named:
                deactivated.append(Changed(stored.slug, stored.id, ("active",)))
                p.writes.organisation_updates.append((stored.id, {"active": False}))
    new = tuple(p.slugs[number] for number, _ in p.new_organisations)
    return KindChanges(new, tuple(changed), unchanged, tuple(deactivated))


def _organisation_values(p: _Planner, entry: OrganisationEntry) -> dict[str, Any]:
    """The stored fields the file gives for an organisation (a field it lacks is kept)."""
    values: dict[str, Any] = {"name": entry.name}
    if "country" in p.file.present:
        values["country"] = entry.country
    if "network" in p.file.present and entry.kind == OrgKind.site:
        values["network"] = _resolved(p, entry.network) if entry.network else None
    if "acts_for" in p.file.present and entry.kind == OrgKind.cro:
        values["acts_for"] = _resolved(p, entry.acts_for) if entry.acts_for else None
    if entry.external_id:
        values["external_id"] = entry.external_id
    return values


def _person_values(p: _Planner, person: PersonEntry) -> dict[str, Any]:
    """The stored fields the file gives for a person (a field it lacks is kept)."""
    values: dict[str, Any] = {"name": person.name, "role": person.role.value}
    if "language" in p.file.present:
        values["language"] = person.language
    if "receives_results" in p.file.present:
        values["receives_results"] = person.receives_results
    return values


def _person_changes(p: _Planner, ids: dict[str, int]) -> KindChanges:
    """New people to insert, stored ones to update, and (with sync) to deactivate."""
    new: list[str] = []
    changed: list[Changed] = []
    unchanged = 0
    for person in p.file.people:
        if person.email not in ids:
            continue
        values = _person_values(p, person)
        stored = p.stored.people.get(person.email)
        if stored is None:
            organisation = p.ids[person.organisation]
            row = (ids[person.email], organisation, person.name, person.email, values["role"])
            rest = (values.get("language", "en"), values.get("receives_results"), True, p.now)
            p.writes.people.append((*row, *rest))
            new.append(person.email)
            continue
        differs = {k: v for k, v in values.items() if getattr(stored, k) != v}
        if not stored.active:
            differs["active"] = True
        if differs:
            p.writes.person_updates.append((stored.id, differs))
            changed.append(Changed(person.email, stored.id, tuple(differs)))
        else:
            unchanged += 1
    deactivated = []
    if p.sync:
        for stored in p.stored.people.values():
            if stored.active and not stored.erased and stored.email not in ids:
                deactivated.append(Changed(stored.email, stored.id, ("active",)))
                p.writes.person_updates.append((stored.id, {"active": False}))
    return KindChanges(tuple(new), tuple(changed), unchanged, tuple(deactivated))


def _relationship_changes(
    p: _Planner, relationships: dict[tuple[int, int], _Relationship]
) -> KindChanges:
    """New relationships to insert, stored ones to update, and (with sync) to deactivate."""
    new: list[str] = []
    changed: list[Changed] = []
    unchanged = 0
    for pair, relationship in relationships.items():
        label = f"{p.slugs[pair[0]]} → {p.slugs[pair[1]]}"
        stored = p.stored.relationships.get(pair)
        if stored is None:
            relationship.id = p.new_id("relationship")
            row = (relationship.id, *pair, relationship.cro, True, p.now)
            p.writes.relationships.append(row)
            new.append(label)
            continue
        relationship.id = stored.id
        differs: dict[str, Any] = {}
        if "cro" in p.file.present and stored.cro != relationship.cro:
            differs["cro"] = relationship.cro
        if not stored.active:
            differs["active"] = True
        if differs:
            p.writes.relationship_updates.append((stored.id, differs))
            changed.append(Changed(label, stored.id, tuple(differs)))
        else:
            unchanged += 1
    deactivated = []
    if p.sync:
        for pair, stored in p.stored.relationships.items():
            if stored.active and pair not in relationships:
                label = f"{p.slugs[pair[0]]} → {p.slugs[pair[1]]}"
                deactivated.append(Changed(label, stored.id, ("active",)))
                p.writes.relationship_updates.append((stored.id, {"active": False}))
    return KindChanges(tuple(new), tuple(changed), unchanged, tuple(deactivated))


def _contacts(
    p: _Planner, relationships: dict[tuple[int, int], _Relationship], people: dict[str, int]
) -> tuple[int, int]:
    """People to record on relationships (and, with sync, to take off); return the counts."""
    listed = {
        (relationship.id, people[email])
        for relationship in relationships.values()
        for email in relationship.people
        if email in people
    }
    p.writes.contacts = sorted(listed - set(p.stored.contacts))
    if p.sync:
        p.writes.contacts_removed = sorted(
            number for pair, number in p.stored.contacts.items() if pair not in listed
        )
    return len(p.writes.contacts), len(p.writes.contacts_removed)
