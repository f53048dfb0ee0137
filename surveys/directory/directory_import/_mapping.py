"""Rapport's fields of a directory file, and the mapping (TOML) from an export's columns
and codes onto them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surveys.directory.directory_import._problems import (
    DirectoryFileError,
    Problem,
    problem,
    refused,
)
from surveys.infra.i18n import N_

ORGANISATION_FIELDS = (
    "external_id",
    "organisation",
    "kind",
    "country",
    "network",
    "therapeutic_areas",
    "acts_for",
)
"""The organisation a row is about (`external_id` is its CTMS/CRM id)."""
PERSON_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "email",
    "role",
    "language",
    "receives_results",
)
"""The person at that organisation the row names, if any."""
RELATIONSHIP_FIELDS = ("sponsor", "cro", "site")
"""The relationship the row's organisation (and person) works on, if any."""
FIELDS = ORGANISATION_FIELDS + PERSON_FIELDS + RELATIONSHIP_FIELDS
"""Every field, in the order of the canonical layout's header."""
CODED_FIELDS = ("kind", "country", "role", "language", "receives_results")
"""Fields whose export codes a mapping may translate (`[values.<field>]`)."""
DEFAULT_KIND = "site"
"""The kind of a row that says none: a CTMS site list lists sites."""


@dataclass(frozen=True)
class DirectoryMapping:
    """How an export's columns and codes map onto Rapport's fields."""

    columns: dict[str, str] = field(default_factory=lambda: {f: f for f in FIELDS})
    """Rapport field → the export's column heading."""
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    """Rapport field → the export's code (case-folded) → Rapport's code."""
    defaults: dict[str, str] = field(default_factory=dict)
    """Rapport field → the value of every row that leaves it empty (or has no such column)."""
    strict: bool = True
    """Whether a column the mapping does not name is an error (the canonical layout, where
    an unknown heading is most likely a typo) or ignored (an export's other columns)."""

    def code(self, name: str, text: str) -> str:
        """The Rapport code for an export's code in the field `name`."""
        return self.values.get(name, {}).get(text.strip().casefold(), text)


CANONICAL = DirectoryMapping()
"""The canonical layout: every column named like its field."""


def directory_mapping(source: Path | str | bytes | None, name: str = "") -> DirectoryMapping:
    """Return the mapping in a TOML file (a path, or its text or bytes), or the canonical one.

    Raises DirectoryFileError listing every key that is wrong.
    """
    if source is None:
        return CANONICAL
    if isinstance(source, Path):
        name = name or str(source)
        try:
            source = source.read_bytes()
        except OSError as error:
            raise DirectoryFileError(name, [refused(0, "", error)]) from None
    name = name or "mapping"
    try:
        text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
        document = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise DirectoryFileError(
            name, [problem(0, "", N_("not a TOML file: %(error)s"), error=str(error))]
        ) from None
    problems: list[Problem] = []
    for unknown in sorted(set(document) - {"columns", "values", "defaults"}):
        problems.append(
            _bad(unknown, N_("%(key)s: unknown table; tables: columns, values, defaults"))
        )
    columns = _strings(document.get("columns", {}), "columns", FIELDS, problems)
    defaults = _strings(document.get("defaults", {}), "defaults", FIELDS, problems)
    values: dict[str, dict[str, str]] = {}
    for key, codes_table in _table(document.get("values", {}), "values", problems).items():
        if key not in CODED_FIELDS:
            problems.append(
                _bad(
                    f"values.{key}",
                    N_("%(key)s: fields with codes: %(fields)s"),
                    fields=", ".join(CODED_FIELDS),
                )
            )
            continue
        codes = _strings(codes_table, f"values.{key}", None, problems)
        values[key] = {code.strip().casefold(): value for code, value in codes.items()}
    if problems:
        raise DirectoryFileError(name, problems)
    return DirectoryMapping(columns=columns, values=values, defaults=defaults, strict=False)


def _bad(key: str, message: str, /, **values: Any) -> Problem:
    """A problem with a key of the mapping; the message starts with `%(key)s: `."""
    return problem(0, "", message, key=key, **values)


def _table(value: object, key: str, problems: list[Problem]) -> dict[str, object]:
    if not isinstance(value, dict):
        problems.append(_bad(key, N_("%(key)s: must be a table")))
        return {}
    return value


def _strings(
    value: object, key: str, allowed: tuple[str, ...] | None, problems: list[Problem]
) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, text in _table(value, key, problems).items():
        if allowed is not None and name not in allowed:
            problems.append(
                _bad(
                    f"{key}.{name}",
                    N_("%(key)s: unknown field; fields: %(fields)s"),
                    fields=", ".join(allowed),
                )
            )
        elif not isinstance(text, str):
            problems.append(
                _bad(f"{key}.{name}", N_("%(key)s: must be text, not %(value)s"), value=repr(text))
            )
        else:
            found[name] = text
    return found
