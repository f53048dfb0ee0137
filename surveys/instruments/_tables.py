"""Instrument, Dimension and Item tables: a versioned questionnaire, loaded from TOML."""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    JSON,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check, Unique
from piccolo.table import Table


class Direction(StrEnum):
    """Who rates whom."""

    site_rates_sponsor = "site_rates_sponsor"
    sponsor_rates_site = "sponsor_rates_site"

    @classmethod
    def rating(cls, kind: str) -> Direction:
        """The direction in which an organisation of this kind is rated: sites by their
        sponsors, sponsors and CROs by their sites."""
        return cls.sponsor_rates_site if kind == "site" else cls.site_rates_sponsor


class Layer(StrEnum):
    """Sand Cone layers, in the order they build on each other."""

    quality = "quality"
    dependability = "dependability"
    speed = "speed"
    cost = "cost"


class ItemKind(StrEnum):
    """What an item asks for."""

    likert = "likert"
    overall = "overall"
    """0–10: would you choose to work with them again."""
    importance = "importance"
    """1–5: how important a dimension is to the respondent."""
    text = "text"


class Instrument(Table):
    """One immutable version of a questionnaire for one direction."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    key = Varchar(length=60)
    version = Integer()
    direction = Varchar(length=24, choices=Direction)
    scale_points = Integer(default=5)
    respondent_roles = JSON()
    """Roles invited to answer it, e.g. ["pi", "coordinator"]."""
    languages = JSON()
    """Languages every text of the instrument is available in; "en" always."""
    title = JSON()
    intro = JSON()
    texts = JSON()
    """Shared wording per language: scale labels, not-applicable, importance prompt."""
    digest = Varchar(length=64)
    """SHA-256 of the parsed content: a changed file under the same version is refused."""
    source = Text()
    """The TOML text as loaded, for the record."""
    loaded_at = Timestamptz()

    instrument_one_row_per_version = Unique(["key", "version"])
    instrument_version_is_positive = Check("version >= 1")
    instrument_scale_is_sane = Check("scale_points >= 3 AND scale_points <= 11")


class Dimension(Table):
    """A group of items measuring one aspect, on one Sand Cone layer."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    instrument = ForeignKey(Instrument, on_delete=OnDelete.cascade, null=False)
    key = Varchar(length=60)
    position = Integer()
    layer = Varchar(length=16, choices=Layer)
    mirror_key = Varchar(length=60, null=True, default=None, index=True)
    """Shared with the other direction's instrument, so a relationship is compared both ways."""
    asks_importance = Boolean(default=True)
    floor = DoublePrecision(default=50.0)
    """A 0–100 score under this floor raises an escalation flag."""
    name = JSON()
    description = JSON()

    dimension_one_row_per_key = Unique(["instrument", "key"])
    dimension_layer_is_known = Check("layer IN ('quality', 'dependability', 'speed', 'cost')")
    dimension_floor_in_range = Check("floor >= 0 AND floor <= 100")


class Item(Table):
    """One question. Likert and importance items belong to a dimension; the others do not."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    instrument = ForeignKey(Instrument, on_delete=OnDelete.cascade, null=False)
    dimension = ForeignKey(Dimension, on_delete=OnDelete.cascade, null=True)
    key = Varchar(length=80)
    position = Integer()
    kind = Varchar(length=16, choices=ItemKind)
    reverse = Boolean(default=False)
    """Negatively worded: the engine scores it as scale_points + 1 − answer."""
    min_value = Integer(null=True, default=None)
    max_value = Integer(null=True, default=None)
    text = JSON()

    item_one_row_per_key = Unique(["instrument", "key"])
    item_kind_is_known = Check("kind IN ('likert', 'overall', 'importance', 'text')")
    item_range_is_ordered = Check("min_value IS NULL OR max_value IS NULL OR min_value < max_value")
    item_only_likert_reverses = Check("reverse = false OR kind = 'likert'")
