"""When each response was submitted, read from the file as the tool wrote it: in the zone
the file names, else the mapping's, else UTC; never a guess between day and month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from surveys.infra.i18n import N_
from surveys.responses.imports._mapping import Mapping
from surveys.responses.imports._table import Said

_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
"""A time that carries its own offset (ISO 8601): read as written, whatever the zone."""
_SLASHED = r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b"
"""A date written with slashes or dots: day first or month first, the text cannot tell."""


@dataclass(frozen=True)
class Times:
    """Submission times, one per row (UTC), with what the import should say about them."""

    moments: pd.Series
    """Aware UTC times, aligned with the rows; the import time where a cell is empty."""
    problems: tuple[tuple[int, Said], ...]
    """(line, what is wrong) for each cell that cannot be read or falls outside the window."""
    zone: str
    """The zone times without one were read in."""
    zone_from: str
    """Where that zone came from: "the file", "the mapping" or "the default"."""


def submission_times(
    cells: pd.Series,
    lines: pd.Series,
    column: str,
    file_zone: str | None,
    mapping: Mapping,
    now: dt.datetime,
    window: tuple[dt.datetime | None, dt.datetime | None],
) -> Times:
    """Read a column of submission times.

    An empty cell is the import's own time. A time with an offset is read as written; one
    without is in the file's zone (Qualtrics names it in its ImportId row), else the
    mapping's `timezone`, else UTC, and the report says which. With `date_format` every
    cell must fit it. Without one, a date written "03/04/2026" could be either day first
    or month first, and is refused unless one of its numbers is above 12, which settles it;
    a cell nothing reads is refused on its line, never replaced by the import time. Times
    outside the cycle's open window are refused unless the mapping allows them.
    """
    zone, zone_from = (
        (file_zone, "the file")
        if file_zone
        else (mapping.timezone, "the mapping")
        if mapping.timezone
        else ("UTC", "the default")
    )
    text = cells.fillna("").astype(str).str.strip()
    moments = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    problems: list[tuple[int, Said]] = []
    empty = text == ""
    moments[empty] = pd.Timestamp(now).tz_convert("UTC")
    if mapping.date_format:
        parsed = pd.to_datetime(text[~empty], format=mapping.date_format, errors="coerce")
        unfit = parsed.isna()
        problems += [
            (
                int(lines[i]),
                Said(
                    N_("column %(column)s: %(value)s does not fit date_format %(format)s"),
                    column=column,
                    value=repr(text[i]),
                    format=repr(mapping.date_format),
                ),
            )
            for i in parsed.index[unfit]
        ]
        moments[parsed.index[~unfit]] = _in_zone(parsed[~unfit], zone)
    else:
        moments, more = _read(text, empty, moments, lines, column, zone)
        problems += more
    problems += _outside(moments, lines, column, window, mapping)
    return Times(moments, tuple(problems), zone, zone_from)


def _read(
    text: pd.Series,
    empty: pd.Series,
    moments: pd.Series,
    lines: pd.Series,
    column: str,
    zone: str,
) -> tuple[pd.Series, list[tuple[int, Said]]]:
    """ISO times, with or without an offset, and slashed dates only where they are clear."""
    problems: list[tuple[int, Said]] = []
    slashed = text.str.extract(_SLASHED)
    is_slashed = slashed[0].notna() & ~empty
    first = pd.to_numeric(slashed[0], errors="coerce")
    second = pd.to_numeric(slashed[1], errors="coerce")
    day_first = is_slashed & (first > 12)
    month_first = is_slashed & (second > 12)
    unclear = is_slashed & ~day_first & ~month_first
    problems += [
        (
            int(lines[i]),
            Said(
                N_(
                    "column %(column)s: %(value)s could be day first or month first; say which "
                    "with date_format = %(day_first)s (or %(month_first)s) in the mapping"
                ),
                column=column,
                value=repr(text[i]),
                day_first='"%d/%m/%Y %H:%M"',
                month_first='"%m/%d/%Y %H:%M"',
            ),
        )
        for i in text.index[unclear]
    ]
    for chosen, dayfirst in ((day_first, True), (month_first, False)):
        if chosen.any():
            parsed = pd.to_datetime(text[chosen], dayfirst=dayfirst, errors="coerce")
            moments[parsed.index[parsed.notna()]] = _in_zone(parsed[parsed.notna()], zone)
    iso = ~empty & ~is_slashed
    aware = iso & text.str.contains(_OFFSET, regex=True)
    if aware.any():
        moments[aware] = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
    naive = iso & ~aware
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        moments[parsed.index[parsed.notna()]] = _in_zone(parsed[parsed.notna()], zone)
    unread = ~empty & ~unclear & moments.isna()
    problems += [
        (
            int(lines[i]),
            Said(
                N_("column %(column)s: %(value)s is not a date and time"),
                column=column,
                value=repr(text[i]),
            ),
        )
        for i in text.index[unread]
    ]
    return moments, problems


def _in_zone(naive: pd.Series, zone: str) -> pd.Series:
    """Wall-clock times of `zone` as UTC; a time the clocks skipped or repeated is read
    as the nearest one that existed (a quarter-hour's doubt, never a refusal)."""
    if naive.dt.tz is not None:
        return naive.dt.tz_convert("UTC")
    return naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert(
        "UTC"
    )


def _outside(
    moments: pd.Series,
    lines: pd.Series,
    column: str,
    window: tuple[dt.datetime | None, dt.datetime | None],
    mapping: Mapping,
) -> list[tuple[int, Said]]:
    """Times before the cycle opened or after it closed, unless the mapping allows them."""
    opens, closes = window
    if mapping.allow_outside_window or (opens is None and closes is None):
        return []
    known = moments.notna()
    early = known & (moments < pd.Timestamp(opens)) if opens else known & False
    late = known & (moments > pd.Timestamp(closes)) if closes else known & False
    return [
        (
            int(lines[i]),
            Said(
                N_(
                    "column %(column)s: submitted %(when)s UTC, before the cycle opened "
                    "(%(opens)s UTC); allow it with allow_outside_window = true in the mapping"
                ),
                column=column,
                when=f"{moments[i]:%Y-%m-%d %H:%M}",
                opens=f"{opens:%Y-%m-%d %H:%M}",
            )
            if early[i]
            else Said(
                N_(
                    "column %(column)s: submitted %(when)s UTC, after the cycle closed "
                    "(%(closes)s UTC); allow it with allow_outside_window = true in the mapping"
                ),
                column=column,
                when=f"{moments[i]:%Y-%m-%d %H:%M}",
                closes=f"{closes:%Y-%m-%d %H:%M}",
            ),
        )
        for i in moments.index[early | late]
    ]
