"""Benchmark: a whole cycle's responses imported from a 50,000-row Qualtrics export.

Run with `python benchmarks/bench_imports.py` (add `--postgres URL`, or set
RAPPORT_BENCH_POSTGRES, to measure PostgreSQL too: a scratch database is created on that
server and dropped). For each database it sets up, untimed against the goals, one open
cycle of 50,000 site-rates-sponsor invitations the way a programme gets one: the bundled
instruments loaded, a directory file of 5,000 sites with 10 staff each (every site works
with one of 20 sponsors, each sponsor names one monitor) imported, the cycle created and
opened, its letters handed to a delivery that keeps nothing. It then writes a Qualtrics
"choice text" export of one finished response per invitation (three header rows,
Qualtrics' own columns, every item of site_rates_sponsor: statements and importance as
labels, the 0–10 question, a comment, some quoted across lines) and its mapping, and
times, with peak memory for each:

1. checking and importing the file (goal: under 20 s);
2. importing it again, which changes nothing (under 10 s);
3. a copy whose last row has one impossible value, refused with its line (under 10 s);

and the floor: the bare stack's share of the same storage work (pandas reading the file,
one executemany of as many response and answer rows into the same tables, rolled back;
on PostgreSQL also COPY, its own bulk path).
Writes benchmarks/results/imports.json; exits non-zero when a goal is missed.
`--profile N` also profiles a first and a second import on SQLite, and an unchanged import
on PostgreSQL, and prints the top N.
"""

from __future__ import annotations

import asyncio
import cProfile
import csv
import datetime as dt
import io
import json
import os
import pstats
import random
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import click
import pandas as pd
from _report import machine, on_server, peak_rss_mb, report, reset_peak

from surveys.cycles.cycle import cycle_by_key
from surveys.cycles.invitations import Invitation
from surveys.cycles.life_cycle import create_cycle, open_cycle
from surveys.directory.audit import Act
from surveys.directory.directory_import import FIELDS, apply_directory, read_directory
from surveys.infra.database import apply_migrations, engine_for, prepare, use_engine
from surveys.infra.mail import Mailer
from surveys.infra.settings import parse_database_url
from surveys.instruments import load_instruments
from surveys.instruments.questionnaires import instrument_rows
from surveys.responses.answers import Answer, Response
from surveys.responses.imports import ImportFileError, import_responses, load_mapping

GOALS_S = {"check_and_import_s": 20.0, "second_import_s": 10.0, "refusal_s": 10.0}
"""Each timed step must take less than this, on every database measured."""

CYCLE = "2027-Q1"
INSTRUMENTS = Path(__file__).resolve().parents[1] / "surveys" / "instruments"
ZONE = "America/New_York"
"""The zone the export's ImportId row gives its times in."""

LIKERT = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
IMPORTANCE = [
    "Not at all important",
    "Slightly important",
    "Moderately important",
    "Very important",
    "Extremely important",
]
NOT_APPLICABLE = "Not applicable"
OVERALL_ENDS = {0: "0 - Not at all likely", 10: "10 - Extremely likely"}
"""Qualtrics' choice text for the ends of a 0–10 scale; the middle is the number."""
IMPOSSIBLE = "11"
"""The one value the refused copy's last row gets, for the 0–10 question."""


def _import_id(name: str, zone: str | None = None) -> str:
    """A cell of the ImportId row, as Qualtrics writes it (compact JSON)."""
    entries = {"ImportId": name} | ({"timeZone": zone} if zone else {})
    return json.dumps(entries, separators=(",", ":"))


METADATA = [
    ("StartDate", "Start Date", _import_id("startDate", ZONE)),
    ("EndDate", "End Date", _import_id("endDate", ZONE)),
    ("Status", "Response Type", _import_id("status")),
    ("IPAddress", "IP Address", _import_id("ipAddress")),
    ("Progress", "Progress", _import_id("progress")),
    ("Duration (in seconds)", "Duration (in seconds)", _import_id("duration")),
    ("Finished", "Finished", _import_id("finished")),
    ("RecordedDate", "Recorded Date", _import_id("recordedDate", ZONE)),
    ("ResponseId", "Response ID", _import_id("_recordId")),
    ("RecipientLastName", "Recipient Last Name", _import_id("recipientLastName")),
    ("RecipientFirstName", "Recipient First Name", _import_id("recipientFirstName")),
    ("RecipientEmail", "Recipient Email", _import_id("recipientEmail")),
    ("ExternalReference", "External Data Reference", _import_id("externalDataReference")),
    ("LocationLatitude", "Location Latitude", _import_id("locationLatitude")),
    ("LocationLongitude", "Location Longitude", _import_id("locationLongitude")),
    ("DistributionChannel", "Distribution Channel", _import_id("distributionChannel")),
    ("UserLanguage", "User Language", _import_id("userLanguage")),
]
"""Qualtrics' own columns: id, question text, ImportId."""


@dataclass(frozen=True)
class Question:
    """One column of the export: its id, the item it answers and what kind of item."""

    column: str
    key: str
    kind: str
    import_id: str


class DiscardedMail:
    """A delivery that keeps nothing: opening the cycle sends no mail anywhere."""

    description = "discarded"

    async def deliver(self, message: EmailMessage, recipient: str) -> bool:
        return True


# ------------------------------------------------------------------ setup


def write_directory(path: Path, sites: int, staff: int, partners: int, sponsors: int) -> None:
    """A canonical directory file: `sites` sites of `staff` people, each site working with
    `partners` of the `sponsors` (one row per person and sponsor); each sponsor names one
    monitor (a CRA) on one of its sites, so that the cycle asks both directions."""
    roles = ["pi", "coordinator", "site_director"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(FIELDS))
        writer.writeheader()
        for s in range(sites):
            for k in range(staff):
                for j in range(partners):
                    writer.writerow(
                        {
                            "external_id": f"S{s:05d}",
                            "organisation": f"Research Hospital {s:05d}",
                            "kind": "site",
                            "country": "US",
                            "name": f"Person {s:05d}-{k:02d}",
                            "email": f"person{s:05d}.{k:02d}@site{s:05d}.example",
                            "role": roles[k % len(roles)],
                            "language": "en",
                            "sponsor": f"Sponsor {(s + j) % sponsors:02d} Pharma",
                        }
                    )
        for p in range(sponsors):
            writer.writerow(
                {
                    "external_id": f"SP{p:03d}",
                    "organisation": f"Sponsor {p:02d} Pharma",
                    "kind": "sponsor",
                    "country": "US",
                    "name": f"Monitor {p:03d}",
                    "email": f"monitor{p:03d}@sponsor{p:03d}.example",
                    "role": "cra",
                    "language": "en",
                    "site": f"S{p:05d}",
                }
            )


async def open_database(url: str) -> None:
    engine = engine_for(parse_database_url(url))
    use_engine(engine)
    await prepare(engine)
    await apply_migrations()


async def set_up(
    folder: Path, sites: int, staff: int, partners: int, sponsors: int
) -> dict[str, float]:
    """Instruments, directory, one open cycle; return how long each took."""
    now = dt.datetime.now(dt.UTC)
    opened = now - dt.timedelta(days=30)
    spent: dict[str, float] = {}
    start = time.perf_counter()
    await load_instruments(sorted(INSTRUMENTS.glob("*.toml")), actor="bench")
    directory = folder / "directory.csv"
    write_directory(directory, sites, staff, partners, sponsors)
    await apply_directory(read_directory(directory), False, Act("bench", opened))
    spent["setup_directory_s"] = time.perf_counter() - start
    start = time.perf_counter()
    await create_cycle(CYCLE, "Spring 2027", now + dt.timedelta(days=30), opened, "bench")
    mailer = Mailer(
        "bench-secret", "https://rapport.example", "survey@rapport.example", DiscardedMail()
    )
    await open_cycle(CYCLE, opened, mailer, "bench")
    spent["setup_open_cycle_s"] = time.perf_counter() - start
    return {k: round(v, 1) for k, v in spent.items()}


# ------------------------------------------------------------------ the export


async def questions() -> list[Question]:
    """The export's question columns: Q1…Q13 the statements of each dimension (a matrix,
    Q<n>_<k>), Q14…Q26 each dimension's importance, Q27 the 0–10 question, Q28 the comment."""
    cycle = await cycle_by_key(CYCLE)
    items = (await instrument_rows(cycle.site_instrument)).items
    statements: list[Question] = []
    importance: list[Question] = []
    tail: list[Question] = []
    dimension = 0
    in_dimension = 0
    for item in items:
        if item["kind"] == "likert":
            if in_dimension == 0:
                dimension += 1
            in_dimension += 1
            column = f"Q{dimension}_{in_dimension}"
            statements.append(
                Question(column, item["key"], "likert", f"QID{dimension}_{in_dimension}")
            )
        elif item["kind"] == "importance":
            in_dimension = 0
            importance.append(Question("", item["key"], "importance", ""))
        else:
            tail.append(Question("", item["key"], item["kind"], ""))
    first = dimension + 1
    importance = [
        Question(f"Q{first + n}", q.key, q.kind, f"QID{first + n}")
        for n, q in enumerate(importance)
    ]
    last = first + len(importance)
    tail = [
        Question(
            f"Q{last + n}", q.key, q.kind, f"QID{last + n}" + ("_TEXT" if q.kind == "text" else "")
        )
        for n, q in enumerate(tail)
    ]
    return statements + importance + tail


def write_mapping(path: Path, columns: list[Question]) -> None:
    lines = [
        '# Qualtrics "Use choice text" export: question columns to item keys, labels to values.',
        "[columns]",
        'respondent = "RecipientEmail"',
        'target = "ExternalReference"',
        'submitted_at = "RecordedDate"',
        "",
        "[items]",
        *(f'{q.column} = "{q.key}"' for q in columns),
        "",
        "[values]",
        *(f'"{label}" = {n}' for n, label in enumerate(LIKERT, 1)),
        f'"{NOT_APPLICABLE}" = "NA"',
        *(f'"{label}" = {n}' for n, label in enumerate(IMPORTANCE, 1)),
    ]
    overall = next(q.key for q in columns if q.kind == "overall")
    lines += ["", f"[values.{overall}]", *(f'"{label}" = {n}' for n, label in OVERALL_ENDS.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def respondents() -> list[tuple[str, str, str]]:
    """(name, e-mail, partner slug) of each site-rates-sponsor invitation, by invitation."""
    cycle = await cycle_by_key(CYCLE)
    rows = (
        await Invitation.select(
            Invitation.respondent._.name.as_alias("name"),
            Invitation.respondent._.email.as_alias("email"),
            Invitation.target._.slug.as_alias("target"),
        )
        .where((Invitation.cycle == cycle.id) & (Invitation.instrument == cycle.site_instrument))
        .order_by(Invitation.id)
    )
    return [(r["name"], r["email"], r["target"]) for r in rows]


def write_export(path: Path, columns: list[Question], people: list[tuple[str, str, str]]) -> int:
    """Write a Qualtrics choice-text export; return the physical line its last row starts on."""
    rng = random.Random(11)
    zone_now = pd.Timestamp.now(tz=ZONE).tz_localize(None)
    first_day = zone_now - pd.Timedelta(days=28)
    comments = [
        "Faster contracts, please.",
        'The "site budget" template, again',
        "Monitor visits\nare announced too late",
        "Fewer portals; one login would do",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([m[0] for m in METADATA] + [q.column for q in columns])
    writer.writerow([m[1] for m in METADATA] + [f"{q.key} - {{partner}}" for q in columns])
    writer.writerow([m[2] for m in METADATA] + [_import_id(q.import_id) for q in columns])
    line = 4
    last_line = line
    for n, (name, email, target) in enumerate(people):
        started = first_day + pd.Timedelta(seconds=rng.randrange(27 * 86400))
        took = rng.randrange(240, 1800)
        ended = started + pd.Timedelta(seconds=took)
        first_name, _, last_name = name.partition(" ")
        row = [
            f"{started:%Y-%m-%d %H:%M:%S}",
            f"{ended:%Y-%m-%d %H:%M:%S}",
            "IP Address",
            f"192.0.{rng.randrange(256)}.{rng.randrange(256)}",
            "100",
            str(took),
            "True",
            f"{ended + pd.Timedelta(seconds=1):%Y-%m-%d %H:%M:%S}",
            f"R_{uuid.UUID(int=rng.getrandbits(128)).hex[:15]}",
            last_name,
            first_name,
            email.upper() if n % 50 == 0 else email,
            target,
            f"{rng.uniform(25, 48):.4f}",
            f"{rng.uniform(-122, -70):.4f}",
            "email",
            "EN",
        ]
        for q in columns:
            skip = rng.random() < 0.03
            if q.kind == "likert":
                cell = "" if skip else NOT_APPLICABLE if rng.random() < 0.05 else rng.choice(LIKERT)
            elif q.kind == "importance":
                cell = "" if skip else rng.choice(IMPORTANCE)
            elif q.kind == "overall":
                score = rng.randrange(11)
                cell = OVERALL_ENDS.get(score, str(score))
            else:
                cell = rng.choice(comments) if rng.random() < 0.3 else ""
            row.append(cell)
        last_line = line
        writer.writerow(row)
        line += 1 + sum(cell.count("\n") for cell in row)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return last_line


def write_refused_copy(path: Path, copy: Path, columns: list[Question]) -> None:
    """The same file with one impossible value (11 on the 0–10 question) in its last row."""
    overall = 17 + next(n for n, q in enumerate(columns) if q.kind == "overall")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[-1][overall] = IMPOSSIBLE
    with copy.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)


# ------------------------------------------------------------------ timing


async def counts() -> tuple[int, int]:
    return await Response.count(), await Answer.count()


def timed(figures: dict[str, object], name: str, step: Callable[[], Any]) -> Any:
    """Run one awaitable-returning step; record its wall time and peak memory."""
    reset_peak()
    start = time.perf_counter()
    result = asyncio.get_event_loop().run_until_complete(step())
    figures[f"{name}_s"] = round(time.perf_counter() - start, 2)
    figures[f"{name}_peak_rss_mb"] = round(peak_rss_mb())
    return result


def measure(
    url: str, folder: Path, shape: tuple[int, int, int, int], top: int = 0
) -> dict[str, object]:
    """Set up a fresh database at `url`, then time the floor and the three steps; with
    `top` (SQLite only), then profile a first and a second import into a copy of the
    set-up database."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    figures: dict[str, object] = {}
    try:
        loop.run_until_complete(open_database(url))
        start = time.perf_counter()
        figures.update(loop.run_until_complete(set_up(folder, *shape)))
        columns = loop.run_until_complete(questions())
        people = loop.run_until_complete(respondents())
        export, mapping_path, refused = (
            folder / "qualtrics.csv",
            folder / "qualtrics_mapping.toml",
            folder / "refused.csv",
        )
        last_line = write_export(export, columns, people)
        write_mapping(mapping_path, columns)
        write_refused_copy(export, refused, columns)
        figures["setup_s"] = round(time.perf_counter() - start, 1)
        figures["invitations"] = loop.run_until_complete(Invitation.count())
        figures["rows"] = len(people)
        figures["columns"] = len(METADATA) + len(columns)
        figures["file_mb"] = round(export.stat().st_size / 2**20, 1)
        mapping = load_mapping(mapping_path, "qualtrics")
        spare = folder / "profiled.sqlite"
        if top and url.startswith("sqlite"):
            _copy_sqlite(url, spare)
        figures.update(floor(url, export, columns, mapping))
        now = dt.datetime.now(dt.UTC)

        def run(path: Path) -> Callable[[], Any]:
            return lambda: import_responses(path, CYCLE, "qualtrics", mapping, now, "bench")

        first = timed(figures, "check_and_import", run(export))
        stored = loop.run_until_complete(counts())
        figures["responses_stored"], figures["answers_stored"] = stored
        again = timed(figures, "second_import", run(export))
        if first.imported != len(people) or again.imported or again.unchanged != len(people):
            raise RuntimeError(f"imports did {first} then {again}")
        if loop.run_until_complete(counts()) != stored:
            raise RuntimeError("the second import changed the stored answers")

        async def refuse() -> str:
            try:
                await run(refused)()
            except ImportFileError as error:
                return str(error)
            raise RuntimeError("the copy with an impossible value was imported")

        message = timed(figures, "refusal", refuse)
        if loop.run_until_complete(counts()) != stored:
            raise RuntimeError("the refused file changed the stored answers")
        figures["refusal_message"] = message.split("\n", 1)[-1].strip()
        figures["refusal_line_expected"] = last_line
        figures["refusal_names_its_line"] = f"line {last_line}," in message
        if top and url.startswith("sqlite"):
            loop.run_until_complete(_close())
            loop.run_until_complete(open_database(f"sqlite:///{spare}"))
            profile(run(export), top, "first import")
            profile(run(export), top, "second import, unchanged")
        elif top:
            profile(run(export), top, "import again, unchanged")
    finally:
        loop.run_until_complete(_close())
        loop.close()
    return figures


async def _close() -> None:
    engine = Response._meta.db
    close = getattr(engine, "close_connection_pool", None)
    if close is not None and getattr(engine, "pool", None) is not None:
        await close()


def floor(url: str, export: Path, columns: list[Question], mapping: Any) -> dict[str, object]:
    """The bare stack doing the same storage work: pandas reads the file, the labels become
    values column by column, and one executemany per table writes as many response and
    answer rows into the same tables, in one transaction, rolled back afterwards."""
    loop = asyncio.get_event_loop()
    reset_peak()
    start = time.perf_counter()
    frame = pd.read_csv(export, skiprows=[1, 2], dtype=str, keep_default_na=False)
    read_s = time.perf_counter() - start
    invitations = loop.run_until_complete(_invitation_ids())
    item_ids = loop.run_until_complete(_item_ids())
    when = pd.to_datetime(frame["RecordedDate"]).dt.tz_localize(ZONE).dt.tz_convert("UTC")
    ids = [
        invitations[(e.lower(), t)]
        for e, t in zip(frame["RecipientEmail"], frame["ExternalReference"], strict=True)
    ]
    first = 1
    responses = [
        (first + n, i, "submitted", "en", w, w, w)
        for n, (i, w) in enumerate(zip(ids, when.dt.to_pydatetime(), strict=True))
    ]
    codes: dict[str, Any] = {**mapping.values}
    answers: list[tuple[Any, ...]] = []
    response_ids = range(first, first + len(frame))
    for q in columns:
        cells = frame[q.column]
        item = item_ids[q.key]
        own = {**codes, **mapping.item_values.get(q.key, {})}
        for r, cell in zip(response_ids, cells, strict=True):
            if not cell:
                continue
            if q.kind == "text":
                answers.append((r, item, None, False, cell))
            else:
                value = own.get(cell, cell)
                if value == "NA":
                    answers.append((r, item, None, True, None))
                else:
                    answers.append((r, item, int(value), False, None))
    build_s = time.perf_counter() - start - read_s
    start = time.perf_counter()
    if url.startswith("sqlite"):
        _sqlite_floor(url, responses, answers)
    else:
        loop.run_until_complete(_postgres_floor(url, responses, answers))
    write_s = time.perf_counter() - start
    copy: dict[str, object] = {}
    if not url.startswith("sqlite"):
        start = time.perf_counter()
        loop.run_until_complete(_postgres_copy(url, responses, answers))
        copy["floor_copy_s"] = round(time.perf_counter() - start, 2)
    return {
        "floor_read_csv_s": round(read_s, 2),
        "floor_build_rows_s": round(build_s, 2),
        "floor_executemany_s": round(write_s, 2),
        "floor_s": round(read_s + build_s + write_s, 2),
        "floor_peak_rss_mb": round(peak_rss_mb()),
        "floor_answers": len(answers),
        **copy,
    }


async def _invitation_ids() -> dict[tuple[str, str], int]:
    rows = await Invitation.select(
        Invitation.id,
        Invitation.respondent._.email.as_alias("email"),
        Invitation.target._.slug.as_alias("target"),
    )
    return {(r["email"].lower(), r["target"]): r["id"] for r in rows}


async def _item_ids() -> dict[str, int]:
    cycle = await cycle_by_key(CYCLE)
    return dict((await instrument_rows(cycle.site_instrument)).item_ids)


RESPONSE_SQL = (
    "INSERT INTO response (id, invitation, status, language, started_at, updated_at, "
    "submitted_at) VALUES ({})"
)
ANSWER_SQL = 'INSERT INTO answer (response, item, value, not_applicable, "text") VALUES ({})'


def _sqlite_floor(
    url: str, responses: list[tuple[Any, ...]], answers: list[tuple[Any, ...]]
) -> None:
    path = parse_database_url(url).sqlite_path
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(RESPONSE_SQL.format(", ".join("?" * 7)), responses)
        connection.executemany(ANSWER_SQL.format(", ".join("?" * 5)), answers)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


async def _postgres_floor(
    url: str, responses: list[tuple[Any, ...]], answers: list[tuple[Any, ...]]
) -> None:
    connection = await asyncpg.connect(url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        marks = ", ".join(f"${n}" for n in range(1, 8))
        await connection.executemany(RESPONSE_SQL.format(marks), responses)
        marks = ", ".join(f"${n}" for n in range(1, 6))
        await connection.executemany(ANSWER_SQL.format(marks), answers)
        await transaction.rollback()
    finally:
        await connection.close()


async def _postgres_copy(
    url: str, responses: list[tuple[Any, ...]], answers: list[tuple[Any, ...]]
) -> None:
    """PostgreSQL's own bulk path (COPY), for comparison with executemany."""
    connection = await asyncpg.connect(url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.copy_records_to_table(
            "response",
            records=responses,
            columns=[
                "id",
                "invitation",
                "status",
                "language",
                "started_at",
                "updated_at",
                "submitted_at",
            ],
        )
        await connection.copy_records_to_table(
            "answer",
            records=answers,
            columns=["response", "item", "value", "not_applicable", "text"],
        )
        await transaction.rollback()
    finally:
        await connection.close()


def postgres_figures(
    server: str, folder: Path, shape: tuple[int, int, int, int], top: int = 0
) -> dict[str, object]:
    name = f"rapport_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(on_server(server, f'CREATE DATABASE "{name}"'))
    try:
        base = server.rsplit("/", 1)[0]
        return measure(f"{base}/{name}", folder, shape, top)
    finally:
        asyncio.run(on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _copy_sqlite(url: str, copy: Path) -> None:
    source = sqlite3.connect(str(parse_database_url(url).sqlite_path))
    target = sqlite3.connect(str(copy))
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def profile(step: Callable[[], Any], top: int, what: str) -> None:
    """Run one import under cProfile and print its costliest functions, by cumulative time
    and by own time."""
    print(f"--- profile: {what}")
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.get_event_loop().run_until_complete(step())
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


@click.command()
@click.option("--sites", default=5000, show_default=True)
@click.option("--staff", default=2, show_default=True, help="People at each site who rate.")
@click.option("--partners", default=5, show_default=True, help="Sponsors each site works with.")
@click.option("--sponsors", default=20, show_default=True)
@click.option(
    "--postgres",
    default=lambda: os.environ.get("RAPPORT_BENCH_POSTGRES", ""),
    help="A PostgreSQL server URL to measure too (default: $RAPPORT_BENCH_POSTGRES).",
)
@click.option(
    "--profile",
    "top",
    default=0,
    help="Also profile imports (first and second on SQLite, unchanged on PostgreSQL).",
)
def main(sites: int, staff: int, partners: int, sponsors: int, postgres: str, top: int) -> None:
    """Time checking and importing a cycle-sized Qualtrics export."""
    shape = (sites, staff, partners, sponsors)
    folder = Path(tempfile.mkdtemp(prefix="bench_imports_"))
    try:
        figures: dict[str, object] = {"machine": machine()}
        sqlite = measure(f"sqlite:///{folder}/bench.sqlite", folder, shape, top)
        figures.update({f"sqlite_{k}": v for k, v in sqlite.items()})
        measured = {"sqlite": sqlite}
        if postgres:
            measured["postgres"] = postgres_figures(postgres, folder, shape, top)
            figures.update({f"postgres_{k}": v for k, v in measured["postgres"].items()})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report("Response import benchmark (Qualtrics)", figures, "imports")
    missed = [
        f"{step} took {found[step]} s on {db} (goal < {goal:g} s)"
        for db, found in measured.items()
        for step, goal in GOALS_S.items()
        if float(found[step]) >= goal  # type: ignore[arg-type]
    ]
    if missed:
        raise SystemExit("; ".join(missed))


if __name__ == "__main__":
    main()
