"""Fresh databases for every test, on SQLite always and on PostgreSQL when asked.

Set RAPPORT_TEST_POSTGRES to a server URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)
to run every database test on PostgreSQL too. When it is set and the server cannot be
reached, the tests fail: CI must not pass by skipping them.

Migrating, building a world and scoring it take a while, so each engine gets one template
of each kind per session (empty, holding a small synthetic world, and that world with its
closed cycles scored); each test then receives a copy of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from hypothesis import settings as hypothesis_settings
from piccolo.engine.base import Engine

from surveys.infra.database import engine_for, prepare, use_engine
from surveys.infra.settings import SMTPServer, parse_database_url
from tests.mail_sink import Inbox

# Property tests check behaviour, not speed (speed is measured in benchmarks/): a loaded CI
# machine must not fail an example for taking longer than Hypothesis's 200 ms default.
hypothesis_settings.register_profile("rapport", deadline=None)
hypothesis_settings.load_profile("rapport")

# a test's app or server runs its console's work itself, on either engine (no worker);
# its programme has nothing due unless a test sets one up, and tests move time themselves
os.environ.setdefault("RAPPORT_SERVE_RUNS_PROGRAMME", "yes")
POSTGRES_URL = os.environ.get("RAPPORT_TEST_POSTGRES", "").strip()
ENGINES = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]
SMALL_WORLD = {"seed": 11, "sites": 8, "cycles": 3, "raters": 3}
"""The world most database tests share: big enough for every case, quick to copy."""

Contents = Literal["empty", "world", "scored"]
"""What a template holds: nothing but the schema, the small world, or the world scored."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Template:
    """A migrated database a test can copy."""

    kind: str
    location: str
    """A file path (SQLite) or a database name (PostgreSQL)."""


def _server() -> dict[str, object]:
    return dict(parse_database_url(POSTGRES_URL).postgres)


async def _admin(sql: str) -> None:
    config = {**_server(), "database": _server().get("database", "postgres")}
    connection = await asyncpg.connect(**config, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _url(kind: str, location: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{location}"
    s = _server()
    return f"postgresql://{s['user']}@{s['host']}:{s['port']}/{location}"


def engine_at(kind: str, location: str) -> Engine:
    """Return an engine for a test database and point every table at it."""
    engine = engine_for(parse_database_url(_url(kind, location)))
    use_engine(engine)
    return engine


async def _fill(kind: str, location: str, contents: Contents) -> None:
    from scoring.config import ScoringConfig
    from surveys.infra.database import apply_migrations
    from surveys.results.cycle_scoring import score_closed_cycles
    from surveys.world import WorldParameters, build_world, keep_open_cycles_open

    engine = engine_at(kind, location)
    await prepare(engine)
    await apply_migrations()
    if contents != "empty":
        await build_world(WorldParameters(**SMALL_WORLD), actor="test")
        await keep_open_cycles_open(dt.datetime.now(dt.UTC))  # its dates are fixed, ours are not
    if contents == "scored":
        await score_closed_cycles(ScoringConfig(), "test", "test")
    if kind == "sqlite":
        await engine.run_ddl("PRAGMA wal_checkpoint(TRUNCATE)")


def _make_template(kind: str, base: Path, contents: Contents) -> Template:
    name = f"rapport_tpl_{contents}_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        location = str(base / f"{name}.sqlite")
    else:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        location = name
    asyncio.run(_fill(kind, location, contents))
    return Template(kind, location)


@pytest.fixture(scope="session")
def templates(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[tuple[str, Contents], Template]]:
    """Templates built on first use (per test process), dropped at the end of the session."""
    base = tmp_path_factory.mktemp("templates")
    made: dict[tuple[str, Contents], Template] = {}

    class Lazy(dict[tuple[str, Contents], Template]):
        def __missing__(self, key: tuple[str, Contents]) -> Template:
            made[key] = self[key] = _make_template(key[0], base, key[1])
            return made[key]

    yield Lazy()
    for template in made.values():
        if template.kind == "postgres":
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{template.location}" WITH (FORCE)'))


def _copy(template: Template, tmp_path: Path) -> str:
    if template.kind == "sqlite":
        target = tmp_path / "test.sqlite"
        shutil.copyfile(template.location, target)
        return str(target)
    name = f"rapport_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template.location}"'))
    return name


def _drop(kind: str, location: str) -> None:
    if kind == "postgres":
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{location}" WITH (FORCE)'))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `sqlite_only` runs on the embedded default alone: what it checks (how
    pages fit a phone, which words they use) is the same on every engine, and its seconds
    count against the CI budget twice otherwise. One marked `postgres_only` checks what
    only PostgreSQL has (the job queue and its `rapport worker` processes)."""
    dropped = [
        item
        for item in items
        if (item.get_closest_marker("sqlite_only") and "[postgres" in item.nodeid)
        or (item.get_closest_marker("postgres_only") and "[sqlite" in item.nodeid)
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture(params=ENGINES)
def engine_kind(request: pytest.FixtureRequest) -> str:
    """Each database test runs once per engine."""
    return str(request.param)


def _fresh(kind: str, templates: dict, tmp_path: Path, contents: Contents) -> Iterator[Engine]:
    location = _copy(templates[kind, contents], tmp_path)
    yield engine_at(kind, location)
    _drop(kind, location)


@pytest.fixture
def db(engine_kind: str, templates: dict, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated, empty database for this test, with every table pointed at it."""
    yield from _fresh(engine_kind, templates, tmp_path, "empty")


@pytest.fixture
def world_db(engine_kind: str, templates: dict, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database holding the small synthetic world (SMALL_WORLD) for this test."""
    yield from _fresh(engine_kind, templates, tmp_path, "world")


@pytest.fixture
def scored_world_db(engine_kind: str, templates: dict, tmp_path: Path) -> Iterator[Engine]:
    """The small world with every closed cycle scored (`score_closed_cycles` with the
    default configuration, code version and actor "test"), as most result tests need it."""
    yield from _fresh(engine_kind, templates, tmp_path, "scored")


@pytest.fixture
def blank_url(engine_kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, unmigrated database (to test migrating from nothing)."""
    if engine_kind == "sqlite":
        yield _url("sqlite", str(tmp_path / "blank.sqlite"))
        return
    name = f"rapport_blank_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield _url("postgres", name)
    _drop("postgres", name)


def free_port() -> int:
    """A TCP port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def url_of(engine: Engine) -> str:
    """Return the DATABASE_URL of a test engine."""
    from piccolo.engine.sqlite import SQLiteEngine

    if isinstance(engine, SQLiteEngine):
        return f"sqlite:///{engine.path}"
    return _url("postgres", engine.config["database"])


# the app served for real, for a browser (tests/e2e) or an HTTP client (tests/web)


@pytest.fixture
def served_db(request: pytest.FixtureRequest) -> Engine:
    """The database the test serves: `scored_world_db` when it asks for it, else `world_db`.

    A plain fixture, so that a PostgreSQL copy is made outside the test's event loop."""
    wanted = "scored_world_db" if "scored_world_db" in request.fixturenames else "world_db"
    database: Engine = request.getfixturevalue(wanted)
    return database


@asynccontextmanager
async def serving(database: Engine, var: Path, **env: str) -> AsyncIterator[str]:
    """`rapport serve` on a database, in a process of its own; yields its base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": url_of(database),
        "RAPPORT_PORT": str(port),
        "RAPPORT_VAR_DIR": str(var),
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "surveys", "serve"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # on a loaded machine (two test processes, each building worlds) the server can take
        # more than ten seconds to start
        for _ in range(600):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.1)
        else:
            process.terminate()  # its output ends only when it does: read it after
            _, errors = process.communicate(timeout=10)
            raise RuntimeError(errors.decode() if errors else "no server")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def server(served_db: Engine, tmp_path: Path) -> AsyncIterator[str]:
    """The app served by uvicorn on the test's database; yields its base URL."""
    async with serving(served_db, tmp_path / "var") as url:
        yield url


def pytest_report_header() -> str:
    """Say at the top of every run which databases the tests use."""
    if POSTGRES_URL:
        server = _server()
        return f"databases: SQLite and PostgreSQL ({server['host']}:{server['port']})"
    return "databases: SQLite only (set RAPPORT_TEST_POSTGRES to add PostgreSQL)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """End every run with how many database tests passed and failed on each engine."""
    counts: dict[str, dict[str, int]] = {kind: {} for kind in ENGINES}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            params = getattr(report, "nodeid", "").partition("[")[2].rstrip("]").split("-")
            for kind in ENGINES:
                if kind in params:
                    counts[kind][outcome] = counts[kind].get(outcome, 0) + 1
    terminalreporter.section("database tests per engine")
    for kind, tally in counts.items():
        summary = ", ".join(f"{n} {outcome}" for outcome, n in tally.items()) or "none ran"
        terminalreporter.write_line(f"{kind}: {summary}")


@contextmanager
def smtp_server(handler: Any) -> Iterator[SMTPServer]:
    """Serve `handler` (an aiosmtpd handler, such as tests.mail_sink.Inbox) as an SMTP server
    on localhost for as long as the block runs; yields how to reach it."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SMTPServer(
            "127.0.0.1", controller.port, None, None, implicit_tls=False, start_tls=False
        )
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, SMTPServer]]:
    """An SMTP server on localhost, and how to reach it."""
    handler = Inbox()
    with smtp_server(handler) as server:
        yield handler, server
