"""Which of a file's columns hold answers, which are left alone, and which the mapping gets
wrong: decided once for the whole file, before any row is read."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from surveys.infra.i18n import N_
from surveys.responses.imports._mapping import Mapping
from surveys.responses.imports._table import LINE, FileTable, Said


@dataclass(frozen=True)
class Columns:
    """The file's columns, sorted out."""

    items: dict[str, str]
    """File column → the item key it answers."""
    ignored: tuple[str, ...]
    """Columns left alone (the mapping's `ignore`, `ignore_unmapped`, or the reader's)."""
    problems: tuple[Said, ...]
    """What is wrong with the mapping for this file, one sentence each."""


def item_columns(
    table: FileTable, mapping: Mapping, item_keys: frozenset[str], identity: frozenset[str]
) -> Columns:
    """Sort the file's columns into items, ignored ones and problems.

    A column is an item when [items] maps it, or when it is named like an item key. A
    column the mapping's `ignore` patterns match (names or shell-style patterns, matched
    case-sensitively) is left alone, and so, with `ignore_unmapped`, is any other column
    that is neither an item nor the tool's own; without it, such a column stops the file,
    since it may be an answer the mapping forgot. Two columns answering one item, an
    `ignore` pattern catching a column [items] maps, a mapped column the file lacks and a
    `[values.KEY]` for no item are mistakes in the mapping, each said once.
    """
    problems: list[Said] = []
    items: dict[str, str] = {}
    ignored = list(table.ignored)
    columns = [c for c in table.rows.columns if c != LINE]
    for column in columns:
        if column in identity:
            continue
        pattern = next((p for p in mapping.ignore if fnmatchcase(column, p)), None)
        if pattern is not None:
            if column in mapping.items:
                problems.append(
                    Said(
                        N_(
                            "column %(column)s: [columns] ignore pattern %(pattern)s matches "
                            "it, and [items] maps it to %(key)s; do one or the other"
                        ),
                        column=column,
                        pattern=repr(pattern),
                        key=repr(mapping.items[column]),
                    )
                )
            ignored.append(column)
        elif column in mapping.items:
            items[column] = mapping.items[column]
        elif column in item_keys:
            items[column] = column
        elif column in table.metadata:
            continue
        elif mapping.ignore_unmapped:
            ignored.append(column)
        else:
            problems.append(
                Said(
                    N_(
                        "column %(column)s: unknown (map it to an item key in [items], or leave "
                        "it out with [columns] ignore = %(example)s or ignore_unmapped = true)"
                    ),
                    column=column,
                    example='["…"]',
                )
            )
    answered: dict[str, str] = {}
    for column, key in items.items():
        if key in answered:
            problems.append(
                Said(
                    N_(
                        "columns %(first)s and %(second)s both answer %(key)s; "
                        "map one column to each item"
                    ),
                    first=answered[key],
                    second=column,
                    key=repr(key),
                )
            )
        answered.setdefault(key, column)
    present = set(columns)
    problems += [
        Said(N_("[items] %(column)s: no such column in the file"), column=column)
        for column in mapping.items
        if column not in present
    ]
    problems += [
        Said(
            N_("[values.%(key)s]: %(quoted)s is not an item of the cycle's instruments"),
            key=key,
            quoted=repr(key),
        )
        for key in mapping.item_values
        if key not in item_keys
    ]
    return Columns(items, tuple(ignored), tuple(problems))
