"""A cycle's letters: one e-mail per person and round, every partner in it with its own
link, in the person's language; reminders spaced; what is held back counted by reason;
a refused address marked undeliverable until it is corrected; the deactivated left alone."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pandas as pd
import pytest
from piccolo.engine.base import Engine

from surveys.cycles.invitations import Invitation, LinkState, link_view
from surveys.cycles.letters import Held, address_corrected, send_invitations, send_reminders
from surveys.cycles.life_cycle import OpenSummary, create_cycle, open_cycle
from surveys.cycles.progress import cycle_status
from surveys.directory.organisations import Person
from surveys.infra.i18n import Text
from surveys.infra.mail import DeliveryError, Letter, Mailer, Outbox, Survey, compose
from surveys.infra.tokens import link_token, token_hash

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
CLOSES = dt.datetime(2027, 3, 31, 23, 59, tzinfo=dt.UTC)
SECRET = "test-secret-key"
URL = "https://rapport.example.org"
SENDER = "Rapport surveys <surveys@rapport.example.org>"
LINK = re.compile(rf"{re.escape(URL)}/s/([A-Za-z0-9_-]{{43}})")
DAY = dt.timedelta(days=1)


def mailer(delivery: Outbox) -> Mailer:
    return Mailer(secret=SECRET, public_url=URL, sender=SENDER, delivery=delivery)


async def opened(delivery: Outbox) -> OpenSummary:
    await create_cycle("2027-Q1", "Q1 2027", CLOSES, NOW)
    return await open_cycle("2027-Q1", NOW, mailer(delivery))


def read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


async def invitations() -> pd.DataFrame:
    return pd.DataFrame(
        await Invitation.select(
            Invitation.id,
            Invitation.respondent,
            Invitation.respondent.email.as_alias("email"),
            Invitation.target.name.as_alias("partner"),
            Invitation.status,
        ).where(Invitation.cycle.key == "2027-Q1")
    )


async def test_each_person_gets_one_e_mail_naming_every_partner_each_with_its_own_link(
    world_db: Engine, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    summary = await opened(outbox)
    invited = await invitations()
    files = sorted(outbox.folder.glob("*.eml"))
    people = invited.groupby("email")["partner"].apply(set)
    assert len(files) == len(people) == summary.mail.sent == summary.people
    assert summary.mail.invitations == len(invited) == summary.mail.due
    assert (invited["status"] == "sent").all()
    assert (people.map(len) > 1).any(), "someone rates several partners"
    for path in files:
        message = read(path)
        assert message["From"] == SENDER
        address = str(message["To"]).split("<")[1].rstrip(">")
        text, html = text_of(message), message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        tokens = LINK.findall(text)
        assert len(tokens) == len(people[address]), "one link per partner, each once"
        partners = set()
        for token in tokens:
            assert f"{URL}/s/{token}" in html
            view = await link_view(token, NOW)
            assert view.state == LinkState.open and view.partner in text
            partners.add(view.partner)
        assert partners == people[address]
        if len(partners) == 1:
            assert next(iter(partners)) in message["Subject"]
    # the server can say the same link again (reminders); the database alone cannot
    row = await Invitation.select(Invitation.token_nonce, Invitation.token_hash).where(
        Invitation.id == view.invitation_id
    )
    assert link_token(SECRET, row[0]["token_nonce"]) == token
    assert token_hash(token) == row[0]["token_hash"] and token not in str(row)
    again = await send_invitations("2027-Q1", NOW, mailer(outbox))
    assert (again.sent, again.due, dict(again.held)) == (0, 0, {})
    assert len(list(outbox.folder.glob("*.eml"))) == len(files)


def letter(partners: list[str], language: str = "es", kind: str = "reminder") -> Letter:
    return Letter(
        cycle_id=3,
        person_id=7,
        kind=kind,
        number=1 if kind == "reminder" else 0,
        name="Ana <b>Ruiz</b>",
        email="ana@site.example",
        language=language,
        organisation="Hospital",
        cycle="Q1",
        deadline=CLOSES,
        surveys=tuple(
            Survey(i, partner, f"{URL}/s/{partner}", Text("Private about %(p)s.", {"p": partner}))
            for i, partner in enumerate(partners, start=10)
        ),
    )


async def test_an_outbox_never_delivers_one_message_twice(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    message = compose(letter(["Kestrel"]), SENDER, NOW)
    assert await outbox.deliver(message, "ana@site.example") is True
    assert await outbox.deliver(compose(letter(["Kestrel"]), SENDER, NOW), "a@b.c") is False
    assert len(list(tmp_path.glob("*.eml"))) == 1
    assert message["Content-Language"] == "es"
    assert message["Subject"] == "Recordatorio: ¿cómo va el trabajo con Kestrel? (Q1)"
    assert "31 de marzo de 2027" in text_of(message)
    first = compose(letter(["Kestrel"], kind="invitation"), SENDER, NOW)
    html = first.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Estimado/a Ana &lt;b&gt;Ruiz&lt;/b&gt;:" in html, "names are text, never markup"
    assert first["Message-ID"] != message["Message-ID"]
    other = compose(letter(["Kestrel", "Osprey CRO"]), SENDER, NOW)
    assert other["Message-ID"] != message["Message-ID"], "other invitations, another letter"


async def test_a_letter_about_several_partners_speaks_the_persons_language_only() -> None:
    message = compose(letter(["Kestrel", "Osprey CRO"], "fr", "invitation"), SENDER, NOW)
    values = {"count": 2, "cycle": "Q1"}
    subject = Text("How is working with your %(count)s partners? Short surveys (%(cycle)s)", values)
    assert message["Subject"] == subject.render("fr")
    assert message["Content-Language"] == "fr"
    text = text_of(message)
    assert text.startswith("Bonjour Ana <b>Ruiz</b>,")
    assert "31 mars 2027" in text
    for partner in ("Kestrel", "Osprey CRO"):
        assert f"{URL}/s/{partner}" in text and f"Private about {partner}." in text
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert html.count("Répondre à l'enquête sur") == 2


async def test_reminders_go_once_per_person_spaced_and_say_why_the_others_wait(
    world_db: Engine, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    summary = await opened(outbox)
    invited = await invitations()
    # one person answers everything, another one of two partners
    several = invited.groupby("respondent").filter(lambda g: len(g) > 1)["respondent"].unique()
    done = invited[invited["respondent"] == several[0]]["id"].tolist()
    half = invited[invited["respondent"] == several[1]]["id"].tolist()[:1]
    await Invitation.update({Invitation.status: "submitted", Invitation.submitted_at: NOW}).where(
        Invitation.id.is_in(done + half)
    )
    waiting = len(invited) - len(done) - len(half)
    people = summary.people - 1

    async def remind(at: dt.datetime) -> tuple[int, int, dict[Held, int]]:
        report = await send_reminders("2027-Q1", at, mailer(outbox), most=2, days=5)
        return report.sent, report.invitations, dict(report.held)

    assert await remind(NOW + 4 * DAY) == (0, 0, {Held.not_due: waiting})
    assert await remind(NOW + 5 * DAY) == (people, waiting, {})
    assert await remind(NOW + 9 * DAY) == (0, 0, {Held.not_due: waiting})
    assert await remind(NOW + 10 * DAY) == (people, waiting, {})
    report = await send_reminders("2027-Q1", NOW + 30 * DAY, mailer(outbox), most=2, days=5)
    assert (report.sent, dict(report.held)) == (0, {Held.at_limit: waiting})
    assert report.summary() == (
        f"0 reminders sent (0 of 0 invitations due): {waiting:,} at the limit of 2 reminders"
    )
    reminders = sorted(outbox.folder.glob("*-reminder-*.eml"))
    assert len(reminders) == 2 * people
    # a reminder repeats the invitation's own links, and leaves out what was answered
    first = read(next(p for p in reminders if f"-person-{several[1]}-reminder-1-" in p.name))
    invitation = read(next(outbox.folder.glob(f"*-person-{several[1]}-invitation-0-*.eml")))
    reminded, invited_links = LINK.findall(text_of(first)), LINK.findall(text_of(invitation))
    assert set(reminded) < set(invited_links) and len(invited_links) - len(reminded) == 1
    assert not list(outbox.folder.glob(f"*-person-{several[0]}-reminder-*.eml"))


class Refusing(Outbox):
    """An outbox that refuses some addresses for good, and others for now."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.gone: set[str] = set()
        self.busy: set[str] = set()

    async def deliver(self, message: EmailMessage, recipient: str) -> bool:
        if recipient in self.gone:
            raise DeliveryError(f"{recipient}: refused", permanent=True, reason="550 no such user")
        if recipient in self.busy:
            raise DeliveryError(f"{recipient}: busy", permanent=False, reason="451 busy")
        return await super().deliver(message, recipient)


async def test_a_refused_address_waits_for_its_correction_a_busy_server_for_the_next_run(
    world_db: Engine, tmp_path: Path
) -> None:
    delivery = Refusing(tmp_path / "outbox")
    # two people the world's earlier cycles invited (the same rule invites them again)
    people = (
        await Invitation.select(
            Invitation.respondent.as_alias("id"), Invitation.respondent.email.as_alias("email")
        )
        .where(Invitation.respondent.role.is_in(["pi", "cra"]))
        .order_by(Invitation.respondent)
    )
    gone, busy = people[0], people[-1]
    delivery.gone.add(gone["email"])
    delivery.busy.add(busy["email"])
    summary = await opened(delivery)
    invited = await invitations()
    of_gone = int((invited["email"] == gone["email"]).sum())
    of_busy = int((invited["email"] == busy["email"]).sum())
    assert of_gone and of_busy
    assert dict(summary.mail.held) == {Held.failed: of_busy, Held.refused: of_gone}
    assert summary.mail.sent == summary.people - 2
    assert len(summary.mail.failed) == 2
    marked = await Invitation.select(
        Invitation.respondent, Invitation.undeliverable_at, Invitation.delivery_problem
    ).where((Invitation.cycle.key == "2027-Q1") & Invitation.undeliverable_at.is_not_null())
    assert {row["respondent"] for row in marked} == {gone["id"]} and len(marked) == of_gone
    assert {row["delivery_problem"] for row in marked} == {"550 no such user"}
    assert (await cycle_status("2027-Q1", "role")).total.undeliverable == of_gone

    # the next run tries the busy one again, not the refused one
    delivery.busy.clear()
    again = await send_invitations("2027-Q1", NOW, mailer(delivery))
    assert (again.sent, again.invitations) == (1, of_busy)
    assert dict(again.held) == {Held.undeliverable: of_gone}
    reminded = await send_reminders("2027-Q1", NOW + 6 * DAY, mailer(delivery), 2, 5)
    assert reminded.held.get(Held.undeliverable) == of_gone
    assert reminded.held.get(Held.not_sent) is None, "undeliverable comes first"

    # the address is corrected: the next run reaches the person
    delivery.gone.clear()
    assert await address_corrected(gone["id"]) == of_gone
    assert await address_corrected(gone["id"]) == 0
    fixed = await send_invitations("2027-Q1", NOW + 6 * DAY, mailer(delivery))
    assert (fixed.sent, fixed.invitations, dict(fixed.held)) == (1, of_gone, {})


async def test_a_deactivated_person_is_never_written_to(world_db: Engine, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    await create_cycle("2027-Q1", "Q1 2027", CLOSES, NOW)
    # invited at opening, deactivated before the e-mails went (say the server was down)
    summary = await open_cycle("2027-Q1", NOW, mailer(Outbox(tmp_path / "first")))
    assert summary.mail.sent > 0
    await Invitation.update({Invitation.status: "created", Invitation.sent_at: None}).where(
        Invitation.cycle.key == "2027-Q1"
    )
    invited = await invitations()
    leaver = int(invited["respondent"].iloc[0])
    await Person.update({Person.active: False}).where(Person.id == leaver)
    report = await send_invitations("2027-Q1", NOW, mailer(outbox))
    theirs = int((invited["respondent"] == leaver).sum())
    assert dict(report.held) == {Held.inactive: theirs}
    assert report.invitations == len(invited) - theirs
    assert not list(outbox.folder.glob(f"*-person-{leaver}-*.eml"))
    reminded = await send_reminders("2027-Q1", NOW + 6 * DAY, mailer(outbox), 2, 5)
    assert reminded.held.get(Held.inactive) == theirs
    assert not list(outbox.folder.glob(f"*-person-{leaver}-*.eml"))
