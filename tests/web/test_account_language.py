"""The account page: a person chooses the language of their pages, or follows the directory."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from html import unescape
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.accounts.credentials import Account, LinkPurpose, account_for_email, set_language
from surveys.accounts.sign_in_mail import send_sign_in_link
from surveys.directory.organisations import Person
from surveys.infra.i18n import N_, Text, translations
from surveys.infra.mail import Mailer
from tests.web.test_survey_form import CSRF, in_browser
from tests.web.test_workspaces import characters, sign_in

pytestmark = pytest.mark.anyio


def checked(html: str) -> str | None:
    """The value of the language choice the page shows as chosen."""
    found = re.search(r'name="language" value="([^"]*)" checked', html)
    return found.group(1) if found else None


async def test_a_person_chooses_their_language_or_follows_the_directory(
    world_db: Engine,
) -> None:
    people = await characters()
    email = people["site coordinator"]
    await Person.update({Person.language: "de"}).where(Person.email == email)

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, email)
        before = await client.get("/account/")

        async def choose(language: str) -> Any:
            page = await client.get("/account/")
            csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
            return await client.post(
                "/account/",
                data={"language": language, "_csrf_token": csrf},
                follow_redirects=False,
            )

        french = await choose("fr")
        in_french = await client.get("/account/")
        elsewhere = await client.get("/account/tokens/")
        directory = await choose("")
        as_directory = await client.get("/account/")
        unknown = await choose("xx")
        after_unknown = await client.get("/account/")
        return locals()

    r = await in_browser(world_db, steps)
    assert r["before"].status_code == 200
    assert '<html lang="de">' in r["before"].text and checked(r["before"].text) == ""
    assert "(Deutsch)" in unescape(r["before"].text), "names the directory's language"
    assert 'href="/account/tokens/"' in r["before"].text

    assert r["french"].status_code == 303 and r["french"].headers["location"] == "/account/"
    page = unescape(r["in_french"].text)
    assert '<html lang="fr">' in page and checked(page) == "fr"
    assert f"<h1>{translations('fr').ugettext('Your account')}</h1>" in page
    assert '<html lang="fr">' in r["elsewhere"].text, "every page reads in the chosen language"
    assert 'href="/account/"' in r["elsewhere"].text, "the signed-in bar links to the account"

    assert r["directory"].status_code == 303
    assert '<html lang="de">' in r["as_directory"].text and checked(r["as_directory"].text) == ""

    assert r["unknown"].status_code == 400
    assert re.search(r'id="language-error">[^<]*xx', r["unknown"].text), "says which code"
    assert '<html lang="de">' in r["after_unknown"].text, "a refused choice changes nothing"
    account = await Account.select(Account.language).where(Account.person._.email == email)
    assert account[0]["language"] is None


class Kept:
    """A delivery that keeps what it is given."""

    description = "kept"

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def deliver(self, message: EmailMessage, recipient: str) -> bool:
        self.messages.append(message)
        return True


async def test_the_sign_in_letter_is_in_its_readers_language(world_db: Engine) -> None:
    people = await characters()
    email = people["site coordinator"]
    await Person.update({Person.language: "de"}).where(Person.email == email)
    who = await account_for_email(email)
    assert who is not None
    kept = Kept()
    mailer = Mailer("s", "https://rapport.example.org", "Rapport <r@example.org>", kept)
    now = dt.datetime.now(dt.UTC)
    await send_sign_in_link(mailer, who.name, email, LinkPurpose.reset, "t0ken", now)
    await set_language(who.account_id, "ja")
    await send_sign_in_link(
        mailer, who.name, email, LinkPurpose.sign_in, "t0ken", now, invited_by="Ada"
    )
    reset, invitation = kept.messages
    assert reset["Subject"] == Text(N_("Rapport: set a new password")).render("de")
    expected = Text(N_("%(inviter)s invited you to Rapport"), {"inviter": "Ada"}).render("ja")
    assert invitation["Subject"] == expected
    assert translations("ja").ugettext("Hello %(name)s,") % {"name": who.name} in str(
        invitation.get_content()
    )
    assert "https://rapport.example.org/sign-in/link/t0ken" in str(invitation.get_content())
