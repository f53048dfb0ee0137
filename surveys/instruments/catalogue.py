"""What is loaded: every instrument version with its number of Likert items."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.instruments._spec import InstrumentError
from surveys.instruments._tables import Dimension, Direction, Instrument, Item, ItemKind
from surveys.instruments.questionnaires import localised


@dataclass(frozen=True)
class LoadedInstrument:
    """One loaded instrument version, as `rapport instruments list` and the console show it."""

    id: int
    key: str
    version: int
    direction: str
    scale_points: int
    likert_items: int
    languages: tuple[str, ...]


async def loaded_instruments() -> list[LoadedInstrument]:
    """Every loaded instrument version, by key then version."""
    rows = (
        await Instrument.select(
            Instrument.id,
            Instrument.key,
            Instrument.version,
            Instrument.direction,
            Instrument.scale_points,
            Instrument.languages,
        )
        .output(load_json=True)
        .order_by(Instrument.key)
        .order_by(Instrument.version)
    )
    return [
        LoadedInstrument(
            id=int(row["id"]),
            key=row["key"],
            version=int(row["version"]),
            direction=row["direction"],
            scale_points=int(row["scale_points"]),
            likert_items=await Item.count().where(
                (Item.instrument == row["id"]) & (Item.kind == ItemKind.likert.value)
            ),
            languages=tuple(row["languages"]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class InstrumentVersion:
    """One loaded version, named as `key@version`."""

    id: int
    direction: Direction


async def instrument_version(named: str) -> InstrumentVersion:
    """The loaded version named `key@version` (or `key` alone: its newest), or InstrumentError
    naming the versions loaded."""
    key, _, version = named.partition("@")
    query = Instrument.select(Instrument.id, Instrument.direction, Instrument.version).where(
        Instrument.key == key.strip()
    )
    rows = await query.order_by(Instrument.version, ascending=False)
    wanted = [r for r in rows if not version or str(r["version"]) == version.strip()]
    if not wanted:
        loaded = ", ".join(f"{i.key}@{i.version}" for i in await loaded_instruments()) or "none"
        raise InstrumentError(named, "instrument", f"is not loaded; loaded: {loaded}")
    return InstrumentVersion(int(wanted[0]["id"]), Direction(wanted[0]["direction"]))


async def mirror_names(language: str = "en") -> dict[str, str]:
    """Mirror key → what the sites' questionnaire calls that dimension, in `language`.

    A perception gap is stored under the key both directions share (`communication`);
    a reader is shown the dimension's name, in the sites' own words, from the newest
    loaded version that has it. A key no loaded version names reads as itself, spaced.
    """
    rows = (
        await Dimension.select(Dimension.mirror_key, Dimension.name)
        .where(
            Dimension.mirror_key.is_not_null()
            & (Dimension.instrument._.direction == Direction.site_rates_sponsor)
        )
        .order_by(Dimension.instrument._.version, ascending=False)
        .output(load_json=True)
    )
    names: dict[str, str] = {}
    for row in rows:
        key = str(row["mirror_key"])
        if key not in names:
            names[key] = localised(row["name"], language, "") or key.replace("_", " ")
    return names
