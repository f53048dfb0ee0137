"""Whole numbers typed by people: ASCII digits only.

Python's `str.isdigit` accepts "²" (which `int` then refuses, a crash) and `int` reads
"٣" as 3: an answer or a page number is read from the digits 0–9 and nothing else, so
that what is stored is what the form offered and anything else is refused with a message.
"""

from __future__ import annotations

LARGEST = 2**63 - 1
"""The largest number a database column holds: past it, a number is no id or count."""


def whole_number(text: str | None, largest: int = LARGEST) -> int | None:
    """`text` as a whole number from 0 to `largest`, or None if it is anything else."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(largest)):
        return None
    value = int(text)
    return value if value <= largest else None
