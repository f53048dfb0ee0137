"""Erasing a person: their name and e-mail gone from every table, their account and drafts
gone, their submitted answers kept under a pseudonym so that every score stays the same."""

from __future__ import annotations

import json
from typing import Any

import pytest
from piccolo.columns import JSON, Text, Varchar
from piccolo.engine.base import Engine

from scoring.config import ScoringConfig
from surveys.accounts.credentials import AccessGrant, Account, ApiToken, SignInLink, WebSession
from surveys.cycles.invitations import Invitation
from surveys.directory.audit import AppendOnlyError, AuditEntry
from surveys.directory.organisations import Person, RelationshipContact
from surveys.piccolo_app import APP_CONFIG
from surveys.privacy import ErasureError, erase_person
from surveys.responses.answers import Answer, Response
from surveys.results.cycle_scoring import score_cycle
from surveys.results.score_runs import DimensionScore, ScoreRun, TargetIndex
from surveys.results.tier_assignments import TierAssignment, TierEvent
from tests.surveys.privacy.subjects import EARLIER, EMAIL, NAME, administrator, zoe

pytestmark = pytest.mark.anyio


async def numbers(run_id: int) -> list[dict[str, Any]]:
    """Every row a run stored about targets and dimensions, in a stable order."""
    targets = await TargetIndex.select(
        *TargetIndex.all_columns(exclude=[TargetIndex.id, TargetIndex.run])
    ).where(TargetIndex.run == run_id)
    dimensions = await DimensionScore.select(
        *DimensionScore.all_columns(exclude=[DimensionScore.id, DimensionScore.run])
    ).where(DimensionScore.run == run_id)

    def identity(row: dict[str, Any]) -> str:
        return repr([(k, v) for k, v in row.items() if not isinstance(v, float)])

    return sorted(targets, key=identity) + sorted(dimensions, key=identity)


async def tiers() -> list[dict[str, Any]]:
    """Every tier assignment: the tier computed, whether provisional, and its reasons."""
    return list(
        await TierAssignment.select(
            TierAssignment.cycle,
            TierAssignment.assessor,
            TierAssignment.target,
            TierAssignment.computed_tier,
            TierAssignment.provisional,
            TierAssignment.rule_trace,
        ).order_by(TierAssignment.id)
    )


async def every_text_in_the_database() -> list[tuple[str, str, str]]:
    """(table, column, value) for every text, varchar and JSON value of every table; JSON
    both as stored and with its escapes undone."""
    found = []
    for table in APP_CONFIG.table_classes:
        columns = [c for c in table._meta.columns if isinstance(c, Varchar | Text | JSON)]
        if not columns:
            continue
        for row in await table.select(*columns):
            for column in columns:
                value = row[column._meta.name]
                if value is None:
                    continue
                texts = [str(value)]
                if isinstance(column, JSON):
                    texts.append(json.dumps(json.loads(value), ensure_ascii=False))
                found += [(table._meta.tablename, column._meta.name, text) for text in texts]
    return found


async def test_a_re_score_after_erasure_gives_the_same_numbers(scored_world_db: Engine) -> None:
    her = await zoe()
    admin = await administrator()
    past_runs = {run["id"]: await numbers(run["id"]) for run in await ScoreRun.select(ScoreRun.id)}
    before = await score_cycle(EARLIER, ScoringConfig(), "test")
    tiers_before = await tiers()
    await erase_person(her.person_id, admin)
    after = await score_cycle(EARLIER, ScoringConfig(), "test")
    assert after.answers == before.answers > 0
    assert await numbers(after.run_id) == await numbers(before.run_id), "to the last bit"
    assert await tiers() == tiers_before
    for run_id, stored in past_runs.items():
        assert await numbers(run_id) == stored, "a past run changed"


async def test_the_name_and_e_mail_appear_nowhere_after_erasure(scored_world_db: Engine) -> None:
    her = await zoe()
    everywhere = await every_text_in_the_database()
    assert {t for t, _, v in everywhere if NAME in v} >= {
        "person",
        "answer",
        "action_item",
        "partner_reply",
        "tier_assignment",
        "tier_event",
        "audit_entry",
    }, "the test puts her name everywhere it can be"
    assert {t for t, _, v in everywhere if EMAIL in v} >= {"invitation", "job", "audit_entry"}
    known = "0" * 64  # every submitted response keeps a digest of its answers
    await Response.update({Response.answers_digest: known}).where(Response.status == "submitted")
    naming = {
        r["response"]
        for r in await Answer.select(Answer.response).where(Answer.text.like(f"%{NAME}%"))
    }
    await erase_person(her.person_id, await administrator())
    for table, column, value in await every_text_in_the_database():
        assert NAME.lower() not in value.lower(), f"{table}.{column}: {value}"
        assert EMAIL not in value.lower(), f"{table}.{column}: {value}"
    digests = {
        r["id"]: r["answers_digest"]
        for r in await Response.select(Response.id, Response.answers_digest).where(
            Response.status == "submitted"
        )
    }
    assert naming and all(digests[r] is None for r in naming), "their answers were rewritten"
    assert {d for r, d in digests.items() if r not in naming} == {known}


async def test_erasure_removes_the_account_and_drafts_and_keeps_submitted_answers(
    scored_world_db: Engine,
) -> None:
    her = await zoe()
    hers = Response.invitation._.respondent == her.person_id
    submitted = await Response.count().where(hers & (Response.status == "submitted"))
    answers = await Answer.count().where(
        (Answer.response._.invitation._.respondent == her.person_id)
        & (Answer.response._.status == "submitted")
    )
    invitations = await Invitation.count().where(Invitation.respondent == her.person_id)
    assert await Response.count().where(hers & (Response.status == "draft")) > 0

    erasure = await erase_person(her.person_id, await administrator())

    person = await Person.select().where(Person.id == her.person_id).first()
    assert person["name"] == erasure.pseudonym and person["name"].startswith("Erased person ")
    assert person["email"] == erasure.pseudonymous_email
    assert person["email"].endswith("@erased.invalid")
    assert person["erased_at"] is not None
    assert not person["active"] and person["receives_results"] is False
    assert erasure.account_deleted and erasure.drafts_deleted > 0
    assert erasure.submitted_responses_kept == submitted
    assert await Account.count().where(Account.person == her.person_id) == 0
    for table in (AccessGrant, WebSession, SignInLink, ApiToken):
        assert await table.count().where(table.account == her.account_id) == 0
    assert await Response.count().where(hers & (Response.status == "draft")) == 0
    assert await Response.count().where(hers) == submitted
    assert (
        await Answer.count().where(Answer.response._.invitation._.respondent == her.person_id)
        == answers
    ), "her submitted answers stay, and only they"
    assert await RelationshipContact.count().where(RelationshipContact.person == her.person_id) == 0
    assert await Invitation.count().where(Invitation.respondent == her.person_id) == invitations
    unsubmitted = await Invitation.select(
        Invitation.status, Invitation.expires_at, Invitation.token_nonce
    ).where((Invitation.respondent == her.person_id) & (Invitation.status != "submitted"))
    assert unsubmitted, "the world left her some invitations unanswered"
    for invitation in unsubmitted:
        assert invitation["status"] != "in_progress", "her draft is gone"
        assert invitation["expires_at"] <= erasure.erased_at
        assert invitation["token_nonce"] is None


async def test_the_erasure_is_audited_under_the_pseudonym(scored_world_db: Engine) -> None:
    her = await zoe()
    admin = await administrator()
    hers_before = await AuditEntry.select(AuditEntry.id, AuditEntry.action, AuditEntry.at).where(
        AuditEntry.actor == EMAIL
    )
    assert hers_before

    erasure = await erase_person(her.person_id, admin)

    entry = (
        await AuditEntry.select()
        .where(AuditEntry.action == "person.erase")
        .output(load_json=True)
        .first()
    )
    assert entry["actor"] == admin.actor
    assert (entry["record_table"], entry["record_id"]) == ("person", str(her.person_id))
    assert entry["detail"]["pseudonym"] == erasure.pseudonym
    assert entry["detail"]["drafts_deleted"] == erasure.drafts_deleted
    hers_after = await AuditEntry.select(AuditEntry.id, AuditEntry.action, AuditEntry.at).where(
        AuditEntry.actor == erasure.pseudonymous_email
    )
    assert hers_after == hers_before, "what she did stays on record, under the pseudonym"
    events = await TierEvent.select(TierEvent.reason).where(
        TierEvent.actor == erasure.pseudonymous_email
    )
    assert events and erasure.pseudonym in events[0]["reason"]
    with pytest.raises(AppendOnlyError):
        AuditEntry.update({AuditEntry.actor: "someone"})


async def test_an_erased_person_cannot_be_erased_again(scored_world_db: Engine) -> None:
    her = await zoe()
    admin = await administrator()
    erasure = await erase_person(her.person_id, admin)
    with pytest.raises(ErasureError, match=f"already erased.*{erasure.pseudonym}"):
        await erase_person(her.person_id, admin)
    assert await AuditEntry.count().where(AuditEntry.action == "person.erase") == 1


async def test_no_one_erases_themselves_or_an_unknown_person(scored_world_db: Engine) -> None:
    her = await zoe()
    with pytest.raises(ErasureError, match="cannot erase yourself"):
        await erase_person(her.person_id, her.act)
    with pytest.raises(ErasureError, match="no person 999999"):
        await erase_person(999999, await administrator())
    person = await Person.select(Person.name).where(Person.id == her.person_id).first()
    assert person["name"] == NAME


async def test_the_last_active_administrator_cannot_be_erased(scored_world_db: Engine) -> None:
    ada = await administrator()
    if ada.person_id is None:
        raise AssertionError("an administrator is a person")
    cli = ada.__class__("cli:root", ada.at)
    with pytest.raises(ErasureError, match="last active administrator"):
        await erase_person(ada.person_id, cli)
    await administrator("bob.admin@rapport.example")
    erasure = await erase_person(ada.person_id, cli)
    assert erasure.account_deleted
