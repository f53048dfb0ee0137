"""The questionnaire a respondent sees: an instrument version's texts in one language.

Built from the loaded instrument (never from the TOML file, which may have moved on to
a newer version), with `{partner}` filled in. Texts fall back to English where the
instrument lacks the respondent's language, so a form is always complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from scoring.anonymity import minimum_commenters, minimum_raters
from scoring.config import ScoringConfig
from surveys.infra.database import database_identity
from surveys.infra.i18n import N_, Text, number, translations
from surveys.instruments import REQUIRED_LANGUAGE, Dimension, Direction, Instrument, Item

OVERALL_POINTS = range(0, 11)


@dataclass(frozen=True)
class Question:
    """One Likert statement."""

    key: str
    text: str


@dataclass(frozen=True)
class Section:
    """One dimension: its statements, and its importance question if the instrument asks it."""

    key: str
    name: str
    description: str
    questions: tuple[Question, ...]
    importance_key: str | None


@dataclass(frozen=True)
class Questionnaire:
    """Everything the form shows, in one language, for one partner."""

    instrument_id: int
    direction: str
    """site_rates_sponsor or sponsor_rates_site: who answers, and so who may see what."""
    language: str
    scale_points: int
    title: str
    intro: str
    scale_labels: tuple[str, ...]
    """Labels of 1…A, in order."""
    not_applicable: str
    importance_prompt: str
    sections: tuple[Section, ...]
    overall_key: str
    overall_text: str
    comment_key: str
    comment_text: str

    @property
    def likert_keys(self) -> tuple[str, ...]:
        """Every statement's key, in the order shown."""
        return tuple(q.key for s in self.sections for q in s.questions)

    @cached_property
    def numbers(self) -> dict[str, int]:
        """Statement and overall question keys → the number the form shows them with."""
        return {key: n for n, key in enumerate((*self.likert_keys, self.overall_key), start=1)}

    def importance_name(self, key: str) -> str | None:
        """Return the dimension an importance question asks about, or None for another key."""
        return next((s.name for s in self.sections if s.importance_key == key), None)

    @property
    def importance_keys(self) -> tuple[str, ...]:
        """Every importance question's key, in the order shown."""
        return tuple(s.importance_key for s in self.sections if s.importance_key)


def localised(texts: dict[str, str] | None, language: str, partner: str) -> str:
    """Return a text in `language` (else English) with the partner's name filled in."""
    texts = texts or {}
    text = texts.get(language) or texts.get(REQUIRED_LANGUAGE) or ""
    return text.replace("{partner}", partner)


@dataclass(frozen=True)
class InstrumentRows:
    """A loaded instrument version as stored: the instrument, its dimensions and items."""

    instrument: dict[str, Any]
    dimensions: list[dict[str, Any]]
    items: list[dict[str, Any]]

    @property
    def item_ids(self) -> dict[str, int]:
        """Item key → row id, to store answers by."""
        return {item["key"]: item["id"] for item in self.items}


_loaded: dict[tuple[str, int], InstrumentRows] = {}


async def instrument_rows(instrument_id: int) -> InstrumentRows:
    """Return a loaded instrument version, read from the database once per process.

    A loaded version never changes (changes make a new version), so keeping it is safe;
    it spares every form view and submission three queries. Keyed by database too, as
    tests switch databases in one process.
    """
    key = (database_identity(Instrument._meta.db), instrument_id)
    if key not in _loaded:
        instrument = (
            await Instrument.select()
            .where(Instrument.id == instrument_id)
            .output(load_json=True)
            .first()
        )
        if instrument is None:
            raise LookupError(f"there is no loaded instrument {instrument_id}")
        dimensions = (
            await Dimension.select()
            .where(Dimension.instrument == instrument_id)
            .order_by(Dimension.position)
            .output(load_json=True)
        )
        items = (
            await Item.select()
            .where(Item.instrument == instrument_id)
            .order_by(Item.position)
            .output(load_json=True)
        )
        _loaded[key] = InstrumentRows(dict(instrument), list(dimensions), list(items))
    return _loaded[key]


_questionnaires: dict[tuple[str, int, str, str], Questionnaire] = {}
QUESTIONNAIRES_KEPT = 2048
"""Questionnaires kept built: one per instrument version, partner and language in use."""


async def questionnaire_for(instrument_id: int, partner: str, language: str) -> Questionnaire:
    """Return the questionnaire of a loaded instrument version, in `language`, about `partner`.

    Built once and kept (it is immutable, like the version it comes from): every view
    and answer of a form needs it, and building it is a walk over every item's texts.
    """
    key = (database_identity(Instrument._meta.db), instrument_id, partner, language)
    if key not in _questionnaires:
        if len(_questionnaires) >= QUESTIONNAIRES_KEPT:
            _questionnaires.pop(next(iter(_questionnaires)))
        rows = await instrument_rows(instrument_id)
        _questionnaires[key] = _questionnaire(rows, instrument_id, partner, language)
    return _questionnaires[key]


def _questionnaire(
    rows: InstrumentRows, instrument_id: int, partner: str, language: str
) -> Questionnaire:
    instrument, dimensions, items = rows.instrument, rows.dimensions, rows.items
    if language not in instrument["languages"]:
        language = REQUIRED_LANGUAGE
    texts = instrument["texts"]
    sections = []
    for dimension in dimensions:
        mine = [i for i in items if i["dimension"] == dimension["id"]]
        importance = next((i["key"] for i in mine if i["kind"] == "importance"), None)
        sections.append(
            Section(
                key=dimension["key"],
                name=localised(dimension["name"], language, partner),
                description=localised(dimension["description"], language, partner),
                questions=tuple(
                    Question(i["key"], localised(i["text"], language, partner))
                    for i in mine
                    if i["kind"] == "likert"
                ),
                importance_key=importance,
            )
        )
    overall = next(i for i in items if i["kind"] == "overall")
    comment = next(i for i in items if i["kind"] == "text")
    scale = texts["scale"].get(language) or texts["scale"][REQUIRED_LANGUAGE]
    return Questionnaire(
        instrument_id=instrument_id,
        direction=instrument["direction"],
        language=language,
        scale_points=int(instrument["scale_points"]),
        title=localised(instrument["title"], language, partner),
        intro=localised(instrument["intro"], language, partner),
        scale_labels=tuple(scale),
        not_applicable=localised(texts["not_applicable"], language, partner),
        importance_prompt=localised(texts["importance_prompt"], language, partner),
        sections=tuple(sections),
        overall_key=overall["key"],
        overall_text=localised(overall["text"], language, partner),
        comment_key=comment["key"],
        comment_text=localised(comment["text"], language, partner),
    )


@dataclass(frozen=True)
class Counted(Text):
    """A text whose wording follows a number, as the language's plural rule picks it.

    `message` is the singular and `plural` the plural; the number is the value `num`.
    """

    plural: str = ""

    def render(self, language: str) -> str:
        """The text in `language`, in the form its number takes, placeholders filled."""
        values = {
            name: number(value, language)
            if isinstance(value, int) and not isinstance(value, bool)
            else value
            for name, value in self.values.items()
        }
        text: str = translations(language).ungettext(self.message, self.plural, self.values["num"])
        return text % values


def ngettext(singular: str, plural: str, num: int, **values: Any) -> Counted:
    """Mark a text whose wording follows `num`, to translate where it is shown (as `N_`;
    gettext tools find its two forms by this name)."""
    return Counted(singular, {"num": num, **values}, plural=plural)


UNSPACED = frozenset({"ja"})
"""Languages that write sentences one after another without a space."""


@dataclass(frozen=True)
class Sentences(Text):
    """Texts shown one after another, each translated on its own."""

    parts: tuple[Text, ...] = ()

    def render(self, language: str) -> str:
        """The sentences in `language`, joined as the language joins them."""
        joint = "" if language in UNSPACED else " "
        return joint.join(part.render(language) for part in self.parts)


def privacy_note(direction: str, partner: str, config: ScoringConfig) -> Text:
    """Return who will see the answers and the comment, as the form and e-mails say it.

    Stated from the thresholds the answers are scored under (`scoring.anonymity`), and
    exactly: a group's count includes the respondent, and a sponsor's answers reach the
    site from as few raters as that direction's threshold allows, one included.
    """
    raters = minimum_raters(direction, config)
    if direction == Direction.site_rates_sponsor:
        return Sentences(
            "",
            parts=(
                ngettext(
                    "%(partner)s sees your ratings only combined with others', in groups of "
                    "at least %(num)s person, you included.",
                    "%(partner)s sees your ratings only combined with others', in groups of "
                    "at least %(num)s people, you included.",
                    raters,
                    partner=partner,
                ),
                ngettext(
                    "Your comment reaches %(partner)s only once at least %(num)s person, "
                    "you included, has answered.",
                    "Your comment reaches %(partner)s only once at least %(num)s people, "
                    "you included, have answered.",
                    minimum_commenters(direction, config),
                    partner=partner,
                ),
                Text(N_("%(partner)s never sees your name."), {"partner": partner}),
            ),
        )
    if raters == 1:
        return Text(
            N_(
                "Your answers and comment reach %(partner)s as your organisation's feedback, "
                "without your name, even if no one else from your organisation answers."
            ),
            {"partner": partner},
        )
    return ngettext(
        "Your answers and comment reach %(partner)s as your organisation's feedback, without "
        "your name, once at least %(num)s person from your organisation, you included, has "
        "answered.",
        "Your answers and comment reach %(partner)s as your organisation's feedback, without "
        "your name, once at least %(num)s people from your organisation, you included, have "
        "answered.",
        raters,
        partner=partner,
    )
