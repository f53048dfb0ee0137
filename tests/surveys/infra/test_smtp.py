"""E-mail through a real SMTP server (aiosmtpd on localhost): delivered once, retried, reported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

from surveys.cycles.invitations import Invitation
from surveys.cycles.letters import Held, address_corrected, send_invitations
from surveys.cycles.life_cycle import create_cycle, open_cycle
from surveys.infra.i18n import Text
from surveys.infra.mail import DeliveryError, Letter, Mailer, SMTPRelay, Survey, compose
from surveys.infra.settings import SettingsError, SMTPServer, parse_smtp_url
from tests.conftest import free_port
from tests.mail_sink import Inbox

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
SENDER = "Rapport surveys <surveys@rapport.example.org>"


def letter(to: str = "ana@site.example") -> Letter:
    return Letter(
        cycle_id=1,
        person_id=1,
        kind="invitation",
        number=0,
        name="Ana Ruiz",
        email=to,
        language="en",
        organisation="Hospital",
        cycle="Q1 2027",
        deadline=NOW + dt.timedelta(days=60),
        surveys=(
            Survey(1, "Kestrel Pharma", "https://rapport.example.org/s/abc", Text("Private.")),
        ),
    )


async def test_a_message_arrives_whole(inbox: tuple[Inbox, SMTPServer]) -> None:
    handler, server = inbox
    await SMTPRelay(server, pause=0).deliver(compose(letter(), SENDER, NOW), "ana@site.example")
    [message] = handler.messages
    assert message["To"] == "Ana Ruiz <ana@site.example>"
    assert "Kestrel Pharma" in message["Subject"]
    assert "https://rapport.example.org/s/abc" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None


async def test_a_busy_server_is_retried_a_refusal_is_not(inbox: tuple[Inbox, SMTPServer]) -> None:
    handler, server = inbox
    handler.busy = 2
    await SMTPRelay(server, attempts=3, pause=0).deliver(
        compose(letter(), SENDER, NOW), "ana@site.example"
    )
    assert len(handler.messages) == 1, "third time lucky, and only once"
    handler.refuse.add("gone@site.example")
    with pytest.raises(DeliveryError, match=r"gone@site.example.*550 no such user") as refused:
        await SMTPRelay(server, attempts=3, pause=0).deliver(
            compose(letter("gone@site.example"), SENDER, NOW), "gone@site.example"
        )
    assert len(handler.messages) == 1
    assert refused.value.permanent and refused.value.reason == "550 no such user here"
    handler.busy = 5
    with pytest.raises(DeliveryError, match="451 busy") as busy:
        await SMTPRelay(server, attempts=2, pause=0).deliver(
            compose(letter(), SENDER, NOW), "ana@site.example"
        )
    assert not busy.value.permanent, "try again later is not a refusal"


async def test_an_unreachable_server_is_reported() -> None:
    server = SMTPServer("127.0.0.1", free_port(), None, None, implicit_tls=False, start_tls=False)
    with pytest.raises(DeliveryError, match="did not take the message") as unreachable:
        await SMTPRelay(server, attempts=2, pause=0).deliver(
            compose(letter(), SENDER, NOW), "ana@site.example"
        )
    assert not unreachable.value.permanent


async def test_a_busy_server_is_tried_later_a_refused_address_once_it_is_corrected(
    world_db: Engine, inbox: tuple[Inbox, SMTPServer]
) -> None:
    handler, server = inbox
    target = await Invitation.select(
        Invitation.respondent, Invitation.respondent.email
    ).first()  # someone invited again
    refused = target["respondent.email"]
    handler.refuse.add(refused)
    handler.busy = 1  # the first message is put off once: with one attempt, until later
    mailer = Mailer(
        "secret", "https://rapport.example.org", SENDER, SMTPRelay(server, attempts=1, pause=0)
    )
    await create_cycle("2027-Q1", "Q1 2027", NOW + dt.timedelta(days=90), NOW)
    summary = await open_cycle("2027-Q1", NOW, mailer)
    assert len(summary.mail.failed) == 2 and any(refused in f for f in summary.mail.failed)
    assert set(summary.mail.held) == {Held.failed, Held.refused}
    assert len(handler.messages) == summary.mail.sent == summary.people - 2
    marked = await Invitation.count().where(
        (Invitation.cycle.key == "2027-Q1") & Invitation.undeliverable_at.is_not_null()
    )
    assert marked == summary.mail.held[Held.refused]
    unsent = await Invitation.count().where(
        (Invitation.cycle.key == "2027-Q1") & (Invitation.status == "created")
    )
    assert unsent == summary.mail.held[Held.failed] + summary.mail.held[Held.refused]

    handler.refuse.clear()
    again = await send_invitations("2027-Q1", NOW, mailer)
    assert again.sent == 1 and not again.failed, "the busy one, not the refused address"
    assert dict(again.held) == {Held.undeliverable: marked}
    assert await address_corrected(target["respondent"]) == marked
    corrected = await send_invitations("2027-Q1", NOW, mailer)
    assert (corrected.sent, corrected.invitations) == (1, marked)
    ids = [m["Message-ID"] for m in handler.messages]
    assert len(ids) == len(set(ids)) == summary.people
    assert (
        await Invitation.count().where(
            (Invitation.cycle.key == "2027-Q1") & (Invitation.status == "created")
        )
        == 0
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", None),
        ("smtp://mail.example.org", ("mail.example.org", 587, None, False)),
        ("smtps://a%40b:p%3Ass@mail.example.org", ("mail.example.org", 465, "a@b", True)),
        ("smtp://mail.example.org:2525", ("mail.example.org", 2525, None, False)),
        ("smtp+plain://localhost:25", ("localhost", 25, None, False)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[Any, ...] | None) -> None:
    server = parse_smtp_url(url)
    if expected is None:
        assert server is None
        return
    assert server is not None
    assert (server.host, server.port, server.username, server.implicit_tls) == expected
    assert server.start_tls == url.startswith("smtp://"), "smtp:// never falls back to clear text"
    assert "p:ss" not in server.display and "p:ss" not in repr(server)


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://", "smtp://host:port"])
def test_bad_smtp_urls_name_the_setting(url: str) -> None:
    with pytest.raises(SettingsError, match="RAPPORT_SMTP_URL"):
        parse_smtp_url(url)


def test_settings_never_print_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    env = {
        "RAPPORT_SMTP_URL": "smtp://user:hunter2@mail.example.org",
        "RAPPORT_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "surveys", "settings"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
        timeout=60,
        check=True,
    )
    assert "hunter2" not in result.stdout
    assert "user:***@" in result.stdout


async def test_only_the_respondent_receives_the_letter(inbox: tuple[Inbox, SMTPServer]) -> None:
    handler, server = inbox
    odd = letter("ann@site.example, evil@attacker.example")
    await SMTPRelay(server, pause=0).deliver(compose(odd, SENDER, NOW), "ann@site.example")
    [message] = handler.messages
    assert handler.recipients == [["ann@site.example"]]
    assert "Kestrel Pharma" in message["Subject"]


async def test_a_line_break_in_a_name_fails_one_letter_not_the_run(
    world_db: Engine, inbox: tuple[Inbox, SMTPServer]
) -> None:
    from surveys.directory.organisations import Person

    handler, server = inbox
    person = await Person.select(Person.id, Person.email).where(Person.role == "pi").first()
    await Person.update({Person.name: "Eve\r\nBcc: spy@attacker.example"}).where(
        Person.id == person["id"]
    )
    mailer = Mailer("secret", "https://rapport.example.org", SENDER, SMTPRelay(server, pause=0))
    await create_cycle("2027-Q1", "Q1 2027", NOW + dt.timedelta(days=90), NOW)
    summary = await open_cycle("2027-Q1", NOW, mailer)
    assert len(summary.mail.failed) == 1 and person["email"] in summary.mail.failed[0]
    assert summary.mail.sent == summary.people - 1 > 0
    assert not any("spy@attacker" in str(r) for r in handler.recipients)
