"""A programme run from nothing, in a real browser: the whole of an administrator's year.

On an empty database (SQLite, and PostgreSQL when RAPPORT_TEST_POSTGRES is set) the
commands a deployment starts with run as subprocesses (`rapport migrate`, `rapport
instruments load`, `rapport admin create`), the app is served by `rapport serve`, and
every e-mail goes to an SMTP server on localhost (aiosmtpd) where the test reads it.
Then, in Chromium: the administrator signs in through their e-mailed link, imports the
CTMS directory of tests/data, invites a sponsor colleague, runs a cycle (open, remind,
close, score, tier review, publish, scorecards) while respondents answer through the
links of their invitation e-mails, and the colleague reads the sponsor's portfolio.

axe-core checks every console page against WCAG 2.2 A and AA at a phone's and a
desktop's width; a serious or critical violation fails the test, after the whole flow
has run, with every finding listed. Screenshots of the main console pages at both widths
are kept in the test's folder, and copied to RAPPORT_E2E_SHOTS when that is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, smtp_server
from tests.e2e.test_browser import CHROMIUM, PHONE, WCAG, need_chromium
from tests.mail_sink import Inbox as Sink

pytestmark = pytest.mark.anyio
DATA = Path(__file__).parents[1] / "data"
DESKTOP = {"width": 1280, "height": 900}
SERIOUS = {"serious", "critical"}
ADMIN = "ada@programme-office.example"
COLLEAGUE = "chiara.petrov@kestrel.example"
"""Kestrel Pharma's relationship manager, invited as a sponsor user over Kestrel."""
SPONSOR = "Kestrel Pharma"
RESPONDENTS = [
    ("hugo.novak@ospedale04.example", SPONSOR),
    ("isabel.martin@ospedale04.example", SPONSOR),
    ("jonas.laurent@ospedale04.example", SPONSOR),
    ("olga.petrov@boston07.example", SPONSOR),
    ("bruno.laurent@kestrel.example", "Ospedale San Raffaele"),
]
"""Who answers, and about whom: four site raters of Kestrel (more than the three a
sponsor's aggregate needs) and one of Kestrel's CRAs rating a site, so both directions
are scored and Kestrel has a site's tier to review."""
CYCLE = "2027-Q1"
WAIT = 60.0
"""Seconds a background job, an e-mail or the server may take before the test gives up."""


class Inbox(Sink):
    """The SMTP sink every mail test uses (it keeps every message it is given), read the
    way a person reads their mail: the newest letter to an address, holding a link."""

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]

    async def letter(self, address: str, link: str) -> str:
        """The text of the newest message to `address` holding a link with `link` in it."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for message in reversed(self.to(address)):
                text = plain(message)
                if link in text:
                    return text
            await asyncio.sleep(0.05)
        raise AssertionError(f"no e-mail to {address} with a {link} link came")


def plain(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None, f"no text part in {message['Subject']!r}"
    return str(body.get_content())


def survey_link(letter: str, partner: str) -> str:
    """The survey link an invitation gives for `partner`: the line before a link names
    the partner (alone when a letter lists several, in a sentence when it asks about one)."""
    lines = [line.strip() for line in letter.splitlines() if line.strip()]
    for before, line in pairwise(lines):
        if re.fullmatch(r"https?://\S+/s/\S+", line) and partner in before:
            return line
    raise AssertionError(f"no link for {partner} in:\n{letter}")


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A mail server on localhost; yields what it caught and its port."""
    handler = Inbox()
    with smtp_server(handler) as server:
        yield handler, server.port


@dataclass
class Programme:
    """A fresh deployment: its environment, its served app and its mail."""

    env: dict[str, str]
    base: str
    inbox: Inbox
    log: Path
    server: subprocess.Popen[bytes]

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start a `rapport` command with the deployment's settings."""
        return subprocess.Popen(
            [sys.executable, "-m", "surveys", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    async def ready(self) -> None:
        """Wait until the server takes connections."""
        port = int(self.env["RAPPORT_PORT"])
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise AssertionError(f"the server stopped:\n{self.log.read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the server did not start:\n{self.log.read_text()}")


def finished(process: subprocess.Popen[str], what: str) -> str:
    """A command's output, once it has ended well."""
    output, _ = process.communicate(timeout=WAIT)
    assert process.returncode == 0, f"{what} failed:\n{output}"
    return output


@pytest.fixture
async def programme(tmp_path: Path, inbox: tuple[Inbox, int]) -> AsyncIterator[Programme]:
    """An empty SQLite database, migrated by `rapport migrate`, served by `rapport serve`
    (started, not yet waited for), with its e-mail going to the inbox.

    On SQLite only: the browser walk costs over a minute, and every console step it takes is
    also run on both databases by tests/web/test_console.py.
    """
    handler, smtp_port = inbox
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'programme.sqlite'}",
        "RAPPORT_PORT": str(port),
        "RAPPORT_PUBLIC_URL": base,
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        "RAPPORT_SMTP_URL": f"smtp+plain://127.0.0.1:{smtp_port}",
        "RAPPORT_MAIL_FROM": "Programme Office <surveys@programme-office.example>",
    }
    migrate = subprocess.run(
        [sys.executable, "-m", "surveys", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "surveys", "serve"], env=env, stdout=out, stderr=out
        )
    try:
        yield Programme(env, base, handler, log, server)
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass
class Checks:
    """axe-core on every page at both widths, and screenshots. Findings are kept for the
    end of the test, and written to axe.txt beside the screenshots as they come."""

    axe: Any
    shots: Path
    findings: list[str] = field(default_factory=list)
    serious: list[str] = field(default_factory=list)
    runs: int = 0

    async def violations(self, page: Any, exclude: list[str]) -> list[dict[str, Any]]:
        """axe's violations on the page (injected once per page load, not once per run)."""
        if not await page.evaluate("() => typeof window.axe === 'object'"):
            await page.evaluate(self.axe.axe_script)
        self.runs += 1
        found: list[dict[str, Any]] = await page.evaluate(
            "([context, options]) => axe.run(context, options).then(r => r.violations)",
            [{"exclude": [[selector] for selector in exclude]}, WCAG],
        )
        return found

    async def accessible(
        self, page: Any, what: str, widths: bool = True, tables: bool = True
    ) -> None:
        """Run axe at the page's width and, when `widths`, at the other one too. Without
        `tables`, the page's tables are left out: a cycle's page in a later state, whose
        tables were checked once already (they are most of axe's time on that page)."""
        now = page.viewport_size
        sizes = [now]
        if widths:
            sizes.append(PHONE if now["width"] > PHONE["width"] else DESKTOP)
        for size in sizes:
            if size != page.viewport_size:
                await page.set_viewport_size(size)
            for violation in await self.violations(page, [] if tables else [".table-wrap"]):
                line = (
                    f"{what} at {size['width']}px: {violation['impact']} {violation['id']} "
                    f"({violation['help']}) on {len(violation['nodes'])} element(s): "
                    + "; ".join(" ".join(n["target"]) for n in violation["nodes"][:3])
                )
                self.findings.append(line)
                with (self.shots / "axe.txt").open("a") as report:
                    report.write(line + "\n")
                if violation["impact"] in SERIOUS:
                    self.serious.append(line)
        if page.viewport_size != now:
            await page.set_viewport_size(now)

    async def screenshot(self, page: Any, name: str) -> None:
        """The whole page at a desktop's and a phone's width."""
        now = page.viewport_size
        wanted = os.environ.get("RAPPORT_E2E_SHOTS", "").strip()
        for label, size in [("desktop", DESKTOP), ("phone", PHONE)]:
            await page.set_viewport_size(size)
            path = self.shots / f"{name}-{label}.png"
            await page.screenshot(path=str(path), full_page=True)
            if wanted:
                Path(wanted).mkdir(parents=True, exist_ok=True)
                shutil.copy(path, Path(wanted) / path.name)
        await page.set_viewport_size(now)


async def go(page: Any, action: Any) -> None:
    """Do `action` (a click that sends a form or follows a link) and wait for the new page."""
    async with page.expect_navigation():
        await action


async def sign_in_with_link(page: Any, letter: str, base: str) -> None:
    """Open the sign-in link of a letter and press its button: the link is spent by a POST."""
    link = re.search(rf"{re.escape(base)}/sign-in/link/\S+", letter)
    assert link, letter
    await page.goto(link.group(0))
    await go(page, page.get_by_role("button", name="Sign in").click())
    assert page.url == f"{base}/", page.url


async def job_ended(page: Any, kind: str) -> str:
    """Refresh the cycle's page until its newest `kind` job has ended; its line."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        jobs = page.locator("ul.jobs > li").filter(
            has=page.locator("strong", has_text=re.compile(f"^{kind}$"))
        )
        if await jobs.count():
            line = " ".join((await jobs.first.inner_text()).split())
            if "running" not in line:
                return line
        await asyncio.sleep(0.2)
        await page.reload()
    raise AssertionError(f"the {kind} job did not end")


async def answered(page: Any) -> int:
    """How many invitations the cycle's page says are answered."""
    lede = await page.locator("p.lede").inner_text()
    found = re.search(r"(\d+) of (\d+) invitations answered", lede)
    assert found, lede
    return int(found.group(1))


async def answer(page: Any, link: str, rater: int) -> None:
    """Tap an answer to every statement (the rater's own mix of 2 to 5 on the five points)
    and to the overall question, then submit."""
    choose = random.Random(rater)
    await page.goto(link)
    groups = page.locator("fieldset.question:not(.importance)")
    statements = await groups.count() - 1  # the last one is the overall question
    assert statements >= 10
    # the n-th label of each question, tapped in the page in one go (a label a call is slow)
    picks = [choose.randint(2, 5) - 1 for _ in range(statements)] + [choose.randint(6, 10)]
    await page.evaluate(
        """picks => {
            const groups = document.querySelectorAll("fieldset.question:not(.importance)");
            picks.forEach((n, i) => groups[i].querySelectorAll("label.choice")[n].click());
        }""",
        picks,
    )
    assert await page.locator("input[type=radio]:checked").count() == statements + 1
    await go(page, page.get_by_role("button", name="Submit", exact=True).click())
    assert "Thank you" in await page.locator("h1").inner_text(), await page.content()


async def test_a_programme_runs_from_an_empty_database_to_a_sponsors_scorecard(
    programme: Programme, tmp_path: Path
) -> None:
    need_chromium()
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    base, inbox = programme.base, programme.inbox
    # the instruments and the first administrator, while the server starts
    load = programme.start("instruments", "load")
    made = programme.start(
        "admin", "create", ADMIN, "--name", "Ada Lovelace", "--organisation", "Programme Office"
    )
    finished(load, "rapport instruments load")
    assert "E-mailed a sign-in link" in finished(made, "rapport admin create")
    await programme.ready()
    checks = Checks(Axe(), tmp_path)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        admin = await (await browser.new_context(viewport=DESKTOP)).new_page()
        # the checker does catch a broken page (an image without alt text, an unlabelled box)
        await admin.set_content('<html lang="en"><body><img src="x.png"><input></body></html>')
        assert len(await checks.violations(admin, [])) >= 2

        await admin.goto(f"{base}/sign-in/link/not-a-real-link")
        await checks.accessible(admin, "the sign-in link page")
        await sign_in_with_link(admin, await inbox.letter(ADMIN, "/sign-in/link/"), base)
        await admin.goto(f"{base}/admin/")
        assert "0 relationships" in await admin.locator(".console-counts").inner_text()
        await checks.accessible(admin, "the console's home")

        # the directory: the CTMS export and its mapping, previewed, then imported
        await admin.goto(f"{base}/admin/directory/import/")
        await checks.accessible(admin, "the import form")
        await admin.set_input_files("#file", DATA / "ctms_directory.csv")
        await admin.set_input_files("#mapping", DATA / "ctms_directory.toml")
        await go(admin, admin.get_by_role("button", name="Check the file").click())
        assert "Nothing has been written yet" in await admin.locator("p.lede").inner_text()
        counts = {}
        for row in await admin.locator("tbody tr").all():
            cells = [" ".join(c.split()) for c in await row.locator("th, td").all_inner_texts()]
            counts[cells[0]] = cells[1]
        assert counts == {
            "Organisations": "18",
            "People": "40",
            "Relationships": "18",
            "Contacts on relationships": counts["Contacts on relationships"],
        }, counts
        assert int(counts["Contacts on relationships"]) > 0
        await checks.accessible(admin, "the import preview")
        await checks.screenshot(admin, "import-preview")
        await go(admin, admin.get_by_role("button", name="Import these changes").click())
        assert "Imported" in await admin.locator("h1").inner_text()
        await checks.accessible(admin, "the import's result")
        for path in ("organisations", "relationships", "instruments"):
            await admin.goto(f"{base}/admin/{path}")
            await checks.accessible(admin, f"/admin/{path}")

        # a sponsor colleague, invited with a sponsor user's grant over their sponsor
        await admin.goto(f"{base}/admin/people?search={COLLEAGUE}")
        await checks.accessible(admin, "the people found")
        await go(admin, admin.locator("tbody a[href^='/admin/people/']").first.click())
        await checks.accessible(admin, "a person")
        await go(admin, admin.get_by_role("link", name="Account and sign-in").click())
        await checks.accessible(admin, "the invitation to sign in")
        await admin.select_option("#role", "sponsor_user")
        await admin.select_option("#organisation", label=SPONSOR)
        await go(admin, admin.get_by_role("button", name="Invite Chiara Petrov").click())
        assert re.search(r"/admin/accounts/\d+\?done=invited$", admin.url), admin.url
        grants = await admin.locator("#grants + ul").inner_text()
        assert f"sponsor user (a sponsor's or a CRO's portfolio), over {SPONSOR}" in grants
        await checks.accessible(admin, "the colleague's account")
        await checks.screenshot(admin, "account")
        await admin.goto(f"{base}/admin/accounts")
        await checks.accessible(admin, "the accounts")

        colleague = await (await browser.new_context(viewport=DESKTOP)).new_page()
        await sign_in_with_link(colleague, await inbox.letter(COLLEAGUE, "/sign-in/link/"), base)
        await checks.accessible(colleague, "the colleague's home page", widths=False)

        # a cycle, created, then opened after its confirmation page
        await admin.goto(f"{base}/admin/cycles/")
        await checks.accessible(admin, "the cycles")
        closes = dt.date.today() + dt.timedelta(days=30)
        await admin.fill("#key", CYCLE)
        await admin.fill("#title", "First quarter 2027")
        await admin.fill("#closes", closes.isoformat())
        await go(admin, admin.get_by_role("button", name="Create the draft").click())
        assert "Status: draft" in await admin.locator("p.lede").inner_text()
        await checks.accessible(admin, "a draft cycle")
        await go(admin, admin.get_by_role("link", name="Open the cycle…").click())
        lede = await admin.locator("p.lede").inner_text()
        assert re.search(r"Opening sends \d+ invitations to \d+ people", lede), lede
        await checks.accessible(admin, "the opening's confirmation")
        await go(admin, admin.get_by_role("button", name=re.compile(f"^Open {CYCLE}")).click())
        line = await job_ended(admin, "open")
        assert " done" in line, line
        assert "Status: open" in await admin.locator("p.lede").inner_text()
        assert await answered(admin) == 0
        await checks.accessible(admin, "an open cycle")

        # respondents answer through their e-mailed links, on phones; the count goes up
        respondents = await (
            await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        ).new_page()
        for number, (address, partner) in enumerate(RESPONDENTS, start=1):
            letter = await inbox.letter(address, "/s/")
            await answer(respondents, survey_link(letter, partner), number)
            if number == 1:
                await checks.accessible(respondents, "the thank-you page", widths=False)
            await admin.reload()
            assert await answered(admin) == number
        await checks.accessible(admin, "the cycle with answers", tables=False)

        # remind, close, score
        await go(admin, admin.get_by_role("link", name="Remind now…").click())
        reminding = await admin.locator("p.lede").inner_text()
        assert "Nobody is due a reminder now" in reminding and "not due yet" in reminding
        await checks.accessible(admin, "the reminder's confirmation")
        await admin.goto(f"{base}/admin/cycles/{CYCLE}")
        await go(admin, admin.get_by_role("link", name="Close the cycle…").click())
        assert "Closing stops every link" in await admin.locator("p.lede").inner_text()
        await checks.accessible(admin, "the closing's confirmation")
        await go(admin, admin.get_by_role("button", name=f"Close {CYCLE}").click())
        assert "Status: closed" in await admin.locator("p.lede").inner_text()
        await checks.accessible(admin, "a closed cycle", tables=False)
        await go(admin, admin.get_by_role("button", name="Score the cycle").click())
        line = await job_ended(admin, "score")
        assert " done" in line, line
        assert "Status: scored" in await admin.locator("p.lede").inner_text()
        await checks.accessible(admin, "a scored cycle", tables=False)
        await checks.screenshot(admin, "cycle")

        # the sponsor's tier review, then publishing after its confirmation page
        review = admin.locator(".cycle-steps a", has_text=SPONSOR)
        portfolio = str(await review.get_attribute("href")).split("/tiers")[0]
        await go(admin, review.click())
        assert await admin.locator("section.tier-row").count() >= 1
        await checks.accessible(admin, "Kestrel's tier review")
        await admin.goto(f"{base}/admin/cycles/{CYCLE}")
        await go(admin, admin.get_by_role("link", name="Publish the cycle…").click())
        await checks.accessible(admin, "the publication's confirmation")
        await go(admin, admin.get_by_role("button", name=re.compile(f"^Publish {CYCLE}")).click())
        assert "Status: published" in await admin.locator("p.lede").inner_text()
        await checks.accessible(admin, "a published cycle", tables=False)

        # the scorecards, rendered and e-mailed in the background
        before = len(inbox.messages)
        await go(
            admin, admin.get_by_role("button", name="Render and e-mail the scorecards").click()
        )
        line = await job_ended(admin, "scorecards")
        assert " done" in line and "failed" not in line, line
        sent = int(re.search(r"e-mailed: (\d+)", line).group(1))  # type: ignore[union-attr]
        assert sent >= 1 and len(inbox.messages) == before + sent, line
        await checks.accessible(admin, "the cycle with its scorecards sent", tables=False)
        await admin.goto(f"{base}/admin/audit")
        await checks.accessible(admin, "the audit log")

        # the colleague reads Kestrel's portfolio, and a scorecard of the cycle
        await colleague.goto(f"{base}{portfolio}?cycle={CYCLE}")
        assert SPONSOR in await colleague.locator("h1").inner_text()
        await checks.accessible(colleague, "Kestrel's portfolio")
        scorecards = colleague.locator("a[href^='/w/scorecards/']")
        if await scorecards.count():
            await go(colleague, scorecards.first.click())
            assert await colleague.get_by_role("heading", level=1).is_visible()
            await checks.accessible(colleague, "a scorecard of Kestrel")
            await checks.screenshot(colleague, "scorecard")
        await browser.close()

    assert not checks.serious, "serious or critical violations:\n" + "\n".join(checks.serious)
