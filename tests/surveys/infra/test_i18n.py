"""Languages: complete catalogues, the respondent's language, dates as each language writes them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from surveys.infra.i18n import (
    LANGUAGES,
    LOCALES,
    Text,
    choose_language,
    language_from_header,
    long_date,
)
from surveys.instruments import bundled_specs_by_key

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_messages() -> set[str | tuple[str, str]]:
    """Every text the code and templates mark for translation (as `make messages` finds them)."""
    found: set[str | tuple[str, str]] = set()
    for method, directory in (("python", "surveys"), ("jinja2", "templates")):
        pattern = "**.py" if method == "python" else "**"
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / directory,
            method_map=[(pattern, method)],
            keywords={"N_": None, "_": None, "gettext": None, "ngettext": (1, 2)},
            # `make messages` too reads folders such as templates/_macros
            directory_filter=lambda path: not Path(path).name.startswith("."),
        ):
            found.add(message)
    return found


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_interface_text_is_translated_with_the_same_placeholders(language: str) -> None:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale=language)
    translated = {m.id: m.string for m in catalogue if m.id}
    missing = source_messages() - set(translated)
    assert not missing, f"run `make messages` and translate: {missing}"
    for message_id, text in translated.items():
        assert not catalogue[message_id].fuzzy, message_id
        texts = text if isinstance(text, tuple) else (text,)
        ids = message_id if isinstance(message_id, tuple) else (message_id,)
        assert all(texts), f"{language}: no translation for {message_id!r}"
        wanted = set(PLACEHOLDER.findall(ids[-1])) - {"num"}
        for one in texts:
            assert set(PLACEHOLDER.findall(one)) - {"num"} == wanted, (language, message_id)


def test_the_default_instruments_are_in_every_interface_language() -> None:
    for spec in bundled_specs_by_key().values():
        assert set(spec.languages) == set(LANGUAGES), spec.key


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("ja,en-US;q=0.7", "ja"),
        ("pt-BR, es;q=0.5", "es"),
        ("de;q=0.2, es;q=0.9", "es"),
        ("zh-CN", None),
        ("", None),
        ("en;q=abc, de", "de"),
        ("fr; q=0.9, en;q=0.1", "fr"),
        ("ja;q=0, es", "es"),
    ],
)
def test_accept_language_picks_the_best_supported_language(
    header: str, expected: str | None
) -> None:
    assert language_from_header(header) == expected


def test_the_first_supported_choice_wins() -> None:
    assert choose_language(None, "pt", "de-AT", "fr") == "de"
    assert choose_language("ja", "de") == "ja"
    assert choose_language(None, "") == "en"


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("en", "31 March 2027"),
        ("fr", "31 mars 2027"),
        ("de", "31. März 2027"),
        ("es", "31 de marzo de 2027"),
        ("ja", "2027年3月31日"),
    ],
)
def test_dates_are_written_as_each_language_writes_them(language: str, written: str) -> None:
    assert long_date(dt.datetime(2027, 3, 31, 12, tzinfo=dt.UTC), language) == written


def test_texts_are_translated_where_they_are_shown() -> None:
    text = Text("Please choose a number from 0 to 10.")
    assert text.render("en") == "Please choose a number from 0 to 10."
    assert text.render("de") == "Bitte wählen Sie eine Zahl von 0 bis 10."
    shorten = Text(
        "Please shorten your comment to %(limit)s characters (it has %(length)s).",
        {"limit": 4000, "length": 4120},
    )
    assert shorten.render("en").startswith("Please shorten your comment to 4,000 characters")
    assert "à 4\u202f000 caractères (il en compte 4\u202f120)" in shorten.render("fr")
    assert "auf 4.000 Zeichen" in shorten.render("de")
