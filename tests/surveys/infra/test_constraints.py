"""What the database itself refuses, on both engines, whatever the application does."""

from __future__ import annotations

import datetime as dt

import pytest
from piccolo.engine.base import Engine

from surveys.cycles.invitations import Invitation
from surveys.directory.audit import AppendOnlyError, AuditEntry, record
from surveys.directory.organisations import Organisation, Person
from surveys.infra.tokens import new_token, token_hash
from surveys.instruments import Item
from surveys.responses.answers import Answer, Response

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


async def an_invitation() -> dict:
    return (
        await Invitation.select()
        .where(Invitation.status == "submitted")
        .order_by(Invitation.id)
        .first()
    )


async def test_second_invitation_for_same_cycle_respondent_and_target_is_refused(
    world_db: Engine,
) -> None:
    existing = await an_invitation()
    duplicate = Invitation(
        cycle=existing["cycle"],
        relationship=existing["relationship"],
        instrument=existing["instrument"],
        respondent=existing["respondent"],
        target=existing["target"],
        token_hash=token_hash(new_token()),
        created_at=NOW,
    )
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await duplicate.save()


async def test_second_response_for_one_invitation_is_refused(world_db: Engine) -> None:
    existing = await an_invitation()
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await Response(invitation=existing["id"], started_at=NOW, updated_at=NOW).save()


@pytest.mark.parametrize("value", [-1, 12])
async def test_answer_outside_every_scale_is_refused(world_db: Engine, value: int) -> None:
    response = await Response.select(Response.id).first()
    item = await Item.select(Item.id).where(Item.kind == "likert").first()
    await Answer.delete().where((Answer.response == response["id"]) & (Answer.item == item["id"]))
    with pytest.raises(Exception, match=r"(?i)check|constraint"):
        await Answer(response=response["id"], item=item["id"], value=value).save()


async def test_not_applicable_answer_cannot_carry_a_value(world_db: Engine) -> None:
    response = await Response.select(Response.id).first()
    item = await Item.select(Item.id).where(Item.kind == "likert").first()
    await Answer.delete().where((Answer.response == response["id"]) & (Answer.item == item["id"]))
    with pytest.raises(Exception, match=r"(?i)check|constraint"):
        await Answer(response=response["id"], item=item["id"], value=3, not_applicable=True).save()


async def test_organisation_with_people_cannot_be_deleted(world_db: Engine) -> None:
    person = await Person.select(Person.organisation).first()
    with pytest.raises(Exception, match=r"(?i)foreign key|violates"):
        await Organisation.delete().where(Organisation.id == person["organisation"])
    assert await Organisation.exists().where(Organisation.id == person["organisation"])


async def test_deleting_a_response_takes_its_answers_with_it(world_db: Engine) -> None:
    response = await Response.select(Response.id).where(Response.status == "submitted").first()
    assert await Answer.count().where(Answer.response == response["id"]) > 0
    await Response.delete().where(Response.id == response["id"])
    assert await Answer.count().where(Answer.response == response["id"]) == 0


async def test_unknown_organisation_kind_is_refused_by_the_database(db: Engine) -> None:
    with pytest.raises(Exception, match=r"(?i)check|constraint"):
        await Organisation.raw(
            "INSERT INTO organisation (slug, name, kind, active, created_at) "
            "VALUES ({}, {}, {}, {}, {})",
            "x",
            "X",
            "hospital",
            True,
            NOW,
        )


async def test_audit_log_is_append_only(db: Engine) -> None:
    await record("cli:alice", "instrument.load", "instrument", 1, {"key": "k"})
    assert await AuditEntry.count() == 1
    with pytest.raises(AppendOnlyError):
        AuditEntry.update({AuditEntry.actor: "mallory"})
    with pytest.raises(AppendOnlyError):
        AuditEntry.delete()
    entry = await AuditEntry.objects().first()
    entry.actor = "mallory"
    with pytest.raises(AppendOnlyError):
        await entry.save()
    assert (await AuditEntry.select(AuditEntry.actor).first())["actor"] == "cli:alice"
