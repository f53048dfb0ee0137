"""The language a page is read in: the person's own, else the browser's; the switch on
every page keeps the reader where they were."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.accounts.credentials import Account
from surveys.directory.organisations import Person
from surveys.infra.i18n import N_, Text, translations
from surveys.results.tier_review import publish_all_but_latest
from tests.web.test_survey_form import CSRF, in_browser
from tests.web.test_workspaces import characters, organisation_of, sign_in

pytestmark = pytest.mark.anyio
LANG = re.compile(r'<html lang="([a-z]+)"')


def in_(language: str, message: str) -> str:
    """`message` as the catalogue of `language` writes it."""
    return str(translations(language).ugettext(message))


async def switch(client: AsyncTestClient[Any], language: str, back_to: str) -> Any:
    """Press the switch on the page at `back_to`."""
    page = await client.get(back_to)
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    return await client.post(
        "/language",
        data={"language": language, "next": back_to, "_csrf_token": token},
        follow_redirects=False,
    )


async def test_someone_not_signed_in_reads_their_browsers_language_until_they_switch(
    scored_world_db: Engine,
) -> None:
    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        seen: dict[str, Any] = {"plain": (await client.get("/sign-in/")).text}
        client.headers["accept-language"] = "fr-CA, en;q=0.5"
        seen["browser"] = (await client.get("/sign-in/")).text
        seen["switched"] = await switch(client, "de", "/sign-in/?next=/w/")
        seen["after"] = (await client.get("/sign-in/")).text
        client.headers["accept"] = "text/html"  # a browser's: errors come as pages
        seen["unknown"] = await switch(client, "tlh", "/sign-in/")
        seen["elsewhere"] = await switch(client, "es", "//evil.example/")
        return seen

    seen = await in_browser(scored_world_db, steps)
    assert LANG.search(seen["plain"])[1] == "en"  # type: ignore[index]
    assert LANG.search(seen["browser"])[1] == "fr"  # type: ignore[index]
    assert in_("fr", "Skip to content") in seen["browser"]
    switched = seen["switched"]
    assert switched.status_code == 303 and switched.headers["location"] == "/sign-in/?next=/w/"
    assert "rapport_language=de" in switched.headers["set-cookie"]
    assert LANG.search(seen["after"])[1] == "de", "the choice beats the browser's"  # type: ignore[index]
    assert in_("de", "Skip to content") in seen["after"]
    assert seen["unknown"].status_code == 400
    assert in_("de", "Choose one of the languages offered.") in seen["unknown"].text
    assert seen["elsewhere"].headers["location"] == "/", "never back to another site"


async def test_a_signed_in_person_reads_their_own_language_and_keeps_their_choice(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    email = people["site coordinator"]
    site = await organisation_of(email)
    await Person.update({Person.language: "ja"}).where(Person.email == email)
    page = f"/w/sites/{site['slug']}"

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        client.headers["accept-language"] = "fr"
        await sign_in(client, email)
        seen: dict[str, Any] = {"directory": (await client.get(page)).text}
        seen["switched"] = await switch(client, "es", page)
        seen["chosen"] = (await client.get(page)).text
        client.cookies.clear()
        seen["signed out"] = (await client.get("/sign-in/")).text
        await sign_in(client, email)
        seen["again"] = (await client.get(page)).text
        return seen

    seen = await in_browser(scored_world_db, steps)
    assert LANG.search(seen["directory"])[1] == "ja", "the directory record's, not the browser's"  # type: ignore[index]
    assert in_("ja", "Skip to content") in seen["directory"]
    assert seen["switched"].status_code == 303 and seen["switched"].headers["location"] == page
    assert (
        "set-cookie" not in seen["switched"].headers
        or "rapport_language" not in (seen["switched"].headers["set-cookie"])
    ), "a signed-in choice is kept on the account"
    assert LANG.search(seen["chosen"])[1] == "es"  # type: ignore[index]
    assert LANG.search(seen["signed out"])[1] == "fr", "signed out: the browser's again"  # type: ignore[index]
    assert LANG.search(seen["again"])[1] == "es", "the choice outlives the session"  # type: ignore[index]
    chosen = await Account.select(Account.language).where(Account.person.email == email).first()
    assert chosen["language"] == "es"


async def test_a_refusal_reads_in_the_readers_language(scored_world_db: Engine) -> None:
    await publish_all_but_latest("test", dt.datetime.now(dt.UTC))
    people = await characters()
    email = people["site coordinator"]
    site = await organisation_of(email)
    sponsor = await organisation_of(people["sponsor user"])
    await Person.update({Person.language: "fr"}).where(Person.email == email)
    where = f"/w/relationships/{sponsor['slug']}/{site['slug']}/"

    async def steps(client: AsyncTestClient[Any]) -> Any:
        await sign_in(client, email)
        token = CSRF.search((await client.get(where)).text).group(1)  # type: ignore[union-attr]
        form = {"title": " ", "owner": "Site director", "side": "site", "_csrf_token": token}
        return await client.post(where + "actions", data=form)

    refused = await in_browser(scored_world_db, steps)
    said = Text(N_("say what is to be done"), sentence=True).render("fr")
    assert refused.status_code == 400 and said in refused.text, re.findall(
        r'role="alert".{0,400}', refused.text, re.S
    )
    assert said != "Say what is to be done." and said[0].isupper() and said.endswith(".")
