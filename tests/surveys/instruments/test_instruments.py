"""Instruments: the defaults are complete, bad files are named precisely, loads are immutable."""

from __future__ import annotations

from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from surveys.instruments import (
    Dimension,
    Instrument,
    InstrumentError,
    Item,
    bundled_instrument_paths,
    load_instruments,
    parse_instrument,
)

MINIMAL = Path(__file__).resolve().parents[2] / "data" / "minimal_instrument.toml"


@pytest.fixture
def bundled() -> dict[str, object]:
    return {spec.direction: spec for spec in map(parse_instrument, bundled_instrument_paths())}


def test_both_directions_ship_with_twenty_to_thirty_items(bundled: dict) -> None:
    assert set(bundled) == {"site_rates_sponsor", "sponsor_rates_site"}
    for spec in bundled.values():
        items = [item for dim in spec.dimensions for item in dim.items]
        assert 20 <= len(items) <= 30
        assert 3 <= sum(item.reverse for item in items) <= 6
        assert {dim.layer for dim in spec.dimensions} == {
            "quality",
            "dependability",
            "speed",
            "cost",
        }
        assert all(len(dim.items) >= 2 for dim in spec.dimensions)
        assert spec.scale_points == 5 and len(spec.scale["en"]) == 5


def test_mirror_dimensions_pair_the_two_directions(bundled: dict) -> None:
    mirrors = [{d.mirror for d in spec.dimensions if d.mirror} for spec in bundled.values()]
    assert mirrors[0] == mirrors[1] == {"communication", "predictability"}


def test_respondent_roles_match_each_side(bundled: dict) -> None:
    assert set(bundled["site_rates_sponsor"].respondent_roles) == {
        "pi",
        "coordinator",
        "site_director",
    }
    assert set(bundled["sponsor_rates_site"].respondent_roles) == {"cra", "study_manager"}


def test_seven_point_instruments_are_accepted() -> None:
    spec = parse_instrument(MINIMAL)
    assert spec.scale_points == 7
    assert spec.languages == ("en",)


def broken(tmp_path: Path, old: str, new: str) -> Path:
    text = MINIMAL.read_text()
    assert old in text, old
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(path: Path, fragment: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(
    ("old", "new", "field", "problem", "line_fragment"),
    [
        (
            'layer = "speed"',
            'layer = "sped"',
            "dimension[2].layer",
            "'sped' is not one of",
            'layer = "sped"',
        ),
        ("scale_points = 7", "scale_points = 5", "scale.en", "exactly 5 labels", None),
        (
            '  key = "q2"\n  reverse = true',
            '  key = "q2"\n  reverse = "yes"',
            "dimension[0].item[1].reverse",
            "true or false",
            'reverse = "yes"',
        ),
        ('key = "d2"', 'key = "d1"', "dimension[1].item[1].key", "'d1' is used twice", None),
        (
            'layer = "speed"',
            'layer = "speed"\nmirror = "predictability"',
            "dimension[2].mirror",
            "'predictability' is used twice",
            None,
        ),
        (
            'name.en = "Speed"',
            'name.fr = "Vitesse"',
            "dimension[2].name",
            "English (`en`) text is required",
            None,
        ),
        (
            'respondent_roles = ["cra"]',
            'respondent_roles = ["janitor"]',
            "respondent_roles",
            "must list roles",
            "respondent_roles",
        ),
        ("version = 1", "version = 0", "version", "≥ 1", "version = 0"),
        (
            'direction = "sponsor_rates_site"',
            'direction = "both"',
            "direction",
            "must be one of",
            "direction =",
        ),
    ],
)
def test_malformed_file_names_file_field_and_line(
    tmp_path: Path, old: str, new: str, field: str, problem: str, line_fragment: str | None
) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(path)
    error = caught.value
    assert error.path == str(path)
    assert error.field == field
    assert problem in error.problem
    if line_fragment:
        assert error.line == line_of(path, line_fragment)
        assert str(error).startswith(f"{path}:{error.line}: {field}: ")


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = broken(tmp_path, 'en = "Fast."', 'en = "Fast.')
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(path)
    assert caught.value.field == "syntax"
    assert caught.value.line == line_of(path, 'en = "Fast.')


def test_dimension_with_one_item_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, '  [[dimension.item]]\n  key = "c2"\n  en = "Affordable."\n', "")
    with pytest.raises(
        InstrumentError, match=r"dimension\[3\]\.item: a dimension needs at least two items"
    ):
        parse_instrument(path)


@pytest.mark.anyio
async def test_loading_writes_dimensions_items_importance_overall_and_comment(db: Engine) -> None:
    outcomes = await load_instruments([MINIMAL])
    assert [o.status for o in outcomes] == ["loaded"]
    instrument = await Instrument.objects().get(Instrument.key == "minimal")
    assert (await Dimension.count().where(Dimension.instrument == instrument.id)) == 4
    kinds = await Item.select(
        Item.kind, Item.key, Item.min_value, Item.max_value, Item.reverse
    ).where(Item.instrument == instrument.id)
    by_kind: dict[str, list[dict]] = {}
    for row in kinds:
        by_kind.setdefault(row["kind"], []).append(row)
    assert len(by_kind["likert"]) == 8
    assert all((r["min_value"], r["max_value"]) == (1, 7) for r in by_kind["likert"])
    assert [r["key"] for r in by_kind["likert"] if r["reverse"]] == ["q2"]
    # importance is asked on three dimensions: "c" has importance = false
    assert sorted(r["key"] for r in by_kind["importance"]) == [
        "d__importance",
        "q__importance",
        "s__importance",
    ]
    assert [(r["key"], r["min_value"], r["max_value"]) for r in by_kind["overall"]] == [
        ("overall", 0, 10)
    ]
    assert [r["key"] for r in by_kind["text"]] == ["comment"]


@pytest.mark.anyio
async def test_loading_the_same_file_twice_changes_nothing(db: Engine) -> None:
    await load_instruments(bundled_instrument_paths())
    before = (await Instrument.count(), await Item.count())
    outcomes = await load_instruments(bundled_instrument_paths())
    assert {o.status for o in outcomes} == {"unchanged"}
    assert (await Instrument.count(), await Item.count()) == before


@pytest.mark.anyio
async def test_changed_file_under_the_same_version_is_refused(db: Engine, tmp_path: Path) -> None:
    await load_instruments([MINIMAL])
    changed = broken(tmp_path, 'en = "Fast."', 'en = "Very fast."')
    with pytest.raises(InstrumentError, match="bump `version` to 2"):
        await load_instruments([changed])
    bumped = broken(tmp_path, "version = 1", "version = 2")
    assert [o.status for o in await load_instruments([bumped])] == ["loaded"]
    assert await Instrument.count().where(Instrument.key == "minimal") == 2


@pytest.mark.anyio
async def test_one_bad_file_means_nothing_is_written(db: Engine, tmp_path: Path) -> None:
    bad = broken(tmp_path, 'layer = "cost"', 'layer = "price"')
    with pytest.raises(InstrumentError):
        await load_instruments([*bundled_instrument_paths(), bad])
    assert await Instrument.count() == 0
    assert await Item.count() == 0
