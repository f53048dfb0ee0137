"""Every workspace page in every language: no English text of a page is left in its French,
German, Spanish or Japanese version (names of organisations and people aside)."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from typing import Any

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from litestar.testing import AsyncTestClient
from piccolo.columns import Column
from piccolo.engine.base import Engine
from piccolo.table import Table

from surveys.cycles.cycle import Cycle
from surveys.directory.organisations import Organisation, Person
from surveys.infra.i18n import LANGUAGES, LOCALES
from surveys.instruments import bundled_specs_by_key
from surveys.privacy.erasure import FREE_TEXT
from tests.web.test_languages import switch
from tests.web.test_survey_form import in_browser
from tests.web.test_workspaces import characters, sign_in, workspace_pages

pytestmark = pytest.mark.anyio
SHOWN_ATTRIBUTES = frozenset({"aria-label", "title", "alt", "placeholder", "aria-description"})
UNREAD = frozenset({"script", "style", "code"})
"""Elements whose text is not language: scripts, styles, and code to type as it is."""
NOT_WORDS = re.compile(r"^[\W\d_]*$")
"""Numbers, signs and punctuation: the same in every language."""


class Shown(HTMLParser):
    """The texts a reader sees or hears: text between tags, and the attributes read out."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: set[str] = set()
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNREAD:
            self._hidden += 1
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value:
                self.texts.add(" ".join(value.split()))

    def handle_endtag(self, tag: str) -> None:
        if tag in UNREAD:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._hidden:
            self.texts.add(text)


def shown(html: str) -> set[str]:
    parser = Shown()
    parser.feed(html)
    return {t for t in parser.texts if not NOT_WORDS.match(t)}


async def names() -> list[str]:
    """What is the same in every language, longest first: names, e-mails, cycle keys,
    language names, and what people wrote (comments, replies, action items…)."""
    found = {"Rapport", *LANGUAGES.values()}
    columns: list[tuple[type[Table], tuple[Column, ...]]] = [
        (Organisation, (Organisation.name, Organisation.slug)),
        (Person, (Person.name, Person.email)),
        (Cycle, (Cycle.key,)),
        *((table, (column,)) for table, column in FREE_TEXT),
    ]
    for table, chosen in columns:
        for row in await table.select(*chosen):
            found.update(" ".join(str(v).split()) for v in row.values() if v)
    return sorted(found, key=len, reverse=True)


WORD = re.compile(r"[^\W\d_]+")
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
"""ISO country codes, as the portfolio's Country column shows them."""


@cache
def words_of(language: str) -> frozenset[str]:
    """Every word the catalogue and the instruments write in `language`: a word of the
    English page found among them is that language's too (Site, Cycle, Trend, Name…)."""
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale=language)
    texts = [
        text
        for message in catalogue
        if message.id
        for text in (message.string if isinstance(message.string, tuple) else (message.string,))
    ]
    for spec in bundled_specs_by_key().values():
        texts += [
            t.get(language, "")
            for t in (spec.title, spec.intro, spec.overall, spec.comment, spec.not_applicable)
        ]
        texts += spec.scale.get(language, ())
        for dimension in spec.dimensions:
            texts += [dimension.name.get(language, ""), dimension.description.get(language, "")]
            texts += [item.text.get(language, "") for item in dimension.items]
    texts += [str(name) for name in Locale.parse(language).territories.values()]
    return frozenset(word.casefold() for text in texts for word in WORD.findall(text))


def english_left(text: str, language: str, same: list[str]) -> bool:
    """Whether `text` of the English page, found as is on the `language` page, is English
    left untranslated: it holds a word that is neither a name nor the language's own."""
    for name in same:
        if name in text:
            text = text.replace(name, " ")
    return any(
        w.casefold() not in words_of(language) and not COUNTRY_CODE.match(w)
        for w in WORD.findall(text)
    )


@pytest.mark.sqlite_only
async def test_no_english_is_left_on_a_workspace_page_in_another_language(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    pages = await workspace_pages(people)
    same_everywhere = await names()

    async def steps(client: AsyncTestClient[Any]) -> dict[str, dict[str, str]]:
        await sign_in(client, people["administrator"])
        seen: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            await switch(client, language, "/")
            for path in pages:
                answer = await client.get(path)
                if answer.status_code == 200 and "text/html" in answer.headers["content-type"]:
                    seen.setdefault(path, {})[language] = answer.text
        return seen

    seen = await in_browser(scored_world_db, steps)
    assert len(seen) >= 10, f"the administrator reads the workspace pages: {sorted(seen)}"
    left: dict[tuple[str, str], list[str]] = {}
    for path, versions in seen.items():
        english = shown(versions["en"])
        for language, html in versions.items():
            assert f'<html lang="{language}"' in html, (path, language)
            if language != "en":
                untranslated = sorted(
                    t for t in english & shown(html) if english_left(t, language, same_everywhere)
                )
                if untranslated:
                    left[(pages[path], language)] = untranslated
    assert not left, "\n".join(f"{k}: {v}" for k, v in left.items())
