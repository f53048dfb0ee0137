"""A directory file checked on its own: every cell through `surveys.directory.rules`, and
the rows that name one organisation or one person agreeing with each other.

Rows repeat things: a site appears on the row of each of its people and each of its
sponsors, a person on the row of each relationship they work on. Repeated rows must
agree on what they both give (an empty cell agrees with anything); therapeutic areas
add up. What only the database can tell (an organisation named but not in the file, an
e-mail held by someone elsewhere) is checked by the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from surveys.directory.directory_import._mapping import (
    CODED_FIELDS,
    DEFAULT_KIND,
    FIELDS,
    DirectoryMapping,
)
from surveys.directory.directory_import._problems import Problem, problem, refused
from surveys.directory.directory_import._read import Sheet
from surveys.directory.organisations import SITE_ROLES, OrgKind, Role
from surveys.directory.rules import (
    DirectoryValueError,
    country_of,
    flag_of,
    kind_of,
    language_of,
    normal_email,
    role_of,
    slug_for,
)
from surveys.infra.i18n import N_

T = TypeVar("T")
LONGEST = {"organisation": 200, "external_id": 80, "name": 200, "therapeutic_areas": 60}
"""The most characters a stored value may have (the columns' lengths); a list of areas is
checked area by area."""
AREA_SEPARATORS = (";", "|")
"""Therapeutic areas in one cell are separated by these (a comma may be part of a name)."""


@dataclass(frozen=True)
class Ref:
    """Another organisation as a row names it: by its CTMS id or by its name."""

    text: str
    line: int
    column: str
    own: str | None = None
    """The key of the row's own organisation, when the row names itself."""


@dataclass(frozen=True)
class OrganisationEntry:
    """One organisation of the file, from all the rows about it."""

    key: str
    """`id:<external id>`, or `name:<slug>` for an organisation the file gives no id."""
    line: int
    name: str
    slug: str
    kind: OrgKind
    external_id: str | None
    country: str | None
    network: Ref | None
    acts_for: Ref | None
    areas: frozenset[str]


@dataclass(frozen=True)
class PersonEntry:
    """One person of the file (by e-mail), from all the rows about them."""

    email: str
    line: int
    organisation: str
    """The key of their organisation's entry."""
    name: str
    role: Role
    language: str
    receives_results: bool | None


@dataclass(frozen=True)
class RelationshipMention:
    """A row's relationship: its sponsor, site and CRO, and the row's person (a contact)."""

    line: int
    sponsor: Ref
    site: Ref
    cro: Ref | None
    person: str | None


@dataclass(frozen=True)
class DirectoryFile:
    """A directory file read and checked on its own; `problems` lists what is wrong in it."""

    filename: str
    rows: int
    present: frozenset[str]
    """Fields the file gives (a column or a mapping's default); the others keep what is
    stored."""
    columns: dict[str, str]
    """Field → the heading of its column (or `[defaults] field`), for problems."""
    organisations: tuple[OrganisationEntry, ...]
    people: tuple[PersonEntry, ...]
    mentions: tuple[RelationshipMention, ...]
    problems: tuple[Problem, ...]


_UNKNOWN = object()


@dataclass
class _Cells:
    """One row's values by field, and where each came from (for problems)."""

    line: int
    values: dict[str, str]
    columns: dict[str, str]
    problems: list[Problem]
    known: dict[tuple[str, str], object]
    """(field, text) → its checked value or DirectoryValueError, shared by a file's rows:
    the same country, role or domain recurs on thousands of rows."""

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def checked(self, name: str, rule: Callable[[str], T], default: T) -> T:
        """The value through its rule; on a problem, noted, and the default."""
        text = self.text(name)
        found = self.known.get((name, text), _UNKNOWN)
        if found is _UNKNOWN:
            try:
                found = rule(text)
            except DirectoryValueError as error:
                found = error
            self.known[name, text] = found
        if isinstance(found, DirectoryValueError):
            self.problems.append(refused(self.line, self.columns[name], found))
            return default
        return found  # type: ignore[return-value]  # stored by this field's own rule

    def problem(self, name: str, message: str, /, **values: Any) -> None:
        """Note a problem in the field's column: a marked message with its values."""
        self.problems.append(problem(self.line, self.columns.get(name, ""), message, **values))

    def ref(self, name: str) -> Ref | None:
        text = self.text(name)
        return Ref(text, self.line, self.columns[name]) if text else None


@dataclass
class _Row:
    """One row parsed: its organisation, person and relationship."""

    cells: _Cells
    external_id: str | None
    name: str
    slug: str
    kind: OrgKind
    country: str | None
    network: Ref | None
    acts_for: Ref | None
    areas: frozenset[str]
    person: PersonEntry | None
    sponsor: Ref | None
    cro: Ref | None
    site: Ref | None
    key: str = ""


def checked_file(sheet: Sheet, mapping: DirectoryMapping, filename: str) -> DirectoryFile:
    """Return the file's organisations, people and relationships, and every problem in it."""
    problems: list[Problem] = []
    positions = _positions(sheet, mapping, problems)
    present = frozenset(positions) | frozenset(mapping.defaults)
    if "organisation" not in present:
        heading = mapping.columns.get("organisation", "organisation")
        problems.append(problem(1, heading, N_("no such column: each row names its organisation")))
    if "email" not in present and present & {"name", "first_name", "last_name", "role"}:
        problems.append(problem(1, "", N_("people are named but there is no e-mail column")))
    if problems:
        return DirectoryFile(filename, len(sheet.rows), present, {}, (), (), (), tuple(problems))
    columns = {
        name: sheet.header[positions[name]] if name in positions else f"[defaults] {name}"
        for name in present
    }
    rows = []
    known: dict[tuple[str, str], object] = {}
    for line, cells in sheet.rows:
        values = {name: cells[i] for name, i in positions.items() if cells[i]}
        for name in present:
            if not values.get(name) and name in mapping.defaults:
                values[name] = mapping.defaults[name]
            if name in CODED_FIELDS and name in values:
                values[name] = mapping.code(name, values[name])
        rows.append(_row(_Cells(line, values, columns, problems, known)))
    organisations = _organisations(rows)
    people = _people(rows, organisations)
    mentions = _mentions(rows)
    return DirectoryFile(
        filename=filename,
        rows=len(sheet.rows),
        present=present,
        columns=columns,
        organisations=tuple(organisations.values()),
        people=tuple(people.values()),
        mentions=tuple(mentions),
        problems=tuple(problems),
    )


def _positions(sheet: Sheet, mapping: DirectoryMapping, problems: list[Problem]) -> dict[str, int]:
    """Field → position of its column in the file."""
    where = {heading.casefold(): i for i, heading in enumerate(sheet.header)}
    positions: dict[str, int] = {}
    for name, column in mapping.columns.items():
        if column.casefold() in where:
            positions[name] = where[column.casefold()]
        elif not mapping.strict:
            problems.append(
                problem(1, column, N_("no such column (the mapping's %(field)s)"), field=name)
            )
    if mapping.strict:
        known = {c.casefold() for c in mapping.columns.values()}
        for heading in sheet.header:
            if heading and heading.casefold() not in known:
                problems.append(
                    problem(
                        1,
                        heading,
                        N_("unknown column; columns: %(fields)s"),
                        fields=", ".join(FIELDS),
                    )
                )
    return positions


def _row(cells: _Cells) -> _Row:
    """Parse one row; its problems go to `cells.problems`."""
    name = cells.text("organisation")
    if not name:
        cells.problem("organisation", N_("an organisation needs a name"))
    kind = cells.checked("kind", lambda t: kind_of(t or DEFAULT_KIND), OrgKind.site)
    row = _Row(
        cells=cells,
        external_id=cells.text("external_id") or None,
        name=name,
        slug=cells.checked("organisation", _slug, "") if name else "",
        kind=kind,
        country=cells.checked("country", country_of, None),
        network=cells.ref("network"),
        acts_for=cells.ref("acts_for"),
        areas=_areas(cells.text("therapeutic_areas")),
        person=None,
        sponsor=cells.ref("sponsor"),
        cro=cells.ref("cro"),
        site=cells.ref("site"),
    )
    row.key = f"id:{row.external_id}" if row.external_id else f"name:{row.slug}"
    for field_name in ("organisation", "external_id"):
        if len(cells.text(field_name)) > LONGEST[field_name]:
            cells.problem(
                field_name, N_("longer than %(limit)s characters"), limit=LONGEST[field_name]
            )
    if any(len(area) > LONGEST["therapeutic_areas"] for area in row.areas):
        cells.problem(
            "therapeutic_areas",
            N_("an area is longer than %(limit)s characters"),
            limit=LONGEST["therapeutic_areas"],
        )
    if row.network and kind != OrgKind.site:
        cells.problem("network", N_("only a site belongs to a network"))
    if row.acts_for and kind != OrgKind.cro:
        cells.problem("acts_for", N_("only a CRO acts for a sponsor"))
    row.person = _person(cells, row)
    _check_relationship(cells, row)
    return row


@lru_cache(maxsize=65536)
def _slug(name: str) -> str:
    return slug_for(name)


def _areas(text: str) -> frozenset[str]:
    for separator in AREA_SEPARATORS[1:]:
        text = text.replace(separator, AREA_SEPARATORS[0])
    return frozenset(
        "_".join(area.lower().split()) for area in text.split(AREA_SEPARATORS[0]) if area.strip()
    )


def _person(cells: _Cells, row: _Row) -> PersonEntry | None:
    """The row's person, if it names one."""
    name = cells.text("name") or " ".join(
        part for part in (cells.text("first_name"), cells.text("last_name")) if part
    )
    about_person = name or cells.text("role") or cells.text("email")
    if not about_person:
        return None
    name_field = "name" if "name" in cells.columns else "last_name"
    if not cells.text("email"):
        cells.problem(
            "email" if "email" in cells.columns else name_field,
            N_("a person needs an e-mail address"),
        )
        return None
    email = cells.checked("email", normal_email, "")
    if not name:
        cells.problem(name_field, N_("a person needs a name"))
    elif len(name) > LONGEST["name"]:
        cells.problem(name_field, N_("longer than %(limit)s characters"), limit=LONGEST["name"])
    if not cells.text("role"):
        cells.problem("role" if "role" in cells.columns else "email", N_("a person needs a role"))
        return None
    role = cells.checked("role", role_of, None)
    if role is None or not email:
        return None
    if row.kind == OrgKind.network:
        cells.problem("email", N_("people work at a site, sponsor or CRO, not at a network"))
    elif role in SITE_ROLES and row.kind != OrgKind.site:
        cells.problem(
            "role",
            N_("a %(role)s works at a site, not at a %(kind)s"),
            role=role.value,
            kind=row.kind.value,
        )
    return PersonEntry(
        email=email,
        line=cells.line,
        organisation=row.key,
        name=name,
        role=role,
        language=cells.checked("language", language_of, "en"),
        receives_results=cells.checked("receives_results", flag_of, None),
    )


def _check_relationship(cells: _Cells, row: _Row) -> None:
    """Note a relationship the row's kind cannot have (the row's own side is implied)."""
    if row.kind == OrgKind.network:
        for name in ("sponsor", "cro", "site"):
            if cells.text(name):
                cells.problem(name, N_("a network is in no relationship; its sites are"))
    elif row.kind == OrgKind.site:
        if row.site:
            cells.problem("site", N_("a site's row names its sponsor, not another site"))
        if row.cro and not row.sponsor:
            cells.problem("cro", N_("a CRO works for a sponsor: name the sponsor too"))
    elif row.kind == OrgKind.sponsor and row.sponsor:
        if _slug_or_none(row.sponsor.text) != row.slug and row.sponsor.text != row.external_id:
            cells.problem(
                "sponsor", N_("a sponsor's row names the site it works with, not a sponsor")
            )
    elif row.kind == OrgKind.cro and row.site and not (row.sponsor or row.acts_for):
        cells.problem("site", N_("name the sponsor this CRO works for here (or in acts_for)"))


def _slug_or_none(text: str) -> str | None:
    try:
        return _slug(text)
    except DirectoryValueError:
        return None


SAME_ORGANISATION = N_(
    "%(value)s differs from %(other)s on line %(line)s for the same organisation (%(which)s)"
)
SAME_PERSON = N_(
    "%(value)s differs from %(other)s on line %(line)s for the same person (%(which)s)"
)


def _agreed(items: list[tuple[_Cells, T | None]], column: str, same: tuple[str, str]) -> T | None:
    """The value the rows give (empty cells aside); a row giving another is a problem.

    `same` is the message that says so (SAME_ORGANISATION or SAME_PERSON) and which one
    the rows are about."""
    chosen: tuple[T, int] | None = None
    for cells, given in items:
        if given is None or given == "":
            continue
        if chosen is None:
            chosen = (given, cells.line)
        elif given != chosen[0]:
            cells.problem(
                column,
                same[0],
                value=_shown(given),
                other=_shown(chosen[0]),
                line=str(chosen[1]),
                which=same[1],
            )
    return chosen[0] if chosen else None


def _shown(value: object) -> str:
    if isinstance(value, OrgKind | Role):
        return repr(value.value)
    return repr(value)


def _organisations(rows: list[_Row]) -> dict[str, OrganisationEntry]:
    """Gather each organisation's rows; a row without an id joins the one of its name."""
    with_id: dict[str, str] = {}
    for row in rows:
        if row.external_id and row.slug:
            with_id.setdefault(row.slug, row.key)
    grouped: dict[str, list[_Row]] = {}
    for row in rows:
        if not row.slug:
            continue
        if not row.external_id and row.slug in with_id:
            row.key = with_id[row.slug]
        grouped.setdefault(row.key, []).append(row)
    return {key: _organisation(key, group) for key, group in grouped.items()}


def _organisation(key: str, group: list[_Row]) -> OrganisationEntry:
    first = group[0]
    what = (SAME_ORGANISATION, first.external_id or first.name)
    name = _agreed(
        [(r.cells, r.name if r.external_id else None) for r in group], "organisation", what
    )
    kind = _agreed([(r.cells, r.kind) for r in group], "kind", what)
    country = _agreed([(r.cells, r.country) for r in group], "country", what)
    network = _agreed(
        [(r.cells, r.network.text if r.network else None) for r in group], "network", what
    )
    acts_for = _agreed(
        [(r.cells, r.acts_for.text if r.acts_for else None) for r in group], "acts_for", what
    )
    return OrganisationEntry(
        key=key,
        line=first.cells.line,
        name=name or first.name,
        slug=first.slug,
        kind=kind or first.kind,
        external_id=first.external_id,
        country=country,
        network=next((r.network for r in group if r.network and r.network.text == network), None),
        acts_for=next(
            (r.acts_for for r in group if r.acts_for and r.acts_for.text == acts_for), None
        ),
        areas=frozenset().union(*(r.areas for r in group)),
    )


def _people(
    rows: list[_Row], organisations: dict[str, OrganisationEntry]
) -> dict[str, PersonEntry]:
    """Gather each person's rows: one organisation, and the same name, role and language."""
    grouped: dict[str, list[tuple[_Row, PersonEntry]]] = {}
    for row in rows:
        if row.person is not None:
            grouped.setdefault(row.person.email, []).append((row, row.person))
    found: dict[str, PersonEntry] = {}
    for email, group in grouped.items():
        first, person = group[0]
        for row, _ in group[1:]:
            if row.key != first.key:
                here, there = organisations.get(row.key), organisations.get(first.key)
                row.cells.problem(
                    "email",
                    N_(
                        "%(email)s is also on line %(line)s, at %(there)s; a person belongs "
                        "to one organisation, not also to %(here)s"
                    ),
                    email=email,
                    line=str(first.cells.line),
                    there=there.name if there else first.name,
                    here=here.name if here else row.name,
                )
        what = (SAME_PERSON, email)
        kept = [(r.cells, p) for r, p in group if r.key == first.key]
        name = _agreed([(c, p.name) for c, p in kept], _name_field(first), what)
        role = _agreed([(c, p.role) for c, p in kept], "role", what)
        language = _agreed(
            [(c, p.language if c.text("language") else None) for c, p in kept], "language", what
        )
        receives = _agreed([(c, p.receives_results) for c, p in kept], "receives_results", what)
        found[email] = PersonEntry(
            email=email,
            line=first.cells.line,
            organisation=first.key,
            name=name or person.name,
            role=role or person.role,
            language=language or person.language,
            receives_results=receives,
        )
    return found


def _name_field(row: _Row) -> str:
    return "name" if "name" in row.cells.columns else "last_name"


def _mentions(rows: list[_Row]) -> list[RelationshipMention]:
    """Each row's relationship, with the row's own organisation on its own side."""
    mentions = []
    for row in rows:
        own = Ref(row.name, row.cells.line, row.cells.columns["organisation"], own=row.key)
        person = row.person.email if row.person else None
        if row.kind == OrgKind.site and row.sponsor:
            mentions.append(RelationshipMention(row.cells.line, row.sponsor, own, row.cro, person))
        elif row.kind == OrgKind.sponsor and row.site:
            mentions.append(RelationshipMention(row.cells.line, own, row.site, row.cro, person))
        elif row.kind == OrgKind.cro and row.site:
            sponsor = row.sponsor or row.acts_for
            if sponsor is not None:
                mentions.append(RelationshipMention(row.cells.line, sponsor, row.site, own, person))
    return mentions
