"""Running a cycle: create, open (invitations and their e-mails), close, status."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from piccolo.engine.base import Engine

from surveys.cycles.cycle import Cycle, CycleTransitionError
from surveys.cycles.invitations import Invitation, LinkState, link_view
from surveys.cycles.life_cycle import (
    CycleError,
    Mailer,
    close_cycle,
    create_cycle,
    cycle_report,
    open_cycle,
    send_invitations,
    send_reminders,
)
from surveys.directory.organisations import Person, Relationship, RelationshipContact
from surveys.infra.i18n import Text
from surveys.infra.mail import Outbox
from surveys.infra.tokens import link_token, token_hash

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
CLOSES = dt.datetime(2027, 3, 31, 23, 59, tzinfo=dt.UTC)
SECRET = "test-secret-key"
URL = "https://rapport.example.org"
SENDER = "Rapport surveys <surveys@rapport.example.org>"


def mailer(outbox: Outbox) -> Mailer:
    return Mailer(secret=SECRET, public_url=URL, sender=SENDER, delivery=outbox)


async def opened(tmp_path: Path) -> tuple[Outbox, Any]:
    await create_cycle("2027-Q1", "Q1 2027", CLOSES, NOW)
    outbox = Outbox(tmp_path / "outbox")
    summary = await open_cycle("2027-Q1", NOW, mailer(outbox))
    return outbox, summary


async def test_a_new_cycle_is_a_draft_and_refuses_nonsense(world_db: Engine) -> None:
    await create_cycle("2027-Q1", "Q1 2027", CLOSES, NOW)
    row = await Cycle.select(Cycle.status, Cycle.closes_at).where(Cycle.key == "2027-Q1").first()
    assert row["status"] == "draft"
    with pytest.raises(CycleError, match="exists already"):
        await create_cycle("2027-Q1", "", CLOSES, NOW)
    with pytest.raises(CycleError, match="not in the future"):
        await create_cycle("2027-Q2", "", NOW - dt.timedelta(days=1), NOW)
    with pytest.raises(CycleTransitionError, match="from draft to closed"):
        await close_cycle("2027-Q1", NOW)
    with pytest.raises(CycleError, match="no cycle '2031-Q1'"):
        await close_cycle("2031-Q1", NOW)


async def test_opening_invites_both_sides_of_every_active_relationship(
    world_db: Engine, tmp_path: Path
) -> None:
    _, summary = await opened(tmp_path)
    cycle = await Cycle.select().where(Cycle.key == "2027-Q1").first()
    invitations = pd.DataFrame(
        await Invitation.select(
            Invitation.relationship,
            Invitation.respondent,
            Invitation.target,
            Invitation.instrument.direction.as_alias("direction"),
            Invitation.status,
            Invitation.expires_at,
            Invitation.token_nonce,
        ).where(Invitation.cycle == cycle["id"])
    )
    assert cycle["status"] == "open"
    assert summary.invited == invitations.groupby("direction").size().to_dict()
    assert not invitations.duplicated(["respondent", "target"]).any()
    assert (invitations["status"] == "sent").all()
    assert invitations["token_nonce"].str.len().eq(64).all()
    # every site person in an instrument role rates the sponsor and the CRO of each relationship
    relationships = pd.DataFrame(await Relationship.select().where(Relationship.active.eq(True)))
    people = pd.DataFrame(await Person.select(Person.id, Person.organisation, Person.role))
    site_staff = people[people["role"].isin(["pi", "coordinator", "site_director"])]
    expected = relationships.merge(site_staff, left_on="site", right_on="organisation")
    pairs = set(zip(expected["id_y"], expected["sponsor"], strict=True)) | {
        (p, c) for p, c in zip(expected["id_y"], expected["cro"], strict=True) if pd.notna(c)
    }
    site_side = invitations[invitations["direction"] == "site_rates_sponsor"]
    assert set(zip(site_side["respondent"], site_side["target"], strict=True)) == pairs
    # and each relationship's sponsor-side contacts rate its site
    contacts = pd.DataFrame(
        await RelationshipContact.select(
            RelationshipContact.person,
            RelationshipContact.relationship.site.as_alias("site"),
            RelationshipContact.person.role.as_alias("role"),
        )
    )
    contacts = contacts[contacts["role"].isin(["cra", "study_manager"])]
    sponsor_side = invitations[invitations["direction"] == "sponsor_rates_site"]
    assert set(zip(sponsor_side["respondent"], sponsor_side["target"], strict=True)) == set(
        zip(contacts["person"], contacts["site"], strict=True)
    )


async def test_each_invitation_gets_one_e_mail_whose_link_opens_its_survey(
    world_db: Engine, tmp_path: Path
) -> None:
    outbox, summary = await opened(tmp_path)
    files = sorted(outbox.folder.glob("*.eml"))
    assert len(files) == sum(summary.invited.values()) == summary.mail.sent
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["From"] == SENDER
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = re.search(rf"{re.escape(URL)}/s/(\S+)", text)
    assert link and link.group(0) in html
    view = await link_view(link.group(1), NOW)
    assert view.state == LinkState.open and view.partner in message["Subject"]
    assert "31 March 2027" in text
    # the server can say the same link again (reminders); the database alone cannot
    row = await Invitation.select(Invitation.token_nonce, Invitation.token_hash).where(
        Invitation.id == view.invitation_id
    )
    assert link_token(SECRET, row[0]["token_nonce"]) == link.group(1)
    assert token_hash(link.group(1)) == row[0]["token_hash"]
    assert link.group(1) not in str(row)
    # sending again sends nothing: every invitation is marked sent
    assert (await send_invitations("2027-Q1", NOW, mailer(outbox))).sent == 0
    assert len(list(outbox.folder.glob("*.eml"))) == len(files)


async def test_an_outbox_never_delivers_one_message_twice(tmp_path: Path) -> None:
    from surveys.infra.mail import Letter, compose

    letter = Letter(
        invitation_id=7,
        kind="reminder",
        number=1,
        name="Ana <b>Ruiz</b>",
        email="ana@site.example",
        language="es",
        organisation="Hospital",
        partner="Kestrel",
        cycle="Q1",
        deadline=CLOSES,
        link=f"{URL}/s/x",
        privacy=Text("Private."),
    )
    outbox = Outbox(tmp_path)
    message = compose(letter, SENDER, NOW)
    assert await outbox.deliver(message, letter.email) is True
    assert await outbox.deliver(compose(letter, SENDER, NOW), letter.email) is False
    assert len(list(tmp_path.glob("*.eml"))) == 1
    assert message["Content-Language"] == "es"
    assert message["Subject"] == "Recordatorio: ¿cómo va el trabajo con Kestrel? (Q1)"
    assert "31 de marzo de 2027" in message.get_body(("plain",)).get_content()
    first = compose(Letter(**{**letter.__dict__, "kind": "invitation", "number": 0}), SENDER, NOW)
    html = first.get_body(("html",)).get_content()
    assert "Estimado/a Ana &lt;b&gt;Ruiz&lt;/b&gt;:" in html, "names are text, never markup"
    assert first["Message-ID"] != message["Message-ID"]


async def test_closing_stops_the_links_and_status_counts_each_stage(
    world_db: Engine, tmp_path: Path
) -> None:
    await opened(tmp_path)
    cycle = await Cycle.select(Cycle.id).where(Cycle.key == "2027-Q1").first()
    ids = [
        row["id"]
        for row in await Invitation.select(Invitation.id)
        .where(Invitation.cycle == cycle["id"])
        .order_by(Invitation.id)
        .limit(3)
    ]
    await Invitation.update({Invitation.status: "opened"}).where(Invitation.id == ids[0])
    await Invitation.update({Invitation.status: "in_progress"}).where(Invitation.id == ids[1])
    await Invitation.update({Invitation.status: "submitted", Invitation.submitted_at: NOW}).where(
        Invitation.id == ids[2]
    )
    _, report = await cycle_report("2027-Q1")
    totals = report[["invited", "opened", "in_progress", "submitted"]].sum()
    assert totals.tolist() == [
        await Invitation.count().where(Invitation.cycle == cycle["id"]),
        3,
        2,
        1,
    ]
    assert report["response_rate"].between(0, 1).all()
    assert await close_cycle("2027-Q1", NOW) == 1
    nonce = await Invitation.select(Invitation.token_nonce).where(Invitation.id == ids[0])
    view = await link_view(link_token(SECRET, nonce[0]["token_nonce"]), NOW)
    assert view.state == LinkState.expired
    with pytest.raises(CycleTransitionError, match="from closed to open"):
        await open_cycle("2027-Q1", NOW, mailer(Outbox(tmp_path)))


async def test_reminders_go_only_to_those_who_have_not_submitted_and_are_spaced(
    world_db: Engine, tmp_path: Path
) -> None:
    outbox, summary = await opened(tmp_path)
    cycle = await Cycle.select(Cycle.id).where(Cycle.key == "2027-Q1").first()
    invited = sum(summary.invited.values())
    done = [
        row["id"]
        for row in await Invitation.select(Invitation.id)
        .where(Invitation.cycle == cycle["id"])
        .limit(10)
    ]
    await Invitation.update({Invitation.status: "submitted", Invitation.submitted_at: NOW}).where(
        Invitation.id.is_in(done)
    )
    days = dt.timedelta(days=1)

    async def remind(at: dt.datetime) -> int:
        return (await send_reminders("2027-Q1", at, mailer(outbox), most=2, days=5)).sent

    assert await remind(NOW + 4 * days) == 0, "too soon after the invitation"
    assert await remind(NOW + 5 * days) == invited - 10
    assert await remind(NOW + 9 * days) == 0, "too soon after the first reminder"
    assert await remind(NOW + 10 * days) == invited - 10
    assert await remind(NOW + 30 * days) == 0, "two reminders at most"
    reminders = sorted(outbox.folder.glob("*-reminder-*.eml"))
    assert len(reminders) == 2 * (invited - 10)
    assert not any(f"invitation-{i}-" in f.name for i in done for f in reminders)
    # a reminder repeats the invitation's own link
    first = next(outbox.folder.glob("*-reminder-1_*.eml"))
    invitation = outbox.folder / first.name.replace("-reminder-1_", "-invitation-0_")
    link = re.compile(rf"{re.escape(URL)}/s/\S+")

    def link_in(path: Path) -> str:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        return link.search(message.get_body(("plain",)).get_content()).group(0)  # type: ignore[union-attr]

    assert link_in(first) == link_in(invitation)
    await close_cycle("2027-Q1", NOW + 40 * days)
    with pytest.raises(CycleError, match="only an open cycle"):
        await remind(NOW + 41 * days)
