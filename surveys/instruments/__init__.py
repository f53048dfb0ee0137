"""Instruments: versioned questionnaires, written as TOML files in this folder and loaded once.

`_tables` holds the Instrument, Dimension and Item tables, `_spec` reads and checks a
TOML file without touching the database, `_load` writes checked files immutably,
`questionnaires` gives the form its questions in a language, `catalogue` lists what is
loaded.

May import: `surveys.infra` and `surveys.directory` (the audit log).
"""

from surveys.instruments._load import LoadOutcome, load_instruments
from surveys.instruments._spec import (
    BUNDLED_DIR,
    IMPORTANCE_SUFFIX,
    REQUIRED_LANGUAGE,
    DimensionSpec,
    InstrumentError,
    InstrumentSpec,
    ItemSpec,
    bundled_instrument_paths,
    bundled_specs_by_key,
    importance_key,
    parse_instrument,
)
from surveys.instruments._tables import Dimension, Direction, Instrument, Item, ItemKind, Layer

__all__ = [
    "BUNDLED_DIR",
    "IMPORTANCE_SUFFIX",
    "REQUIRED_LANGUAGE",
    "Dimension",
    "DimensionSpec",
    "Direction",
    "Instrument",
    "InstrumentError",
    "InstrumentSpec",
    "Item",
    "ItemKind",
    "ItemSpec",
    "Layer",
    "LoadOutcome",
    "bundled_instrument_paths",
    "bundled_specs_by_key",
    "importance_key",
    "load_instruments",
    "parse_instrument",
]
