"""Loading instrument specifications into the database, once and immutably."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from surveys.directory import audit
from surveys.infra.database import writing_transaction
from surveys.instruments._spec import (
    DimensionSpec,
    InstrumentError,
    InstrumentSpec,
    importance_key,
    parse_instrument,
)
from surveys.instruments._tables import Dimension, Instrument, Item, ItemKind


@dataclass(frozen=True)
class LoadOutcome:
    """What loading one file did."""

    path: Path
    key: str
    version: int
    status: str
    """`loaded` (new), or `unchanged` (the same content was already there)."""


async def load_instruments(paths: list[Path], actor: str = "system") -> list[LoadOutcome]:
    """Load instrument files: all of them, or (on any error) none of them.

    Every file is parsed and checked against what is stored before anything is
    written; the writes then happen in one transaction. Loading a file whose content
    differs from the stored copy of the same key and version raises InstrumentError
    asking for a version bump, since answers already given refer to the stored one.
    """
    specs = [(path, parse_instrument(path)) for path in paths]
    seen: dict[tuple[str, int], Path] = {}
    for path, spec in specs:
        if (spec.key, spec.version) in seen:
            raise InstrumentError(
                path,
                "version",
                f"{spec.key} v{spec.version} is also in {seen[spec.key, spec.version]}",
            )
        seen[spec.key, spec.version] = path

    plan: list[tuple[Path, InstrumentSpec, bool]] = []
    for path, spec in specs:
        stored = (
            await Instrument.select(Instrument.digest)
            .where((Instrument.key == spec.key) & (Instrument.version == spec.version))
            .first()
        )
        if stored and stored["digest"] != spec.digest:
            raise InstrumentError(
                path,
                "version",
                f"{spec.key} v{spec.version} is already loaded with different content; "
                f"a loaded version is immutable, so bump `version` to {spec.version + 1} "
                "for the change",
            )
        plan.append((path, spec, stored is None))

    outcomes = []
    async with writing_transaction(Instrument._meta.db):
        for path, spec, is_new in plan:
            if is_new:
                instrument_id = await _insert(spec, path)
                await audit.record(
                    actor,
                    "instrument.load",
                    "instrument",
                    instrument_id,
                    {"key": spec.key, "version": spec.version, "digest": spec.digest},
                )
            outcomes.append(
                LoadOutcome(path, spec.key, spec.version, "loaded" if is_new else "unchanged")
            )
    return outcomes


async def _insert(spec: InstrumentSpec, path: Path) -> int:
    """Write one checked instrument version, its dimensions and its items; return its id."""
    instrument = _instrument_row(spec, path)
    await instrument.save()
    position = 0
    items: list[Item] = []
    for d_position, dim in enumerate(spec.dimensions):
        dimension = Dimension(
            instrument=instrument.id,
            key=dim.key,
            position=d_position,
            layer=dim.layer,
            mirror_key=dim.mirror,
            asks_importance=dim.importance,
            floor=dim.floor,
            name=dim.name,
            description=dim.description,
        )
        await dimension.save()
        mine = _dimension_items(spec, dim, instrument.id, dimension.id, position)
        items += mine
        position += len(mine)
    items += _closing_items(spec, instrument.id, position)
    await Item.insert(*items)
    return int(instrument.id)


def _instrument_row(spec: InstrumentSpec, path: Path) -> Instrument:
    """The instrument's own row, with the file's text kept as loaded, for the record."""
    texts = {
        "scale": {lang: list(labels) for lang, labels in spec.scale.items()},
        "not_applicable": spec.not_applicable,
        "importance_prompt": spec.importance_prompt,
    }
    return Instrument(
        key=spec.key,
        version=spec.version,
        direction=spec.direction,
        scale_points=spec.scale_points,
        respondent_roles=list(spec.respondent_roles),
        languages=list(spec.languages),
        title=spec.title,
        intro=spec.intro,
        texts=texts,
        digest=spec.digest,
        source=path.read_text(encoding="utf-8"),
        loaded_at=dt.datetime.now(dt.UTC),
    )


def _dimension_items(
    spec: InstrumentSpec, dim: DimensionSpec, instrument_id: int, dimension_id: int, first: int
) -> list[Item]:
    """A dimension's Likert items, then its importance question if it asks one, numbered
    from `first`: the form shows items in this order."""
    items = [
        Item(
            instrument=instrument_id,
            dimension=dimension_id,
            key=item.key,
            position=first + offset,
            kind=ItemKind.likert.value,
            reverse=item.reverse,
            min_value=1,
            max_value=spec.scale_points,
            text=item.text,
        )
        for offset, item in enumerate(dim.items)
    ]
    if dim.importance:
        items.append(
            Item(
                instrument=instrument_id,
                dimension=dimension_id,
                key=importance_key(dim.key),
                position=first + len(items),
                kind=ItemKind.importance.value,
                min_value=1,
                max_value=5,
                text=spec.importance_prompt,
            )
        )
    return items


def _closing_items(spec: InstrumentSpec, instrument_id: int, position: int) -> list[Item]:
    """The overall 0–10 question and the comment, which every form ends with."""
    return [
        Item(
            instrument=instrument_id,
            key=spec.overall_key,
            position=position,
            kind=ItemKind.overall.value,
            min_value=0,
            max_value=10,
            text=spec.overall,
        ),
        Item(
            instrument=instrument_id,
            key=spec.comment_key,
            position=position + 1,
            kind=ItemKind.text.value,
            text=spec.comment,
        ),
    ]
