"""The mapping file (TOML): which columns hold the respondent, the partner and each item,
which to ignore, how the tool's codes translate into values, and how its times are written.

Every key is checked when the file is read, and a wrong one is named with the file; what
can only be checked against the cycle's instruments (an item key) is checked by the import.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surveys.infra.i18n import N_
from surveys.responses.imports._table import ImportFileError

NOT_APPLICABLE = "NA"

Value = int | str
"""What a code maps to: a whole number, or NOT_APPLICABLE."""


@dataclass(frozen=True)
class RedcapChoice:
    """Which part of a REDCap export holds the responses."""

    form: str | None = None
    """The instrument (form) whose `<form>_complete` says a response is finished; by
    default the only form with mapped fields."""
    event: str | None = None
    """In a longitudinal project, the one event (`redcap_event_name`) to import."""
    record_id: str | None = None
    """The record id's column; by default REDCap's first column, whatever its name."""


@dataclass(frozen=True)
class Mapping:
    """How a file's columns and codes map onto Rapport's respondents, partners and items."""

    respondent: str = "email"
    """Column holding the respondent's e-mail."""
    target: str | None = "target"
    """Column holding the partner's slug (None when `target_slug` names one for all rows)."""
    target_slug: str | None = None
    items: dict[str, str] = field(default_factory=dict)
    """File column → item key; by default a column named like an item key is that item."""
    values: dict[str, Value] = field(default_factory=dict)
    """A code or label anywhere in the file → the value to store (a number, or "NA")."""
    item_values: dict[str, dict[str, Value]] = field(default_factory=dict)
    """Item key → its own codes, tried before `values` (`[values.ITEM_KEY]`)."""
    submitted_at: str | None = None
    """Column holding when the response was completed, if any."""
    ignore: tuple[str, ...] = ()
    """Columns to leave alone: names or shell-style patterns (`*___*`)."""
    ignore_unmapped: bool = False
    """Leave alone every column that is neither mapped nor known, rather than refuse it."""
    timezone: str | None = None
    """The zone of times written without one, unless the file says its own."""
    date_format: str | None = None
    """How the file writes its times (`%d/%m/%Y %H:%M`), for dates that could be read two ways."""
    allow_outside_window: bool = False
    """Accept submission times outside the cycle's open window."""
    redcap: RedcapChoice = field(default_factory=RedcapChoice)

    def value_of(self, item: str, raw: str) -> Value:
        """The value a cell's text stands for: the item's own code, else the file-wide one,
        else the text itself."""
        own = self.item_values.get(item)
        if own is not None and raw in own:
            return own[raw]
        return self.values.get(raw, raw)


DEFAULTS = {
    "qualtrics": Mapping(
        respondent="RecipientEmail", target="ExternalReference", submitted_at="RecordedDate"
    ),
    "redcap": Mapping(respondent="redcap_survey_identifier", target=None),
}
"""Each format's mapping when no file is given (the columns its tool names so)."""

_TOP = {"columns", "items", "values", "redcap", "timezone", "date_format", "allow_outside_window"}
_COLUMNS = {"respondent", "target", "target_slug", "submitted_at", "ignore", "ignore_unmapped"}
_REDCAP = {"form", "event", "record_id"}


def load_mapping(path: Path | None, file_format: str) -> Mapping:
    """Return the mapping in a TOML file, or the format's default; errors name the key."""
    defaults = DEFAULTS.get(file_format, Mapping())
    if path is None:
        return defaults
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ImportFileError.about(
            path, "%(reason)s", reason=str(error.strerror or error)
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ImportFileError.about(path, "%(reason)s", reason=str(error)) from None
    _known(path, "", document, _TOP)
    columns = _table(path, document, "columns")
    _known(path, "columns.", columns, _COLUMNS)
    redcap = _table(path, document, "redcap")
    _known(path, "redcap.", redcap, _REDCAP)
    items = _table(path, document, "items")
    for key, value in [*items.items(), *columns.items(), *redcap.items()]:
        if key not in {"ignore", "ignore_unmapped"} and not isinstance(value, str):
            raise ImportFileError.about(
                path, N_("%(key)s: must be text, not %(value)s"), key=key, value=repr(value)
            )
    _one_column_per_item(path, items)
    values, item_values = _values(path, _table(path, document, "values"))
    return Mapping(
        respondent=columns.get("respondent", defaults.respondent),
        target=columns.get("target", None if "target_slug" in columns else defaults.target),
        target_slug=columns.get("target_slug"),
        items=dict(items),
        values=values,
        item_values=item_values,
        submitted_at=columns.get("submitted_at", defaults.submitted_at),
        ignore=_patterns(path, columns.get("ignore", [])),
        ignore_unmapped=_flag(path, "columns.ignore_unmapped", columns.get("ignore_unmapped")),
        timezone=_zone(path, document.get("timezone")),
        date_format=_date_format(path, document.get("date_format")),
        allow_outside_window=_flag(
            path, "allow_outside_window", document.get("allow_outside_window")
        ),
        redcap=RedcapChoice(redcap.get("form"), redcap.get("event"), redcap.get("record_id")),
    )


def _known(path: Path, prefix: str, table: dict[str, Any], known: set[str]) -> None:
    unknown = set(table) - known
    if unknown:
        raise ImportFileError.about(
            path,
            N_("%(keys)s: unknown; known: %(known)s"),
            keys=prefix + ", ".join(sorted(unknown)),
            known=", ".join(sorted(known)),
        )


def _table(path: Path, document: dict[str, Any], name: str) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ImportFileError.about(path, N_("%(name)s: must be a table ([%(name)s])"), name=name)
    return table


def _one_column_per_item(path: Path, items: dict[str, str]) -> None:
    """Two columns mapped to one item would leave the import to pick one: say so instead."""
    first: dict[str, str] = {}
    for column, key in items.items():
        if key in first:
            raise ImportFileError.about(
                path,
                N_(
                    "items: %(first)s and %(second)s both map to %(key)s; "
                    "map one column to each item"
                ),
                first=repr(first[key]),
                second=repr(column),
                key=repr(key),
            )
        first[key] = column


def _value(path: Path, where: str, value: object) -> Value:
    if value == NOT_APPLICABLE or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ImportFileError.about(
        path,
        N_("%(key)s: must be a whole number or %(na)s, not %(value)s"),
        key=where,
        na='"NA"',
        value=repr(value),
    )


def _values(
    path: Path, table: dict[str, Any]
) -> tuple[dict[str, Value], dict[str, dict[str, Value]]]:
    """The file-wide codes, and each item's own (`[values.ITEM_KEY]`)."""
    shared: dict[str, Value] = {}
    own: dict[str, dict[str, Value]] = {}
    for code, value in table.items():
        if isinstance(value, dict):
            own[code] = {str(c): _value(path, f"values.{code}.{c}", v) for c, v in value.items()}
        else:
            shared[code] = _value(path, f"values.{code}", value)
    return shared, own


def _patterns(path: Path, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ImportFileError.about(
            path,
            N_("columns.ignore: must be a list of column names or patterns, e.g. %(example)s"),
            example='["Q2 - Topics", "*___*"]',
        )
    return tuple(value)


def _flag(path: Path, key: str, value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ImportFileError.about(
            path, N_("%(key)s: must be true or false, not %(value)s"), key=key, value=repr(value)
        )
    return value


def _zone(path: Path, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in zoneinfo.available_timezones():
        raise ImportFileError.about(
            path,
            N_("timezone: %(value)s is not a time zone name such as %(paris)s or %(new_york)s"),
            value=repr(value),
            paris='"Europe/Paris"',
            new_york='"America/New_York"',
        )
    return value


def _date_format(path: Path, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "%" not in value:
        raise ImportFileError.about(
            path,
            N_("date_format: %(value)s is not a format such as %(example)s"),
            value=repr(value),
            example='"%d/%m/%Y %H:%M"',
        )
    return value
