"""Running a cycle: create, open (who is invited, or why not), close, reopen, preview."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from piccolo.engine.base import Engine

from surveys.cycles.cycle import Cycle, CycleError, CycleTransitionError
from surveys.cycles.invitations import Invitation, LinkState, link_view
from surveys.cycles.life_cycle import close_cycle, create_cycle, open_cycle, reopen_cycle
from surveys.cycles.preview import opening_preview
from surveys.cycles.progress import cycle_status
from surveys.directory.audit import AuditEntry
from surveys.directory.organisations import Person, Relationship, RelationshipContact
from surveys.infra.mail import Mailer, Outbox
from surveys.infra.tokens import link_token

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


async def test_a_cycle_takes_the_instrument_versions_chosen(world_db: Engine) -> None:
    from surveys.instruments import Direction, Instrument
    from surveys.instruments.catalogue import instrument_version

    site_side = (
        await Instrument.select(Instrument.id, Instrument.key, Instrument.version)
        .where(Instrument.direction == Direction.site_rates_sponsor.value)
        .first()
    )
    found = await instrument_version(f"{site_side['key']}@{site_side['version']}")
    assert (found.id, found.direction) == (site_side["id"], Direction.site_rates_sponsor)
    with pytest.raises(CycleError, match="not a loaded version of that direction"):
        await create_cycle(
            "2027-Q1", "", CLOSES, NOW, chosen={Direction.sponsor_rates_site: site_side["id"]}
        )
    await create_cycle("2027-Q1", "", CLOSES, NOW, chosen={Direction.site_rates_sponsor: found.id})
    row = await Cycle.select(Cycle.site_instrument).where(Cycle.key == "2027-Q1").first()
    assert row["site_instrument"] == site_side["id"]
    from surveys.instruments import InstrumentError

    with pytest.raises(InstrumentError, match="is not loaded; loaded: "):
        await instrument_version("no-such-instrument@9")


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
    assert summary.people == invitations["respondent"].nunique() == summary.mail.sent
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
    total = (await cycle_status("2027-Q1")).total
    assert [total.invited, total.opened, total.in_progress, total.submitted] == [
        await Invitation.count().where(Invitation.cycle == cycle["id"]),
        3,
        2,
        1,
    ]
    assert await close_cycle("2027-Q1", NOW) == 1
    nonce = await Invitation.select(Invitation.token_nonce).where(Invitation.id == ids[0])
    view = await link_view(link_token(SECRET, nonce[0]["token_nonce"]), NOW)
    assert view.state == LinkState.expired
    with pytest.raises(CycleError, match="is closed: only a draft cycle is opened"):
        await open_cycle("2027-Q1", NOW, mailer(Outbox(tmp_path)))


async def site_staff_named_for(relationship: dict[str, Any]) -> int:
    """Name one of the site's staff as the site's contact on `relationship`; return them."""
    named = (
        await Person.select(Person.id)
        .where((Person.organisation == relationship["site"]) & (Person.role == "coordinator"))
        .first()
    )
    await RelationshipContact.insert(
        RelationshipContact(relationship=relationship["id"], person=named["id"])
    )
    return int(named["id"])


async def test_site_staff_named_on_a_relationship_are_the_only_ones_to_rate_that_sponsor(
    world_db: Engine, tmp_path: Path
) -> None:
    relationship = (
        await Relationship.select()
        .where(Relationship.active.eq(True) & Relationship.cro.is_not_null())
        .first()
    )
    named = await site_staff_named_for(relationship)
    staff = await Person.select(Person.id).where(
        (Person.organisation == relationship["site"])
        & Person.role.is_in(["pi", "coordinator", "site_director"])
    )
    assert len(staff) > 1, "the site has others who would rate by the rule of roles"
    await opened(tmp_path)
    raters = await Invitation.select(Invitation.respondent, Invitation.target).where(
        (Invitation.cycle.key == "2027-Q1") & (Invitation.relationship == relationship["id"])
    )
    site_side = {
        (row["respondent"], row["target"])
        for row in raters
        if row["target"] in (relationship["sponsor"], relationship["cro"])
    }
    assert site_side == {(named, relationship["sponsor"]), (named, relationship["cro"])}
    # a relationship of the same site with no named staff keeps the rule of roles
    other = await Relationship.select(Relationship.id, Relationship.sponsor).where(
        (Relationship.site == relationship["site"]) & (Relationship.id != relationship["id"])
    )
    for row in other:
        rating = await Invitation.select(Invitation.respondent).where(
            (Invitation.cycle.key == "2027-Q1")
            & (Invitation.relationship == row["id"])
            & (Invitation.target == row["sponsor"])
        )
        assert {r["respondent"] for r in rating} == {p["id"] for p in staff}


async def test_opening_without_relationships_or_without_one_side_is_refused_with_the_reason(
    world_db: Engine, tmp_path: Path
) -> None:
    await create_cycle("2027-Q1", "Q1 2027", CLOSES, NOW)
    await Person.update({Person.active: False}).where(Person.role.is_in(["cra", "study_manager"]))
    with pytest.raises(CycleError, match="would invite nobody to rate sites: no active") as refused:
        await open_cycle("2027-Q1", NOW, mailer(Outbox(tmp_path)))
    assert "cra or study_manager" in str(refused.value)
    await Relationship.update({Relationship.active: False}).where(Relationship.id > 0)
    with pytest.raises(CycleError, match="would invite nobody: there is no active relationship"):
        await open_cycle("2027-Q1", NOW, mailer(Outbox(tmp_path)))
    row = await Cycle.select(Cycle.status).where(Cycle.key == "2027-Q1").first()
    assert row["status"] == "draft" and await Invitation.count() == await Invitation.count().where(
        Invitation.cycle.key != "2027-Q1"
    )


async def test_a_closed_cycle_reopens_until_a_new_date_and_a_scored_one_never(
    world_db: Engine, tmp_path: Path
) -> None:
    await opened(tmp_path)
    first = (
        await Invitation.select(Invitation.id, Invitation.token_nonce)
        .where(Invitation.cycle.key == "2027-Q1")
        .first()
    )
    token = link_token(SECRET, first["token_nonce"])
    later = CLOSES + dt.timedelta(days=3)
    await close_cycle("2027-Q1", NOW + dt.timedelta(days=10))
    with pytest.raises(CycleError, match="not in the future"):
        await reopen_cycle("2027-Q1", NOW, "alice", NOW + dt.timedelta(days=11))
    unanswered = await reopen_cycle("2027-Q1", later + dt.timedelta(days=30), "alice", later)
    assert unanswered == await Invitation.count().where(Invitation.cycle.key == "2027-Q1")
    cycle = await Cycle.select(Cycle.id, Cycle.status, Cycle.closes_at).where(
        Cycle.key == "2027-Q1"
    )
    assert cycle[0]["status"] == "open"
    assert cycle[0]["closes_at"] == later + dt.timedelta(days=30)
    assert (await link_view(token, later)).state == LinkState.open, "after the old closing date"
    entry = (
        await AuditEntry.select(AuditEntry.actor, AuditEntry.detail)
        .where(
            (AuditEntry.action == "cycle.reopen") & (AuditEntry.record_id == str(cycle[0]["id"]))
        )
        .output(load_json=True)
        .first()
    )
    assert entry["actor"] == "alice"
    assert entry["detail"]["closes_on"] == f"{later + dt.timedelta(days=30):%Y-%m-%d}"
    with pytest.raises(CycleError, match="is open: only a closed cycle"):
        await reopen_cycle("2027-Q1", later + dt.timedelta(days=40), "alice", later)
    scored = await Cycle.select(Cycle.key).where(Cycle.status == "scored").first()
    if scored is None:
        await Cycle.update({Cycle.status: "scored"}).where(Cycle.key == "2027-Q1")
        scored = {"key": "2027-Q1"}
    with pytest.raises(CycleError, match="is scored: only a closed cycle that is not scored"):
        await reopen_cycle(scored["key"], later + dt.timedelta(days=40), "alice", later)


async def test_the_preview_says_what_opening_will_do_without_doing_it(
    world_db: Engine, tmp_path: Path
) -> None:
    await create_cycle("2027-Q1", "Q1 2027", CLOSES, NOW)
    preview = await opening_preview("2027-Q1", URL, NOW)
    assert preview.problems == () and preview.status == "draft"
    assert not await Invitation.exists().where(Invitation.cycle.key == "2027-Q1")
    summary = await open_cycle("2027-Q1", NOW, mailer(Outbox(tmp_path)))
    sides = {side.direction: side for side in preview.sides}
    assert {d: s.invitations for d, s in sides.items()} == summary.invited
    assert preview.people == summary.people == sum(s.people for s in sides.values())
    languages = pd.DataFrame(
        await Invitation.select(
            Invitation.respondent,
            Invitation.respondent.language.as_alias("language"),
            Invitation.instrument.direction.as_alias("direction"),
        ).where(Invitation.cycle.key == "2027-Q1")
    ).drop_duplicates("respondent")
    for direction, side in sides.items():
        expected = languages[languages["direction"] == direction]["language"].value_counts()
        assert side.languages == expected.to_dict()
    samples = {(s.direction, s.language): s for s in preview.samples}
    assert set(samples) == {(d, lang) for d, s in sides.items() for lang in s.languages}
    sample = samples["site_rates_sponsor", "en"]
    assert sample.partners >= 1 and f"{URL}/s/" in sample.text
    assert "31 March 2027" in sample.text and "Dear" in sample.text
