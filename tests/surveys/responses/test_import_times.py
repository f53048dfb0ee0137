"""Submission times as the tools write them: in the file's zone, else the mapping's, else UTC;
a date that could be read two ways is refused, never guessed."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from surveys.responses.imports import Mapping
from surveys.responses.imports._times import submission_times

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
WINDOW = (dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))


def read(cells: list[str], mapping: Mapping, zone: str | None = None) -> tuple[list[str], dict]:
    lines = pd.Series(range(4, 4 + len(cells)))
    found = submission_times(pd.Series(cells), lines, "RecordedDate", zone, mapping, NOW, WINDOW)
    moments = [m.strftime("%Y-%m-%d %H:%M") if not pd.isna(m) else "" for m in found.moments]
    return moments, {"problems": dict(found.problems), "zone": (found.zone, found.zone_from)}


def test_the_files_zone_comes_first_then_the_mappings_then_utc() -> None:
    # 13:06 in New York in November is 18:06 UTC (the example)
    moments, said = read(
        ["2026-11-02 13:06:00"], Mapping(timezone="Europe/Paris"), "America/New_York"
    )
    assert moments == ["2026-11-02 18:06"] and said["zone"] == ("America/New_York", "the file")
    moments, said = read(["2026-11-02 13:06:00"], Mapping(timezone="Europe/Paris"))
    assert moments == ["2026-11-02 12:06"] and said["zone"] == ("Europe/Paris", "the mapping")
    moments, said = read(["2026-11-02 13:06:00"], Mapping())
    assert moments == ["2026-11-02 13:06"] and said["zone"] == ("UTC", "the default")


def test_a_time_with_its_own_offset_is_read_as_written() -> None:
    moments, _ = read(
        ["2026-11-02T13:06:00-05:00", "2026-11-02T13:06:00Z"], Mapping(), "Asia/Tokyo"
    )
    assert moments == ["2026-11-02 18:06", "2026-11-02 13:06"]


def test_day_and_month_are_never_guessed() -> None:
    moments, said = read(["03/04/2026 10:00", "25/11/2026 10:00", "11/25/2026 10:00"], Mapping())
    assert "could be day first or month first" in said["problems"][4]
    assert moments[1:] == ["2026-11-25 10:00", "2026-11-25 10:00"], "a number above 12 settles it"
    moments, said = read(["03/11/2026 10:00"], Mapping(date_format="%d/%m/%Y %H:%M"))
    assert moments == ["2026-11-03 10:00"] and not said["problems"]


def test_unreadable_unfit_and_outside_times_are_refused_on_their_line() -> None:
    _, said = read(["yesterday", "", "2026-11-02 09:00"], Mapping(date_format="%d/%m/%Y %H:%M"))
    assert said["problems"][4] == (
        "column RecordedDate: 'yesterday' does not fit date_format '%d/%m/%Y %H:%M'"
    )
    assert 5 not in said["problems"], "an empty cell is the import's time"
    assert "does not fit" in said["problems"][6]
    moments, said = read(["not a date", "", "2025-01-01 00:00"], Mapping())
    assert said["problems"][4] == "column RecordedDate: 'not a date' is not a date and time"
    assert moments[1] == "2026-11-20 12:00"
    assert "before the cycle opened (2026-10-01 00:00 UTC)" in said["problems"][6]
    _, allowed = read(["2025-01-01 00:00"], Mapping(allow_outside_window=True))
    assert not allowed["problems"]
