"""Reading an instrument TOML file into a validated, immutable specification.

Nothing here touches the database: a file is parsed and checked completely before
anything is written, so a malformed file can never leave half an instrument behind.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from surveys.directory.organisations import Role
from surveys.infra.errors import FileError
from surveys.instruments._tables import Direction, Layer

BUNDLED_DIR = Path(__file__).resolve().parent
"""Where the default instruments ship."""

LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
REQUIRED_LANGUAGE = "en"
IMPORTANCE_SUFFIX = "__importance"


def importance_key(dimension: str) -> str:
    """Return the key of a dimension's importance item (`<dimension>__importance`)."""
    return f"{dimension}{IMPORTANCE_SUFFIX}"


class InstrumentError(FileError):
    """An instrument file is malformed; the message names the file, the field and the line."""


Texts = dict[str, str]
"""Text per language tag."""


@dataclass(frozen=True)
class ItemSpec:
    """One Likert item as written in the file."""

    key: str
    reverse: bool
    text: Texts


@dataclass(frozen=True)
class DimensionSpec:
    """One dimension and its Likert items."""

    key: str
    layer: str
    mirror: str | None
    importance: bool
    floor: float
    name: Texts
    description: Texts
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class InstrumentSpec:
    """A whole instrument file, validated."""

    key: str
    version: int
    direction: str
    scale_points: int
    respondent_roles: tuple[str, ...]
    title: Texts
    intro: Texts
    scale: dict[str, tuple[str, ...]]
    not_applicable: Texts
    importance_prompt: Texts
    overall_key: str
    overall: Texts
    comment_key: str
    comment: Texts
    dimensions: tuple[DimensionSpec, ...]

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages in which every text of the instrument exists, English first."""
        sets = [set(self.title), set(self.overall), set(self.comment), set(self.scale)]
        sets += [set(d.name) for d in self.dimensions]
        sets += [set(i.text) for d in self.dimensions for i in d.items]
        common = set.intersection(*sets)
        return (REQUIRED_LANGUAGE, *sorted(common - {REQUIRED_LANGUAGE}))

    def item_table(self) -> pd.DataFrame:
        """Return the items as the scoring engine reads them, indexed by item key.

        Columns: dimension, layer, reverse, kind (likert, importance, overall, text),
        floor (the dimension's 0–100 floor, under which it is an escalation flag).
        """
        rows: list[tuple[str, str | None, str | None, bool, str, float | None]] = [
            (item.key, dim.key, dim.layer, item.reverse, "likert", dim.floor)
            for dim in self.dimensions
            for item in dim.items
        ]
        rows += [
            (importance_key(dim.key), dim.key, dim.layer, False, "importance", dim.floor)
            for dim in self.dimensions
            if dim.importance
        ]
        rows += [(self.overall_key, None, None, False, "overall", None)]
        rows += [(self.comment_key, None, None, False, "text", None)]
        columns = ["item", "dimension", "layer", "reverse", "kind", "floor"]
        table = pd.DataFrame(rows, columns=columns).astype({"floor": "float64"})
        return table.set_index("item")

    @property
    def digest(self) -> str:
        """SHA-256 of the content, blind to comments, whitespace and key order."""
        canonical = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class _Reader:
    """Validates one parsed TOML document, pointing errors at their line."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()

    def fail(self, field: str, problem: str) -> InstrumentError:
        return InstrumentError(self.path, field, problem, self.line_of(field))

    def line_of(self, field: str) -> int | None:
        """Best-effort line of a dotted field such as `dimension[2].item[1].reverse`."""
        parts = re.findall(r"([A-Za-z_]+)(?:\[(\d+)\])?", field)
        target_tables = [(name, int(idx)) for name, idx in parts[:-1] if idx]
        plain_tables = [name for name, idx in parts[:-1] if not idx]
        leaf = parts[-1][0] if parts else ""
        counts: dict[str, int] = {}
        current: list[tuple[str, int]] = []
        current_plain = ""
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            array = re.match(r"^\[\[\s*([A-Za-z_.]+)\s*\]\]", line)
            table = re.match(r"^\[\s*([A-Za-z_.]+)\s*\]", line)
            if array:
                names = array.group(1).split(".")
                path_key = ".".join(names)
                counts[path_key] = counts.get(path_key, 0) + 1
                for deeper in [k for k in counts if k.startswith(path_key + ".")]:
                    counts[deeper] = 0
                current = [(n, counts[".".join(names[: i + 1])] - 1) for i, n in enumerate(names)]
                current_plain = ""
                if current == target_tables and not leaf:
                    return number
            elif table:
                current, current_plain = [], table.group(1)
                if plain_tables and current_plain == ".".join(plain_tables) and leaf == "":
                    return number
            elif (
                re.match(rf"^{re.escape(leaf)}\s*[=.]", line)
                and current == target_tables
                and current_plain == ".".join(plain_tables)
            ):
                return number
        return None

    def texts(self, value: Any, field: str) -> Texts:
        if isinstance(value, str):
            raise self.fail(field, f'write it per language, e.g. {field}.en = "{value[:30]}…"')
        if not isinstance(value, dict) or not value:
            raise self.fail(field, "missing: give the text per language, at least `en`")
        for lang, text in value.items():
            if not LANGUAGE_TAG.match(lang):
                raise self.fail(f"{field}.{lang}", "not a language tag (e.g. en, fr, pt-BR)")
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{field}.{lang}", "must be non-empty text")
        if REQUIRED_LANGUAGE not in value:
            raise self.fail(field, "English (`en`) text is required")
        return {lang: text.strip() for lang, text in value.items()}

    def language_texts(self, table: dict[str, Any], field: str, skip: set[str]) -> Texts:
        """Texts written as language keys directly inside a table (items, overall, comment)."""
        return self.texts({k: v for k, v in table.items() if k not in skip}, field)

    def key(self, value: Any, field: str) -> str:
        if not isinstance(value, str) or not KEY.match(value):
            raise self.fail(field, "must be a snake_case key (a–z, 0–9, _; starting with a letter)")
        return value

    def table(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        value = doc.get(name)
        if not isinstance(value, dict):
            raise self.fail(name, f"missing table [{name}]")
        return value

    def unknown(self, table: dict[str, Any], allowed: set[str], field: str) -> None:
        for name in table:
            if name not in allowed and not LANGUAGE_TAG.match(name):
                raise self.fail(f"{field}.{name}" if field else name, "unknown field")


def parse_instrument(path: Path) -> InstrumentSpec:
    """Return the validated specification in `path`, or raise InstrumentError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InstrumentError(path, "file", error.strerror or str(error)) from None
    except UnicodeDecodeError:
        raise InstrumentError(path, "file", "not UTF-8 text") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        raise InstrumentError(
            path, "syntax", str(error).split(" (at")[0], int(match.group(1)) if match else None
        ) from None
    return _instrument(_Reader(path, text), doc)


TOP_FIELDS = {
    "key",
    "version",
    "direction",
    "scale_points",
    "respondent_roles",
    "title",
    "intro",
    "scale",
    "not_applicable",
    "importance",
    "overall",
    "comment",
    "dimension",
}
"""The fields an instrument file may hold at its top level."""


def _instrument(r: _Reader, doc: dict[str, Any]) -> InstrumentSpec:
    """The whole file checked in the order a reader fixes it: the top fields, the scale,
    the dimensions, then the keys across them, so the first error named is the first
    to fix."""
    for name in doc:
        if name not in TOP_FIELDS:
            raise r.fail(name, "unknown field")
    key = r.key(doc.get("key"), "key")
    version = _version(r, doc)
    direction = doc.get("direction")
    if direction not in {d.value for d in Direction}:
        raise r.fail("direction", f"must be one of {', '.join(d.value for d in Direction)}")
    points = _scale_points(r, doc)
    roles = _respondent_roles(r, doc)
    scale = _scale(r, doc, points)
    overall = r.table(doc, "overall")
    comment = r.table(doc, "comment")
    dims_raw = doc.get("dimension")
    if not isinstance(dims_raw, list) or not dims_raw:
        raise r.fail("dimension", "at least one [[dimension]] is required")
    dimensions = tuple(_dimension(r, raw, i) for i, raw in enumerate(dims_raw))
    _check_dimension_keys(r, dimensions)
    _check_item_keys(r, dimensions, overall, comment)
    _check_layers(r, dimensions)
    return InstrumentSpec(
        key=key,
        version=version,
        direction=direction,
        scale_points=points,
        respondent_roles=tuple(roles),
        title=r.texts(r.table(doc, "title"), "title"),
        intro=r.texts(r.table(doc, "intro"), "intro"),
        scale=scale,
        not_applicable=r.texts(r.table(doc, "not_applicable"), "not_applicable"),
        importance_prompt=r.texts(r.table(doc, "importance"), "importance"),
        overall_key=overall["key"],
        overall=r.language_texts(overall, "overall", {"key"}),
        comment_key=comment["key"],
        comment=r.language_texts(comment, "comment", {"key"}),
        dimensions=dimensions,
    )


def _version(r: _Reader, doc: dict[str, Any]) -> int:
    """The file's version, a whole number from 1: a bump is how a loaded instrument changes."""
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise r.fail("version", "must be a whole number ≥ 1")
    return version


def _scale_points(r: _Reader, doc: dict[str, Any]) -> int:
    """The answer scale's length (5 unless written), which the scale's labels must match."""
    points = doc.get("scale_points", 5)
    if not isinstance(points, int) or isinstance(points, bool) or not 3 <= points <= 11:
        raise r.fail("scale_points", "must be a whole number from 3 to 11 (5 and 7 are usual)")
    return points


def _respondent_roles(r: _Reader, doc: dict[str, Any]) -> list[str]:
    """Who is invited to answer: roles the directory knows, or no one could be invited."""
    roles = doc.get("respondent_roles")
    known_roles = {role.value for role in Role}
    if not isinstance(roles, list) or not roles or not all(x in known_roles for x in roles):
        raise r.fail("respondent_roles", f"must list roles among {', '.join(sorted(known_roles))}")
    return roles


def _scale(r: _Reader, doc: dict[str, Any], points: int) -> dict[str, tuple[str, ...]]:
    """The scale's labels per language, one per point, English among them, so every form
    can label every answer."""
    scale: dict[str, tuple[str, ...]] = {}
    for lang, labels in r.table(doc, "scale").items():
        if not isinstance(labels, list) or len(labels) != points:
            raise r.fail(f"scale.{lang}", f"must list exactly {points} labels (scale_points)")
        scale[lang] = tuple(str(label) for label in labels)
    if REQUIRED_LANGUAGE not in scale:
        raise r.fail("scale", "English (`en`) labels are required")
    return scale


def _check_dimension_keys(r: _Reader, dimensions: tuple[DimensionSpec, ...]) -> None:
    """Refuse a dimension key or a mirror key used twice: answers and gaps are stored by them."""
    seen: set[str] = set()
    mirrors: set[str] = set()
    for d_index, dim in enumerate(dimensions):
        if dim.key in seen:
            raise r.fail(f"dimension[{d_index}].key", f"{dim.key!r} is used twice")
        seen.add(dim.key)
        if dim.mirror is not None and dim.mirror in mirrors:
            # one relationship is compared across directions one mirror key at a time
            raise r.fail(f"dimension[{d_index}].mirror", f"{dim.mirror!r} is used twice")
        if dim.mirror is not None:
            mirrors.add(dim.mirror)


def _check_item_keys(
    r: _Reader,
    dimensions: tuple[DimensionSpec, ...],
    overall: dict[str, Any],
    comment: dict[str, Any],
) -> None:
    """Refuse an item key used twice in the file: an answer is stored by its item's key."""
    item_keys = {r.key(overall.get("key"), "overall.key"), r.key(comment.get("key"), "comment.key")}
    if len(item_keys) < 2:
        raise r.fail("comment.key", "must differ from overall.key")
    for d_index, dim in enumerate(dimensions):
        for i_index, item in enumerate(dim.items):
            if item.key in item_keys:
                raise r.fail(
                    f"dimension[{d_index}].item[{i_index}].key", f"{item.key!r} is used twice"
                )
            item_keys.add(item.key)


def _check_layers(r: _Reader, dimensions: tuple[DimensionSpec, ...]) -> None:
    """Refuse dimensions out of Sand Cone order or a layer without one: the index is built
    layer on layer, quality first."""
    layers = [Layer(d.layer) for d in dimensions]
    order = list(Layer)
    if any(order.index(a) > order.index(b) for a, b in itertools.pairwise(layers)):
        raise r.fail(
            "dimension", "list dimensions in Sand Cone order: quality, dependability, speed, cost"
        )
    missing = set(Layer) - set(layers)
    if missing:
        raise r.fail(
            "dimension", f"no dimension on layer(s) {', '.join(sorted(m.value for m in missing))}"
        )


def _dimension(r: _Reader, raw: Any, index: int) -> DimensionSpec:
    field = f"dimension[{index}]"
    if not isinstance(raw, dict):
        raise r.fail(field, "must be a table")
    r.unknown(
        raw, {"key", "layer", "mirror", "importance", "floor", "name", "description", "item"}, field
    )
    key = r.key(raw.get("key"), f"{field}.key")
    layer = raw.get("layer")
    if layer not in {x.value for x in Layer}:
        raise r.fail(
            f"{field}.layer", f"{layer!r} is not one of {', '.join(x.value for x in Layer)}"
        )
    mirror = raw.get("mirror")
    if mirror is not None:
        mirror = r.key(mirror, f"{field}.mirror")
    importance = raw.get("importance", True)
    if not isinstance(importance, bool):
        raise r.fail(f"{field}.importance", "must be true or false")
    floor = raw.get("floor", 50)
    if isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 100:
        raise r.fail(f"{field}.floor", "must be a number from 0 to 100")
    items_raw = raw.get("item")
    if not isinstance(items_raw, list) or len(items_raw) < 2:
        raise r.fail(
            f"{field}.item", "a dimension needs at least two items (its reliability is measured)"
        )
    items = []
    for i, item in enumerate(items_raw):
        item_field = f"{field}.item[{i}]"
        if not isinstance(item, dict):
            raise r.fail(item_field, "must be a table")
        reverse = item.get("reverse", False)
        if not isinstance(reverse, bool):
            raise r.fail(f"{item_field}.reverse", "must be true or false")
        items.append(
            ItemSpec(
                key=r.key(item.get("key"), f"{item_field}.key"),
                reverse=reverse,
                text=r.language_texts(item, item_field, {"key", "reverse"}),
            )
        )
    return DimensionSpec(
        key=key,
        layer=layer,
        mirror=mirror,
        importance=importance,
        floor=float(floor),
        name=r.texts(raw.get("name"), f"{field}.name"),
        description=(
            r.texts(raw["description"], f"{field}.description") if "description" in raw else {}
        ),
        items=tuple(items),
    )


def bundled_instrument_paths() -> list[Path]:
    """Return the default instrument files that ship with Rapport."""
    return sorted(BUNDLED_DIR.glob("*.toml"))


def bundled_specs_by_key() -> dict[str, InstrumentSpec]:
    """Return the default instruments' specifications keyed by instrument key."""
    return {spec.key: spec for spec in map(parse_instrument, bundled_instrument_paths())}
