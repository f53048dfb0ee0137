"""Fixtures of the web tests: the app served for real, for a browser or an HTTP client."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from tests.conftest import free_port, url_of


@pytest.fixture
def served_db(request: pytest.FixtureRequest) -> Engine:
    """The database the test serves: `scored_world_db` when it asks for it, else `world_db`.

    A plain fixture, so that a PostgreSQL copy is made outside the test's event loop."""
    wanted = "scored_world_db" if "scored_world_db" in request.fixturenames else "world_db"
    database: Engine = request.getfixturevalue(wanted)
    return database


@pytest.fixture
async def server(served_db: Engine, tmp_path: Path) -> AsyncIterator[str]:
    """The app served by uvicorn on the test's database; yields its base URL."""
    database = served_db
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url_of(database),
        "RAPPORT_PORT": str(port),
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "surveys", "serve"],
        env=env,
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
