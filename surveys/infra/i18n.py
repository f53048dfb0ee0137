"""Languages: which one a respondent gets, and the interface's texts in it.

The interface (the form, the link pages, the e-mails) is translated with Babel message
catalogues in `surveys/locale/<language>/LC_MESSAGES/messages.po`; the questions
themselves come from the instrument's TOML. Catalogues are compiled in memory when
first used, so there is no build step and no binary file in the repository.

Python code marks a text for translation with `N_` and hands it on as a `Text`; only
the page or the e-mail that shows it translates it, in the reader's language.

Templates use `jinja2.ext.i18n`, which compiles `{% trans %}` and `_()` into calls to
`gettext` and `ngettext`; ours ask each render which language it is in (`install_i18n`):
an e-mail or a scorecard is given its reader's (`translated`), a web page finds its
reader's on the request (surveys.web.languages), and anything else is English. Numbers,
percentages and dates go through filters that ask the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

LANGUAGES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "ja": "日本語"}
"""Every language of the interface, with its name in itself (for the language switch)."""
DEFAULT_LANGUAGE = "en"
LOCALES = Path(__file__).resolve().parents[1] / "locale"


def N_(message: str) -> str:  # noqa: N802  (the name gettext tools look for)
    """Mark a text for translation where it is written; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Text:
    """A text to translate later, with the values its placeholders take."""

    message: str
    values: dict[str, Any] = field(default_factory=dict)
    sentence: bool = False
    """Shown as a sentence: capital first, full stop last (a refusal's "say what is to be
    done" reads "Say what is to be done." on a page, « Indiquez … » in French)."""

    def render(self, language: str) -> str:
        """The text in `language`, placeholders filled (numbers as the language writes them)."""
        values = {
            name: format_decimal(value, locale=_locale(language))
            if isinstance(value, int) and not isinstance(value, bool)
            else value
            for name, value in self.values.items()
        }
        text: str = translations(language).ugettext(self.message) % values
        return as_sentence(text) if self.sentence else text


def as_sentence(text: str) -> str:
    """`text` as a sentence: capital first, full stop last unless it already ends as a
    sentence does in one of the interface's languages."""
    if not text:
        return text
    return text[:1].upper() + text[1:] + ("" if text.endswith(SENTENCE_ENDS) else ".")


SENTENCE_ENDS = (".", "!", "?", "…", "。", "！", "？")
"""How a sentence may already end, in every language of the interface."""


@cache
def translations(language: str) -> Translations:
    """Return the interface's translations for a language (English: the texts themselves)."""
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return Translations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def supported(language: str | None) -> str | None:
    """Return `language` (or its base: fr-CA → fr) if the interface has it, else None."""
    if not language:
        return None
    base = language.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def language_from_header(accept_language: str | None) -> str | None:
    """Return the best interface language for an Accept-Language header, or None."""
    if not accept_language:
        return None
    weighted = []
    for part in accept_language.split(","):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = -1.0
        if weight > 0:  # q=0 means "not this one"
            weighted.append((weight, tag))
    for _weight, tag in sorted(weighted, key=lambda pair: -pair[0]):
        if found := supported(tag):
            return found
    return None


def choose_language(*candidates: str | None) -> str:
    """Return the first candidate the interface supports, in order of preference, else English.

    The survey passes: the language asked for on the form, the one a draft was saved in,
    the person's own, the browser's (Accept-Language).
    """
    for candidate in candidates:
        if found := supported(candidate):
            return found
    return DEFAULT_LANGUAGE


def long_date(moment: dt.datetime, language: str) -> str:
    """Return a date as people write it in `language` (31 March 2027, 2027年3月31日)."""
    return _long_date(moment.date(), language)


@lru_cache(maxsize=4096)
def _long_date(day: dt.date, language: str) -> str:
    """Kept: every form view prints its cycle's closing day, and Babel's formatting costs
    more than the rest of the header."""
    return format_date(day, format="long", locale=_locale(language))


def number(value: float, language: str, digits: int = 0) -> str:
    """A number as `language` writes it, with `digits` decimals ("0,85" in French).

    Rounded first, so that -0.3 reads "0", not "-0".
    """
    pattern = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return format_decimal(round(value, digits) + 0.0, format=pattern, locale=_locale(language))


def percent(share: float, language: str) -> str:
    """A share from 0 to 1 as a whole percentage, as `language` writes it ("62 %" in French)."""
    return format_percent(share, locale=_locale(language))


@cache
def _locale(language: str) -> Locale:
    """Return the Babel locale for an interface language (built once: every page uses it).

    English writes dates the British way: "31 March 2027" reads the same on both sides
    of the Atlantic, "March 31" less so.
    """
    try:
        return Locale.parse("en_GB" if language == DEFAULT_LANGUAGE else language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_GB")


LanguageOf = Callable[[Context], str]
"""How a template finds the language it renders in, from its context."""


def language_in_context(render: Context) -> str:
    """The language a render was given (`translated`), else English."""
    found = render.get("language")
    return found if isinstance(found, str) and found in LANGUAGES else DEFAULT_LANGUAGE


def install_i18n(
    environment: Environment,
    language_of: LanguageOf = language_in_context,
    shown: Callable[[Any], Any] = lambda value: value,
) -> Environment:
    """Enable `{% trans %}` and `_()` with new-style placeholders, and the filters that
    write numbers and dates, all in the language `language_of` finds for each render.

    `shown` prepares each value put into a placeholder as `{{ value }}` prints it (the
    environment's `finalize`, which placeholders would otherwise skip); the text around
    it is the catalogue's own, escaped values are not.

    Filters: `number` (digits=0), `percent` (a share from 0 to 1), `day` (a date or a
    moment, written long), `translate` (a text Python marked with `N_`, or a `Text` with
    its values); globals: `current_language()` (the `lang` of a page) and `languages`.
    """

    def filled(render: Context, text: str, values: dict[str, Any]) -> str:
        if render.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (the catalogue is ours; % escapes the values)
        return text % {name: shown(value) for name, value in values.items()}

    @pass_context
    def gettext(render: Context, message: str, **values: Any) -> str:
        return filled(render, translations(language_of(render)).ugettext(message), values)

    @pass_context
    def ngettext(render: Context, singular: str, plural: str, count: int, **values: Any) -> str:
        # `num` is the count unless the template gives it written its own way
        values.setdefault("num", count)
        text = translations(language_of(render)).ungettext(singular, plural, count)
        return filled(render, text, values)

    @pass_context
    def written_number(render: Context, value: float, digits: int = 0) -> str:
        return number(value, language_of(render), digits)

    @pass_context
    def written_percent(render: Context, share: float) -> str:
        return percent(share, language_of(render))

    @pass_context
    def written_day(render: Context, moment: dt.date) -> str:
        day = moment.date() if isinstance(moment, dt.datetime) else moment
        return _long_date(day, language_of(render))

    @pass_context
    def translate(render: Context, message: Text | str) -> str:
        language = language_of(render)
        if isinstance(message, Text):
            values = {name: shown(value) for name, value in message.values.items()}
            return replace(message, values=values).render(language)
        return translations(language).ugettext(message)

    @pass_context
    def current_language(render: Context) -> str:
        return language_of(render)

    environment.add_extension("jinja2.ext.i18n")
    environment.newstyle_gettext = True  # type: ignore[attr-defined]
    environment.globals.update(gettext=gettext, ngettext=ngettext, _=gettext)
    environment.filters.update(
        number=written_number, percent=written_percent, day=written_day, translate=translate
    )
    environment.globals.update(
        percent=written_percent, current_language=current_language, languages=LANGUAGES
    )
    return environment


def translated(context: dict[str, Any], language: str) -> dict[str, Any]:
    """Return a template context whose texts render in `language`."""
    return {**context, "language": language}
