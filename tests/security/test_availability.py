"""Availability: no burst from one person or one address stalls the server or beats a limit.

The app runs in the test's own event loop (httpx's ASGI transport), so requests gathered
here are truly concurrent, as they are on a real server; Litestar's test client would
send them one at a time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from surveys.accounts import credentials
from surveys.accounts.credentials import HASHING_AT_ONCE, create_account
from surveys.attempts import AttemptLimit, AttemptPace, forget_quiet_keys
from surveys.directory.organisations import Person
from surveys.infra.database import use_engine
from surveys.infra.settings import load_settings
from surveys.web import scorecards
from surveys.web.app import SIGN_IN_ATTEMPTS, create_app
from surveys.web.render_slots import PAGES_PER_ACCOUNT, RENDERS_PER_ACCOUNT
from surveys.world.logins import DEMO_PASSWORD, demo_logins
from tests.conftest import serving, url_of
from tests.web.test_survey_form import CSRF, open_invitation
from tests.web.test_workspaces import latest_scored_cycle, organisation_of, sign_in

pytestmark = pytest.mark.anyio
NOW = dt.datetime.now(dt.UTC)
PASSWORD = "a long enough password"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[Engine], Any]:
    """Serve the app on a test's database inside the test's event loop."""
    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path / "var"))

    @asynccontextmanager
    async def serve(engine: Engine) -> AsyncIterator[Litestar]:
        monkeypatch.setenv("DATABASE_URL", url_of(engine))
        app = create_app(load_settings())
        try:
            async with app.lifespan():
                yield app
        finally:
            use_engine(engine)  # the test's own engine again, for its checks

    return serve


def browser(app: Litestar, address: str = "203.0.113.7") -> httpx.AsyncClient:
    """One browser (with its cookies) at `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def unknown_link() -> str:
    """A link of the right shape that no invitation has."""
    return "/s/" + secrets.token_urlsafe(32)


class WatchedHasher:
    """The real password hasher, noting every check: on which thread, and how many at once."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.checks: list[int] = []
        self._running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def verify(self, stored: str, password: str) -> bool:
        with self._lock:
            self.checks.append(threading.get_ident())
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)
        try:
            return bool(self.real.verify(stored, password))
        finally:
            with self._lock:
                self._running -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> WatchedHasher:
    watched = WatchedHasher(credentials._hasher)
    monkeypatch.setattr(credentials, "_hasher", watched)
    return watched


async def an_account() -> str:
    """The e-mail of a person given an account with PASSWORD."""
    person = await Person.select(Person.email).first()
    await create_account(person["email"], [], NOW, PASSWORD)
    return str(person["email"])


async def statuses(requests: list[Awaitable[httpx.Response]]) -> Counter[int]:
    return Counter(r.status_code for r in await asyncio.gather(*requests))


# the counts themselves


async def test_attempts_are_counted_up_to_the_limit_given_back_and_paced_after(
    db: Engine,
) -> None:
    guesses = AttemptLimit("link", limit=3)  # a burst of 3, then one every 20 s
    taken = [await guesses.take("198.51.100.9", now=0.0) for _ in range(4)]
    await guesses.give_back("198.51.100.9")
    after_giving_back = await guesses.take("198.51.100.9", now=1.0)
    refused = await guesses.take("198.51.100.9", now=19.0)
    paced = await guesses.take("198.51.100.9", now=20.5)
    again = await guesses.take("198.51.100.9", now=21.0)
    other_key = await guesses.take("198.51.100.10", now=21.0)
    other_bucket = await AttemptLimit("sign_in", 3).take("198.51.100.9", now=21.0)
    assert taken == [True, True, True, False]
    assert (after_giving_back, refused, paced, again) == (True, False, True, False)
    assert other_key and other_bucket, "each key and each bucket has its own allowance"
    within_any_minute = [await guesses.take("a", now=t / 10) for t in range(0, 1200)]
    assert sum(within_any_minute[:600]) == 3 + 2  # the burst, then at 20 s and 40 s
    assert sum(within_any_minute) == 3 + 5


async def test_keys_whose_allowance_is_whole_again_are_forgotten(db: Engine) -> None:
    guesses = AttemptLimit("link", limit=2)
    for n in range(50):
        await guesses.take(f"address {n}", now=float(n))
    assert await forget_quiet_keys(now=40.0) == 10  # each paced until n + 30 s
    assert await AttemptPace.count() == 40


async def test_two_server_processes_count_one_addresss_guesses_together(
    world_db: Engine, tmp_path: Path
) -> None:
    limit = {"RAPPORT_LINK_RATE": "6"}
    async with (
        serving(world_db, tmp_path / "one", **limit) as one,
        serving(world_db, tmp_path / "two", **limit) as two,
        httpx.AsyncClient() as client,
    ):
        codes = await statuses(
            [client.get(f"{(one, two)[n % 2]}{unknown_link()}") for n in range(24)]
        )
    assert codes == {404: 6, 429: 18}, "the guesses of one address are counted together"


@pytest.mark.sqlite_only  # uvicorn's reading of the proxy's headers, whatever the database
async def test_forwarded_addresses_are_believed_only_from_the_trusted_proxy(
    world_db: Engine, tmp_path: Path
) -> None:
    async def codes(trusted: str) -> list[int]:
        env = {"RAPPORT_LINK_RATE": "2", "RAPPORT_TRUSTED_PROXIES": trusted}
        async with (
            serving(world_db, tmp_path / trusted, **env) as url,
            httpx.AsyncClient() as client,
        ):
            return [
                (
                    await client.get(f"{url}{unknown_link()}", headers={"X-Forwarded-For": who})
                ).status_code
                for who in ("198.51.100.1", "198.51.100.1", "198.51.100.2") * 2
            ]

    behind_proxy = await codes("127.0.0.1")  # the test client is the proxy
    spoofed = await codes("192.0.2.99")  # a proxy elsewhere: this client's header is a lie
    assert behind_proxy == [404, 404, 404, 429, 429, 404], "each forwarded address counted"
    assert spoofed == [404, 404, 429, 429, 429, 429], "one client, whatever it claims"


# survey links


async def test_concurrent_unknown_links_get_exactly_the_limit_of_not_found_answers(
    world_db: Engine, served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_LINK_RATE", "5")
    async with served(world_db) as app, browser(app) as client:
        codes = await statuses([client.get(unknown_link()) for _ in range(40)])
    assert codes == {404: 5, 429: 35}, "counted and judged in one step, not after the lookup"


async def test_a_working_link_opens_from_an_address_that_is_over_its_limit(
    world_db: Engine, served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_LINK_RATE", "3")
    token, _, _ = await open_invitation()
    async with served(world_db) as app:
        async with browser(app, "198.51.100.1") as guesser:
            guesses = [(await guesser.get(unknown_link())).status_code for _ in range(4)]
            form = await guesser.get(f"/s/{token}")
            assert form.status_code == 200, "a working link is never limited"
            csrf = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
            saved = await guesser.post(f"/s/{token}", data={"action": "save", "_csrf_token": csrf})
            still = await guesser.get(unknown_link())
        async with browser(app, "198.51.100.2") as colleague:
            for _ in range(5):
                await colleague.get(f"/s/{token}")
            misses = await statuses([colleague.get(unknown_link()) for _ in range(3)])
    assert guesses == [404, 404, 404, 429]
    assert saved.status_code == 303, "nor is answering through it"
    assert still.status_code == 429, "a working link does not lift the pause on guessing"
    assert misses == {404: 3}, "working links do not use up an address's allowance"


# signing in


async def test_concurrent_wrong_passwords_are_checked_at_most_the_limit_of_times(
    world_db: Engine, served: Any, hasher: WatchedHasher
) -> None:
    email = await an_account()
    async with served(world_db) as app, browser(app) as client:
        page = await client.get("/sign-in/")  # its CSRF token serves the whole burst
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        form = {"email": email, "next": "/", "_csrf_token": token}
        answers = await asyncio.gather(
            *(client.post("/sign-in/", data={**form, "password": f"guess {n}"}) for n in range(30))
        )
    codes = Counter(a.status_code for a in answers)
    assert codes == {400: SIGN_IN_ATTEMPTS, 429: 30 - SIGN_IN_ATTEMPTS}
    assert all(a.headers.get("retry-after") == "60" for a in answers if a.status_code == 429)
    assert len(hasher.checks) == SIGN_IN_ATTEMPTS, "attempts are counted before the check"


async def test_password_checks_run_off_the_event_loop_a_few_at_a_time(
    world_db: Engine, served: Any, hasher: WatchedHasher
) -> None:
    async with served(world_db) as app:
        clients = [browser(app, f"192.0.2.{n}") for n in range(3 * HASHING_AT_ONCE)]
        tries = [sign_in(c, f"nobody{n}@nowhere.invalid", PASSWORD) for n, c in enumerate(clients)]
        *answers, health = await asyncio.gather(*tries, clients[0].get("/healthz"))
        for client in clients:
            await client.aclose()
    loop_thread = threading.get_ident()
    assert [a.status_code for a in answers] == [400] * len(clients)
    assert health.status_code == 200
    assert len(hasher.checks) == len(clients), "an unknown e-mail is checked against a dummy too"
    assert loop_thread not in hasher.checks, "no password check ran in the event loop"
    assert hasher.most_at_once <= HASHING_AT_ONCE


async def test_an_unknown_email_costs_one_password_check_as_a_known_one_does(
    world_db: Engine, served: Any, hasher: WatchedHasher
) -> None:
    email = await an_account()
    async with served(world_db) as app, browser(app) as client:
        unknown = await sign_in(client, "nobody@nowhere.invalid", PASSWORD)
        after_unknown = len(hasher.checks)
        wrong = await sign_in(client, email, "not the password at all")
        after_wrong = len(hasher.checks)
        right = await sign_in(client, email, PASSWORD)
    assert (unknown.status_code, wrong.status_code) == (400, 400)
    assert right.status_code == 303
    assert (after_unknown, after_wrong, len(hasher.checks)) == (1, 2, 3)


# scorecard PDFs


async def test_a_pdf_beyond_what_one_person_may_have_in_the_making_is_refused_politely(
    scored_world_db: Engine, served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = {login.who: login.email for login in await demo_logins(NOW)}
    sponsor = await organisation_of(people["sponsor user"])
    pdf = f"/w/scorecards/{await latest_scored_cycle()}/partners/{sponsor['slug']}/pdf"
    rendering: list[str] = []
    finish = asyncio.Event()

    async def slow_render(html: str) -> bytes:
        rendering.append(html)
        await finish.wait()
        return b"%PDF-1.7 rendered"

    async def until(renders: int) -> None:
        async with asyncio.timeout(60):
            while len(rendering) < renders:
                await asyncio.sleep(0.01)

    monkeypatch.setattr(scorecards, "pdf_in_worker", slow_render)
    async with (
        served(scored_world_db) as app,
        browser(app) as sponsor_user,
        browser(app) as administrator,
    ):
        await sign_in(sponsor_user, people["sponsor user"], DEMO_PASSWORD)
        await sign_in(administrator, people["administrator"], DEMO_PASSWORD)
        held = [asyncio.create_task(sponsor_user.get(pdf)) for _ in range(RENDERS_PER_ACCOUNT)]
        await until(RENDERS_PER_ACCOUNT)
        one_more = asyncio.create_task(
            sponsor_user.get(f"{pdf}?paper=letter", headers={"Accept": "text/html"})
        )
        await asyncio.wait([one_more], timeout=20)  # a refusal is at once, a queued PDF is not
        answered_at_once = one_more.done()
        other = asyncio.create_task(administrator.get(pdf))
        await until(len(rendering) + 1)
        renders = len(rendering)
        finish.set()
        made = await asyncio.gather(*held, other)
        refused = await one_more
        again = await sponsor_user.get(pdf)
    assert answered_at_once, "one PDF too many is answered at once, not queued"
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Please wait a moment" in refused.text and "scorecards in the making" in refused.text
    assert renders == RENDERS_PER_ACCOUNT + 1, "refused before any work was done"
    assert {r.status_code for r in made} == {200}, "another person is not held up"
    assert {r.content for r in made} == {b"%PDF-1.7 rendered"}
    assert again.status_code == 200, "slots are given back when a PDF is done"


async def test_scorecard_pages_beyond_what_one_person_may_have_in_the_making_are_refused(
    world_db: Engine, served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page is built in the event loop: one person's burst of pages is bounded too."""
    people = {login.who: login.email for login in await demo_logins(NOW)}
    sponsor = await organisation_of(people["sponsor user"])
    page = f"/w/scorecards/2026-Q1/partners/{sponsor['slug']}"
    building: list[str] = []
    finish = asyncio.Event()

    async def slow_page(*args: Any) -> tuple[str, str]:
        building.append(args[2])
        await finish.wait()
        return "<p>scorecard</p>", "scorecard"

    monkeypatch.setattr(scorecards, "_partner_html", slow_page)
    async with served(world_db) as app, browser(app) as client:
        await sign_in(client, people["sponsor user"], DEMO_PASSWORD)
        held = [asyncio.create_task(client.get(page)) for _ in range(PAGES_PER_ACCOUNT)]
        async with asyncio.timeout(60):
            while len(building) < PAGES_PER_ACCOUNT:
                await asyncio.sleep(0.01)
        refused = await client.get(page, headers={"Accept": "text/html"})
        finish.set()
        made = await asyncio.gather(*held)
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert len(building) == PAGES_PER_ACCOUNT, "refused before any work was done"
    assert {r.status_code for r in made} == {200}
