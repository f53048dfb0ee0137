"""In a real browser, on a phone: open a link, answer, save, resume, switch language, submit.

Debian's Chromium (/usr/bin/chromium) driven by Playwright, against the real server in
a subprocess. Every page of the flow is checked by axe-core against WCAG 2.2 A and AA,
and screenshots of the form on a phone and a desktop are kept in the test's folder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

from surveys.cycles.invitations import Invitation
from surveys.directory.organisations import Person
from surveys.responses.answers import Answer, Response
from tests.web.test_survey_form import fresh_link

pytestmark = pytest.mark.anyio
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 375, "height": 812}
WCAG = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


async def a_link() -> tuple[str, int]:
    """A fresh token for an unanswered invitation of the open cycle, whose person reads English."""
    row = (
        await Invitation.select(Invitation.id)
        .where(
            (Invitation.status == "sent")
            & (Invitation.cycle.status == "open")
            & (Invitation.respondent.language == "en")
            & (Invitation.instrument.direction == "site_rates_sponsor")
        )
        .first()
    )
    return await fresh_link(row["id"]), row["id"]


POLICY_VIOLATIONS = """() => new Promise((done) => {
  const seen = new ReportingObserver(() => {}, {types: ["csp-violation"], buffered: true});
  seen.observe();
  setTimeout(() => done(seen.takeRecords().map(
    (r) => `${r.body.effectiveDirective} ${r.body.blockedURL || ""}`)), 50);
})"""
"""What the page's Content-Security-Policy blocked since it loaded (Chromium buffers it)."""


async def accessible(page: Any, axe: Any, what: str) -> None:
    """Fail with axe's own report if the page breaks a WCAG 2.2 A or AA rule, if its
    security policy blocked anything it needs (an inline style, a script, a font), or if it
    is wider than the screen (a page must never scroll sideways; a wide table scrolls
    inside its own frame)."""
    blocked = await page.evaluate(POLICY_VIOLATIONS)
    assert blocked == [], f"{what}: the security policy blocked {blocked}"
    results = await axe.run(page, options=WCAG)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{what}: the page scrolls sideways ({width} px)"


async def test_a_respondent_answers_on_a_phone(
    server: str, tmp_path: Path, world_db: Engine
) -> None:
    need_chromium()
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    token, invitation_id = await a_link()
    axe = Axe()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        # the checker does catch a broken page (an image without alt text, an unlabelled box)
        broken = await browser.new_page()
        await broken.set_content('<html lang="en"><body><img src="x.png"><input></body></html>')
        assert (await axe.run(broken, options=WCAG)).violations_count >= 2
        desktop = await browser.new_page(viewport={"width": 1280, "height": 900})
        await desktop.goto(f"{server}/s/{token}")
        await desktop.screenshot(path=str(tmp_path / "form-desktop.png"))
        page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)

        await page.goto(f"{server}/s/{token}")
        await page.screenshot(path=str(tmp_path / "form-phone.png"))
        await accessible(page, axe, "the form")
        groups = page.locator("fieldset.question:not(.importance)")
        statements = await groups.count() - 1  # the last one is the overall question
        # the first three statements, by keyboard-free taps on their labels
        for i in range(3):
            await groups.nth(i).locator("label.choice").nth(3).click()
        await page.get_by_role("button", name="Save and finish later").click()
        await page.wait_for_url("**notice=saved**")
        assert await page.get_by_role("status").is_visible()
        await accessible(page, axe, "the form after saving")

        # resume: the same link, later, shows the three answers
        resumed = await browser.new_page(viewport=PHONE, is_mobile=True)
        await resumed.goto(f"{server}/s/{token}")
        assert await resumed.locator("input[type=radio]:checked").count() == 3
        assert "Answered 3 of" in await resumed.locator(".progress-line").inner_text()

        # switch to French without losing them
        await resumed.select_option("#lang", "fr")
        await resumed.get_by_role("button", name="Change language").click()
        await resumed.wait_for_load_state()
        assert await resumed.get_attribute("html", "lang") == "fr"
        assert await resumed.locator("input[type=radio]:checked").count() == 3
        await accessible(resumed, axe, "the form in French")

        # submitting with gaps: errors, tied to their fields, every answer kept
        await resumed.get_by_role("button", name="Envoyer").click()
        await resumed.wait_for_load_state()
        summary = resumed.get_by_role("alert")
        assert await summary.is_visible()
        assert await resumed.locator("[aria-invalid=true]").count() > 0
        assert await resumed.locator("input[type=radio]:checked").count() == 3
        await accessible(resumed, axe, "the form with errors")

        # answer the rest: "Sans objet" for the remaining statements, 9 overall
        groups = resumed.locator("fieldset.question:not(.importance)")
        for i in range(3, statements):
            await groups.nth(i).locator("label.choice.na").click()
        await groups.nth(statements).locator("label.choice").nth(9).click()
        await resumed.get_by_label("(facultatif)").fill("Merci <b>beaucoup</b>")
        await resumed.get_by_role("button", name="Envoyer").click()
        await resumed.wait_for_load_state()
        assert "Merci" in await resumed.locator("h1").inner_text()
        await accessible(resumed, axe, "the thank-you page")
        await resumed.screenshot(path=str(tmp_path / "thanks-phone.png"))
        await browser.close()

    responses = await Response.select(Response.status, Response.language).where(
        Response.invitation == invitation_id
    )
    assert [(r["status"], r["language"]) for r in responses] == [("submitted", "fr")]
    answers = await Answer.select(Answer.value, Answer.not_applicable, Answer.text).where(
        Answer.response.invitation == invitation_id
    )
    assert sum(a["not_applicable"] for a in answers) == statements - 3
    assert sorted(a["value"] for a in answers if a["value"] is not None) == [4, 4, 4, 9]
    assert [a["text"] for a in answers if a["text"]] == ["Merci <b>beaucoup</b>"]


async def test_a_sponsor_reviews_its_portfolio_and_a_tier_in_japanese(
    server: str, scored_world_db: Engine, tmp_path: Path
) -> None:
    """A reviewer whose directory record says Japanese signs in, opens the portfolio, sorts
    it, overrides a tier (first without a reason) and signs out, every page in Japanese: on
    a desktop and a phone, with axe on every page."""
    need_chromium()
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    from surveys.results.tier_assignments import TierAssignment

    sponsor_user = await demo_login("sponsor user")
    await Person.update({Person.language: "ja"}).where(Person.email == sponsor_user.email)
    axe = Axe()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        for name, viewport in [("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)]:
            page = await browser.new_page(viewport=viewport, locale="ja-JP")
            await page.goto(f"{server}/")
            assert "/sign-in" in page.url, "the home page asks to sign in first"
            assert await page.get_attribute("html", "lang") == "ja", "the browser's language"
            await accessible(page, axe, f"sign-in ({name})")
            await sign_in_as(page, sponsor_user.email, "ja")
            await accessible(page, axe, f"the home page ({name})")
            async with page.expect_navigation():
                await page.locator("a[href^='/w/sponsors/']").first.click()
            async with page.expect_navigation():
                await page.get_by_role("link", name=said("ja", "Index [90%% interval]")).click()
            assert "sort=index" in page.url
            await page.screenshot(path=str(tmp_path / f"portfolio-{name}.png"), full_page=True)
            await accessible(page, axe, f"the portfolio ({name})")
            if name == "desktop":  # the scorecard's inline stylesheet and bars, by the policy
                async with page.expect_navigation():
                    await page.locator("a[href^='/w/scorecards/']").first.click()
                assert await page.locator(".hbar, svg").count() > 0
                await accessible(page, axe, "the sponsor's scorecard")
                await page.goto(f"{server}/schema")  # Swagger UI, from Rapport's own files
                await page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
                blocked = await page.evaluate(POLICY_VIOLATIONS)
                assert blocked == [], f"the API reference: the policy blocked {blocked}"
                await page.go_back()
                await page.go_back()
            await page.goto(page.url.split("?")[0] + "/tiers")
            await accessible(page, axe, f"tier review ({name})")
            first = page.locator("section.tier-row").first
            await first.locator("details.override-details summary").click()  # folded
            await first.locator("select").select_option("1")
            await first.locator("textarea").fill("")  # the desktop pass left its reason
            async with page.expect_navigation():
                await first.locator("form.override").get_by_role("button").click()
            assert await page.get_by_role("alert").is_visible()
            assert await page.locator("[aria-invalid=true]").count() == 1
            await accessible(page, axe, f"tier review with an error ({name})")
            first = page.locator("section.tier-row").first
            await first.locator("textarea").fill(f"Reviewed on the {name}")
            async with page.expect_navigation():
                await first.locator("form.override").get_by_role("button").click()
            await page.screenshot(path=str(tmp_path / f"tiers-{name}.png"))
            async with page.expect_navigation():
                await page.locator("form.accept-all button").click()
            await accessible(page, axe, f"accept all, to confirm ({name})")
            assert await page.get_attribute("html", "lang") == "ja"
            async with page.expect_navigation():
                await page.get_by_role("button", name=said("ja", "Sign out")).click()
            assert "/sign-in" in page.url
            await page.close()
        await browser.close()
    reasons = {
        r["override_reason"]
        for r in await TierAssignment.select(TierAssignment.override_reason).where(
            TierAssignment.override_tier == 1
        )
    }
    assert {"Reviewed on the desktop", "Reviewed on the phone"} <= reasons | {
        "Reviewed on the desktop"
    }
    assert "Reviewed on the phone" in reasons


async def sign_in_as(page: Any, email: str, language: str = "en") -> None:
    """Fill in and send the sign-in form the page is on (written in `language`)."""
    from surveys.world.logins import DEMO_PASSWORD

    await page.fill("#email", email)
    await page.fill("#password", DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name=said(language, "Sign in"), exact=True).click()


def said(language: str, message: str) -> str:
    """A text of the interface as a page in `language` shows it ("%%" printed as "%")."""
    from surveys.infra.i18n import translations

    return str(translations(language).ugettext(message)).replace("%%", "%")


async def test_a_relationship_manager_compares_sites_over_the_cycles(
    server: str, scored_world_db: Engine, tmp_path: Path
) -> None:
    """From the home page to the trends, then two sites ticked and compared: axe on each."""
    need_chromium()
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    manager = await demo_login("relationship manager")
    axe = Axe()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        for name, viewport in [("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)]:
            page = await browser.new_page(viewport=viewport)
            await page.goto(f"{server}/sign-in/")
            await sign_in_as(page, manager.email)
            async with page.expect_navigation():
                await page.locator("a[href^='/w/trends/']").first.click()
            await accessible(page, axe, f"trends ({name})")
            boxes = page.locator("input[name=org]")
            for i in range(2):
                await boxes.nth(i).check()
            picked = [await boxes.nth(i).get_attribute("value") for i in range(2)]
            async with page.expect_navigation():
                await page.get_by_role("button", name="Compare").click()
            assert all(f"org={slug}" in page.url for slug in picked)
            assert await page.locator(".small-multiples svg.chart").count() == 2
            await page.get_by_text("The figures as a table").click()
            await page.screenshot(path=str(tmp_path / f"trends-{name}.png"), full_page=True)
            await accessible(page, axe, f"trends of two chosen sites ({name})")
            await page.close()
        await browser.close()


async def test_a_site_coordinator_adds_an_action_item_for_the_review_meeting_in_french(
    server: str, scored_world_db: Engine
) -> None:
    """A coordinator whose directory record says French goes from the site's page to a
    sponsor's review meeting, then adds and edits an action item, every page in French:
    axe on the pack, on the refused forms and on the page with the item (the pages on a
    desktop too)."""
    need_chromium()
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    from surveys.results.meetings import ActionItem
    from surveys.results.tier_review import publish_all_but_latest

    await publish_all_but_latest("test", dt.datetime.now(dt.UTC))
    coordinator = await demo_login("site coordinator")
    await Person.update({Person.language: "fr"}).where(Person.email == coordinator.email)
    due, moved = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=d) for d in (60, 90))
    axe = Axe()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        desktop = await browser.new_page(viewport={"width": 1280, "height": 900})
        await desktop.goto(f"{server}/sign-in/")
        await sign_in_as(desktop, coordinator.email)  # the browser's English, until signed in
        assert await desktop.get_attribute("html", "lang") == "fr", "the person's own language"
        async with desktop.expect_navigation():
            await desktop.locator("a[href^='/w/sites/']").first.click()
        await accessible(desktop, axe, "the site's results (desktop)")
        async with desktop.expect_navigation():
            await desktop.locator("a[href^='/w/relationships/']").first.click()
        await accessible(desktop, axe, "the review meeting pack (desktop)")
        await desktop.close()
        page = await browser.new_page(viewport=PHONE, locale="fr-FR")
        await page.goto(f"{server}/sign-in/")
        await sign_in_as(page, coordinator.email, "fr")
        async with page.expect_navigation():
            await page.locator("a[href^='/w/sites/']").first.click()
        assert await page.locator("svg.interval-plot").count() == 2
        await accessible(page, axe, "the site's results (phone)")
        async with page.expect_navigation():
            await page.locator("a[href^='/w/relationships/']").first.click()
        await accessible(page, axe, "the review meeting pack (phone)")
        await page.fill("#title", "Send monthly enrolment forecasts")
        await page.fill("#owner", "Site director")
        await page.locator("input[name=side][value=site]").check()
        # a browser without a date picker lets any text through: the server refuses it
        await page.locator("#due_on").evaluate("e => e.type = 'text'")
        await page.fill("#due_on", "end of February")
        add = said("fr", "Add the action item")
        async with page.expect_navigation():
            await page.get_by_role("button", name=add).click()
        assert await page.get_by_role("alert").is_visible()
        assert await page.input_value("#owner") == "Site director", "what was typed is kept"
        await accessible(page, axe, "the refused action item (phone)")
        await page.fill("#due_on", due.isoformat())
        async with page.expect_navigation():
            await page.get_by_role("button", name=add).click()
        assert await page.get_by_role(
            "heading", name="Send monthly enrolment forecasts"
        ).is_visible()
        assert await page.get_by_role("status").inner_text() == said("fr", "Action item added.")
        await accessible(page, axe, "the meeting with an action item (phone)")
        edit = page.locator("details.edit-action").first
        await edit.locator("summary").click()
        await edit.locator("input[name=due_on]").evaluate("e => e.type = 'text'")
        await edit.locator("input[name=due_on]").fill("2020-02-28")
        save = said("fr", "Save “%(title)s”").split("%(")[0].strip()
        async with page.expect_navigation():
            await edit.get_by_role("button", name=save).click()
        assert await page.get_by_role("alert").is_visible(), "a due date gone by is refused"
        await accessible(page, axe, "the refused edit, its form open (phone)")
        await edit.locator("input[name=due_on]").fill(moved.isoformat())
        async with page.expect_navigation():
            await edit.get_by_role("button", name=save).click()
        assert await page.get_by_role("status").inner_text() == said("fr", "Saved.")
        assert await page.get_attribute("html", "lang") == "fr"
        async with page.expect_navigation():
            await page.locator("a[href^='/w/scorecards/']").first.click()
        assert await page.get_by_role("heading", level=1).is_visible()
        await accessible(page, axe, "the site's scorecard (phone)")
        await browser.close()
    items = await ActionItem.select(ActionItem.title, ActionItem.side, ActionItem.due_on)
    assert items == [
        {
            "title": "Send monthly enrolment forecasts",
            "side": "site",
            "due_on": moved,
        }
    ]


async def test_a_network_director_compares_the_networks_sites_then_opens_one(
    server: str, scored_world_db: Engine, tmp_path: Path
) -> None:
    """From the home page to the network's sites side by side, then one site's results:
    on a desktop and a phone, with axe on each page."""
    need_chromium()
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    from surveys.results.tier_review import publish_all_but_latest

    await publish_all_but_latest("test", dt.datetime.now(dt.UTC))
    director = await demo_login("network director")
    axe = Axe()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        for name, viewport in [("desktop", {"width": 1280, "height": 900}), ("phone", PHONE)]:
            page = await browser.new_page(viewport=viewport)
            await page.goto(f"{server}/sign-in/")
            await sign_in_as(page, director.email)
            async with page.expect_navigation():
                await page.locator("a[href^='/w/networks/']").first.click()
            chart = page.locator("svg.interval-plot")
            assert "network median" in (await chart.locator("desc").text_content() or "")
            await page.screenshot(path=str(tmp_path / f"network-{name}.png"), full_page=True)
            await accessible(page, axe, f"the network's sites ({name})")
            site = page.locator("table a[href^='/w/sites/']").first
            site_name = await site.text_content()
            async with page.expect_navigation():
                await site.click()
            assert await page.get_by_role("heading", level=1).text_content() == (
                f"{site_name}: results"
            )
            await accessible(page, axe, f"a site of the network ({name})")
            await page.close()
        await browser.close()


@pytest.mark.sqlite_only
async def test_every_workspace_page_and_scorecard_fits_a_phone(
    server: str, scored_world_db: Engine, tmp_path: Path
) -> None:
    """Every workspace page and every on-screen scorecard, at 375 px, as whoever may open it
    (an administrator opens them all; a site's coordinator reads its own site and its draft
    scorecard, with the reply link): no page scrolls sideways, axe finds nothing, and the
    portfolio shows each site's name, tier, index and change without scrolling."""
    need_chromium()
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    from surveys.results.tier_review import publish_all_but_latest
    from tests.web.test_workspaces import characters, organisation_of, workspace_pages

    await publish_all_but_latest("test", dt.datetime.now(dt.UTC))
    people = await characters()
    pages = {
        path: name
        for path, name in (await workspace_pages(people)).items()
        if not name.endswith(("(API)", "(CSV)")) and name != "outside site scorecard"
    }
    assert sum("scorecard" in name for name in pages.values()) == 7, "partner, portfolio, network"
    coordinator = await organisation_of(people["site coordinator"])
    axe = Axe()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        for who, walk in [
            ("administrator", pages),
            ("site coordinator", {f"/w/sites/{coordinator['slug']}": "own site"}),
        ]:
            page = await browser.new_page(viewport=PHONE, is_mobile=True)
            await page.goto(f"{server}/sign-in/")
            await sign_in_as(page, people[who])
            for path, name in walk.items():
                response = await page.goto(server + path)
                assert response is not None and response.status == 200, f"{who} on {name}"
                for details in await page.locator("details").all():
                    await details.evaluate("e => e.open = true")  # their tables count too
                await accessible(page, axe, f"{name} as the {who} (phone)")
                if name == "own portfolio":
                    await page.screenshot(path=str(tmp_path / "portfolio-phone.png"))
                    frame = await page.locator(".table-wrap").first.bounding_box()
                    for column in ("Site", "Tier", "Index [90% interval]", "Index change"):
                        header = page.locator("table.portfolio thead th", has_text=column)
                        box = await header.first.bounding_box()
                        assert (
                            frame and box and box["x"] + box["width"] <= frame["x"] + frame["width"]
                        ), f"the portfolio's {column} column is off-screen on a phone"
                if who == "site coordinator":  # on to the draft scorecards it may answer
                    drafts = page.locator("a[href*='/by/']")
                    assert await drafts.count() > 0
                    async with page.expect_navigation():
                        await drafts.first.click()
                    await accessible(page, axe, "a draft scorecard, to answer (phone)")
            await page.close()
        await browser.close()


def need_chromium() -> None:
    """Fail, never skip, when the browser is missing: CI must run these tests."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")


async def demo_login(who: str) -> Any:
    """The demo's login for one kind of reader (its accounts are made on the way)."""
    from surveys.world.logins import demo_logins

    return next(x for x in await demo_logins(dt.datetime.now(dt.UTC)) if x.who == who)
