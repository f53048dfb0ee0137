"""Benchmark: many respondents opening and submitting the survey form at once.

Run with `make bench` (or `python benchmarks/bench_submit.py --help`). For each
database (SQLite in WAL mode, and PostgreSQL when `--postgres` gives a server), it
builds a synthetic world, issues fresh links for the open cycle's unanswered
invitations, serves the app with `rapport serve` in its own process, and lets
`--concurrency` respondents at a time open their form and submit it complete. It
reports submits per second and the latency of the submit (p50, p99), then checks the
database: every acknowledged submission is there exactly once, with all its answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import click
from _report import machine, report

from surveys.cycles.invitations import Invitation
from surveys.infra.database import apply_migrations, engine_for, prepare, use_engine
from surveys.infra.settings import parse_database_url
from surveys.infra.tokens import new_token, token_hash
from surveys.responses.answers import Answer, Response
from surveys.world import WorldParameters, build_world

READY = "Application startup complete"
"""What each server process logs once it can answer."""
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
FIELD = re.compile(r'name="(item-[^"]+)" value="([^"]+)"')


async def prepare_world(url: str, sites: int) -> list[tuple[str, int]]:
    """Build the world into `url` and return (token, invitation id) for unanswered links."""
    engine = engine_for(parse_database_url(url))
    use_engine(engine)
    await prepare(engine)
    await apply_migrations()
    await build_world(WorldParameters(sites=sites, cycles=2), actor="bench")
    rows = await Invitation.select(Invitation.id).where(
        (Invitation.cycle.status == "open") & Invitation.status.is_in(["created", "sent"])
    )
    links = []
    closes = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    for row in rows:
        token = new_token()
        links.append((token, row["id"]))
        await Invitation.update(
            {Invitation.token_hash: token_hash(token), Invitation.expires_at: closes}
        ).where(Invitation.id == row["id"])
    return links


def complete_form(html: str) -> dict[str, str]:
    """Answer every radio group on the page with its first choice (comment left empty)."""
    answers: dict[str, str] = {}
    for name, value in FIELD.findall(html):
        answers.setdefault(name, value)
    match = CSRF.search(html)
    if match is None:
        raise RuntimeError("the form has no CSRF token")
    return {**answers, "_csrf_token": match.group(1), "action": "submit", "lang_shown": "en"}


async def respondent(
    session: aiohttp.ClientSession,
    token: str,
    latencies: list[float],
    acknowledged: list[str],
    refused: list[int],
) -> None:
    """Open the form, submit it complete; record the submit's latency if it was accepted.

    Like a browser, the respondent sends back the CSRF cookie its form came with (the
    shared session keeps no cookies, so respondents never see each other's).
    """
    async with session.get(f"/s/{token}") as page:
        html = await page.text()
        cookie = page.headers.get("set-cookie", "").split(";", 1)[0]
    form = complete_form(html)
    start = time.perf_counter()
    async with session.post(
        f"/s/{token}", data=form, headers={"cookie": cookie}, allow_redirects=False
    ) as done:
        await done.read()
    latencies.append(time.perf_counter() - start)
    if done.status == 303:
        acknowledged.append(token)
    else:
        refused.append(done.status)


async def load(base: str, links: list[tuple[str, int]], concurrency: int) -> dict[str, object]:
    """Send every respondent through, `concurrency` at a time; return the figures.

    The load comes from aiohttp, the cheapest well-kept HTTP client: on a 2-core
    machine every millisecond the load generator spends is one the server cannot.
    """
    latencies: list[float] = []
    acknowledged: list[str] = []
    refused: list[int] = []
    queue = list(links)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        base,
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=60),
    ) as session:

        async def worker() -> None:
            while queue:
                token, _ = queue.pop()
                await respondent(session, token, latencies, acknowledged, refused)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    latencies.sort()
    return {
        "respondents": len(links),
        "acknowledged": len(acknowledged),
        "refused": ", ".join(f"{n}×{code}" for code, n in sorted(Counter(refused).items())) or "0",
        "seconds": round(seconds, 2),
        "submits_per_s": round(len(acknowledged) / seconds, 1),
        "submit_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "submit_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99) - 1], 1),
    }


async def verify(links: list[tuple[str, int]], acknowledged: int) -> dict[str, object]:
    """Every acknowledged submission is stored once, whole."""
    ids = [invitation_id for _, invitation_id in links]
    responses = await Response.select(Response.invitation, Response.status).where(
        Response.invitation.is_in(ids)
    )
    submitted = [r for r in responses if r["status"] == "submitted"]
    per_response = await Answer.count().where(Answer.response.invitation.is_in(ids))
    return {
        "stored_submitted": len(submitted),
        "lost": acknowledged - len(submitted),
        "duplicates": len(responses) - len({r["invitation"] for r in responses}),
        "answers_stored": per_response,
    }


def serve(url: str, port: int, folder: Path, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RAPPORT_PORT": str(port),
        "RAPPORT_VAR_DIR": str(folder),
        "RAPPORT_LINK_RATE": "1000000",
        "RAPPORT_WORKERS": str(workers),
    }
    log = (folder / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "surveys", "serve"], env=env, stdout=log, stderr=log
    )
    # the port opens before the workers have started: wait until each says it is ready
    started = (folder / "server.log").read_text(errors="replace").count(READY)
    for _ in range(600):
        log_text = (folder / "server.log").read_text(errors="replace")
        if log_text.count(READY) - started >= workers:
            return process
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the server did not start")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_one(
    label: str, url: str, sites: int, concurrency: int, folder: Path, workers: int
) -> dict[str, object]:
    links = asyncio.run(prepare_world(url, sites))
    port = free_port()
    process = serve(url, port, folder, workers)
    try:
        figures = asyncio.run(load(f"http://127.0.0.1:{port}", links, concurrency))
    finally:
        process.terminate()
        process.wait(timeout=10)
    errors = [
        line
        for line in (folder / "server.log").read_text(errors="replace").splitlines()
        if "Error" in line and "Traceback" not in line
    ]
    figures["server_errors"] = f"{len(errors)}{': ' + errors[-1][:120] if errors else ''}"
    checked = asyncio.run(verify(links, int(str(figures["acknowledged"]))))
    return {f"{label}_{key}": value for key, value in {**figures, **checked}.items()}


@click.command()
@click.option("--sites", default=120, show_default=True, help="World size (links come from it).")
@click.option("--concurrency", default=50, show_default=True, help="Respondents at a time.")
@click.option("--workers", default=2, show_default=True, help="Server processes (RAPPORT_WORKERS).")
@click.option(
    "--postgres",
    default="postgresql://postgres@127.0.0.1:5432/postgres",
    show_default=True,
    help="Server for the PostgreSQL run (a throw-away database is created); '' skips it.",
)
def main(sites: int, concurrency: int, workers: int, postgres: str) -> None:
    """Time open-and-submit for many concurrent respondents on SQLite and PostgreSQL."""
    figures: dict[str, object] = {
        "machine": machine(),
        "concurrency": concurrency,
        "workers": workers,
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        figures.update(
            run_one("sqlite", f"sqlite:///{path}/bench.sqlite", sites, concurrency, path, workers)
        )
        if postgres:
            import asyncpg

            name = f"rapport_bench_{uuid.uuid4().hex[:8]}"

            async def database(statement: str) -> None:
                connection = await asyncpg.connect(postgres)
                try:
                    await connection.execute(statement)
                finally:
                    await connection.close()

            asyncio.run(database(f'CREATE DATABASE "{name}"'))
            try:
                server = postgres.rsplit("/", 1)[0]
                figures.update(
                    run_one("postgres", f"{server}/{name}", sites, concurrency, path, workers)
                )
            finally:
                asyncio.run(database(f'DROP DATABASE "{name}" WITH (FORCE)'))
    report("Submit benchmark", figures, "submit")


if __name__ == "__main__":
    main()
