"""Every statement of the anonymity rule says the configured thresholds, in every language.

The thresholds are set to values no default has (site raters 4, their comments 7, sponsor
raters 2) through RAPPORT_SCORING_CONFIG; the survey form in both directions (and an
administrator's preview of it), the invitation e-mail (text and HTML), the reminder and
the opening preview must then say exactly those numbers, and never the defaults (3, 5, 1).
"""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

from scoring.config import ScoringConfig
from surveys.cli.results import scoring_config
from surveys.cycles.invitations import Invitation
from surveys.cycles.letters import send_reminders
from surveys.cycles.life_cycle import create_cycle, open_cycle, opening_plan
from surveys.cycles.preview import opening_preview
from surveys.directory.organisations import Person
from surveys.infra.i18n import LANGUAGES
from surveys.infra.mail import Mailer, Outbox
from surveys.infra.settings import SettingsError, load_settings, programme_scoring_config
from surveys.instruments import Instrument
from surveys.instruments.questionnaires import privacy_note
from tests.web.test_survey_form import fresh_link, in_browser
from tests.web.test_workspaces import characters, sign_in

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
CLOSES = dt.datetime(2027, 3, 31, 23, 59, tzinfo=dt.UTC)
URL = "https://rapport.example.org"
SITE_RATERS, COMMENTS, SPONSOR_RATERS = 4, 7, 2
SPONSOR_AND_SITE = ("site_rates_sponsor", "sponsor_rates_site")

SITE = {
    "en": (
        "in groups of at least {k} people, you included",
        "only once at least {c} people, you included, have answered",
    ),
    "fr": (
        "par groupes d'au moins {k} personnes, vous y compris",
        "qu'une fois qu'au moins {c} personnes, vous y compris, ont répondu",
    ),
    "de": (
        "in Gruppen von mindestens {k} Personen, Sie eingeschlossen",
        "erst, wenn mindestens {c} Personen, Sie eingeschlossen, geantwortet haben",
    ),
    "es": (
        "en grupos de al menos {k} personas, contándole a usted",
        "cuando han respondido al menos {c} personas, contándole a usted",
    ),
    "ja": ("あなたを含む少なくとも{k}名の回答", "あなたを含む少なくとも{c}名が回答した後"),
}
"""What a site respondent is told, per language: raters k and commenters c, each counting them."""
SPONSOR = {
    "en": "once at least {k} people from your organisation, you included, have answered",
    "fr": "une fois qu'au moins {k} personnes de votre organisation, vous y compris, ont répondu",
    "de": "sobald mindestens {k} Personen aus Ihrer Organisation, Sie eingeschlossen, geantwortet",
    "es": "cuando han respondido al menos {k} personas de su organización, contándole a usted",
    "ja": "貴社からあなたを含む少なくとも{k}名が回答した時点で",
}
"""What a sponsor respondent is told when their direction needs k > 1 raters."""
SPONSOR_ALONE = {
    "en": "even if no one else from your organisation answers",
    "fr": "même si personne d'autre de votre organisation ne répond",
    "de": "auch wenn sonst niemand aus Ihrer Organisation antwortet",
    "es": "aunque nadie más de su organización responda",
    "ja": "貴社から他に回答者がいない場合も同様です",
}
"""What a sponsor respondent is told under the default (k = 1)."""


def promised(direction: str, language: str) -> list[str]:
    """The phrases that state the configured thresholds."""
    if direction == "site_rates_sponsor":
        return [p.format(k=SITE_RATERS, c=COMMENTS) for p in SITE[language]]
    return [SPONSOR[language].format(k=SPONSOR_RATERS)]


def defaults(direction: str, language: str) -> list[str]:
    """The phrases the default thresholds would give: none may be left anywhere."""
    if direction == "site_rates_sponsor":
        return [p.format(k=3, c=5) for p in SITE[language]]
    return [SPONSOR_ALONE[language]]


def says_exactly(text: str, direction: str, language: str) -> None:
    for phrase in promised(direction, language):
        assert phrase in text, (direction, language, phrase)
    for phrase in defaults(direction, language):
        assert phrase not in text, (direction, language, phrase)


@pytest.fixture
def thresholds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "scoring.toml"
    path.write_text(
        f"[anonymity]\nsite_rates_sponsor = {SITE_RATERS}\ncomments = {COMMENTS}\n"
        f"sponsor_rates_site = {SPONSOR_RATERS}\n"
    )
    monkeypatch.setenv("RAPPORT_SCORING_CONFIG", str(path))
    return path


async def a_link(direction: str) -> str:
    """A fresh token for an unanswered invitation of the open cycle in `direction`."""
    row = (
        await Invitation.select(Invitation.id)
        .where(
            (Invitation.status == "sent")
            & (Invitation.cycle.status == "open")
            & (Invitation.instrument.direction == direction)
        )
        .first()
    )
    return await fresh_link(row["id"])


@pytest.mark.parametrize("direction", SPONSOR_AND_SITE)
async def test_the_form_states_the_configured_thresholds_in_every_language(
    world_db: Engine, thresholds: Path, direction: str
) -> None:
    token = await a_link(direction)

    async def every_language(client: Any) -> dict[str, str]:
        return {lang: (await client.get(f"/s/{token}?lang={lang}")).text for lang in LANGUAGES}

    pages = await in_browser(world_db, every_language)
    for language, html in pages.items():
        assert f'<html lang="{language}">' in html
        statements = re.findall(r'<p class="privacy" id="privacy">(.*?)</p>', html, re.S)
        assert len(statements) == 1, "stated once, where the introduction is"
        says_exactly(unescape(statements[0]), direction, language)
        says_exactly(unescape(html), direction, language)
        assert not {"3", "5", "1"} & set(re.findall(r"\d+", statements[0]))


async def test_an_administrators_preview_of_each_instrument_states_them_too(
    world_db: Engine, thresholds: Path
) -> None:
    people = await characters()
    instruments = {
        row["direction"]: row["id"]
        for row in await Instrument.select(Instrument.id, Instrument.direction).order_by(
            Instrument.version
        )
    }

    async def previews(client: Any) -> dict[tuple[str, str], str]:
        await sign_in(client, people["administrator"])
        return {
            (direction, lang): (
                await client.get(f"/admin/instruments/{instrument}/preview?lang={lang}")
            ).text
            for direction, instrument in instruments.items()
            for lang in LANGUAGES
        }

    for (direction, language), html in (await in_browser(world_db, previews)).items():
        assert f'<html lang="{language}">' in html
        says_exactly(unescape(html), direction, language)


async def test_every_letter_and_the_preview_state_the_configured_thresholds(
    world_db: Engine, thresholds: Path, tmp_path: Path
) -> None:
    await create_cycle("2027-Q1", "Q1 2027", CLOSES, NOW)
    # the people to be asked, in every language on each side, so each language's letter is read
    invitees = (await opening_plan("2027-Q1")).invitees.drop_duplicates("respondent")
    for direction in SPONSOR_AND_SITE:
        people = sorted(int(p) for p in invitees[invitees["direction"] == direction]["respondent"])
        assert len(people) >= len(LANGUAGES), direction
        for i, language in enumerate(LANGUAGES):
            await Person.update({Person.language: language}).where(
                Person.id.is_in(people[i :: len(LANGUAGES)])
            )
    preview = await opening_preview("2027-Q1", URL, NOW)
    seen = {(sample.direction, sample.language) for sample in preview.samples}
    assert seen == {(d, lang) for d in SPONSOR_AND_SITE for lang in LANGUAGES}
    for sample in preview.samples:
        says_exactly(sample.text, sample.direction, sample.language)

    outbox = Outbox(tmp_path / "outbox")
    mailer = Mailer(secret="test-secret", public_url=URL, sender="a@b.org", delivery=outbox)
    await open_cycle("2027-Q1", NOW, mailer)
    await send_reminders("2027-Q1", NOW + dt.timedelta(days=5), mailer, most=1, days=5)
    asked = {
        row["email"]: (row["direction"], row["language"])
        for row in await Invitation.select(
            Invitation.respondent.email.as_alias("email"),
            Invitation.respondent.language.as_alias("language"),
            Invitation.instrument.direction.as_alias("direction"),
        ).where(Invitation.cycle.key == "2027-Q1")
    }
    read: dict[str, set[tuple[str, str]]] = {"invitation": set(), "reminder": set()}
    for path in outbox.folder.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        direction, language = asked[str(message["To"]).split("<")[1].rstrip(">")]
        for part in (message.get_body(("plain",)), message.get_body(("html",))):
            assert part is not None
            says_exactly(unescape(part.get_content()), direction, language)  # type: ignore[attr-defined]
        read["reminder" if "-reminder-" in path.name else "invitation"].add((direction, language))
    every = {(d, lang) for d in SPONSOR_AND_SITE for lang in LANGUAGES}
    assert read == {"invitation": every, "reminder": every}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_a_sponsor_alone_is_told_their_answers_reach_the_site_anyway(language: str) -> None:
    note = privacy_note("sponsor_rates_site", "Site", ScoringConfig()).render(language)
    assert SPONSOR_ALONE[language] in note
    site = privacy_note("site_rates_sponsor", "Sponsor", ScoringConfig()).render(language)
    for phrase in defaults("site_rates_sponsor", language):
        assert phrase in site


def test_the_setting_is_the_clis_default_and_a_bad_file_is_named_with_its_key(
    thresholds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert scoring_config(None).anonymity.comments == COMMENTS
    assert scoring_config(None) == programme_scoring_config()
    assert load_settings().scoring_config == thresholds
    bad = tmp_path / "bad.toml"
    bad.write_text("[anonymity]\nsite_rates_sponsor = 2\n")
    monkeypatch.setenv("RAPPORT_SCORING_CONFIG", str(bad))
    with pytest.raises(SettingsError, match=r"RAPPORT_SCORING_CONFIG: .*bad\.toml: anonymity\."):
        load_settings()
    monkeypatch.setenv("RAPPORT_SCORING_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match=r"missing\.toml"):
        programme_scoring_config()
