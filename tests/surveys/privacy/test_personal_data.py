"""Exporting everything held on a person: every place they left a trace, no secret."""

from __future__ import annotations

import json

import pytest
from piccolo.engine.base import Engine

from surveys.accounts.credentials import Account, ApiToken, SignInLink, WebSession
from surveys.privacy import (
    UnknownPersonError,
    erase_person,
    person_with_email,
    personal_data,
)
from surveys.responses.answers import Answer, Response
from tests.surveys.privacy.subjects import EMAIL, NAME, administrator, zoe

pytestmark = pytest.mark.anyio


async def test_the_export_holds_every_trace_of_the_person(scored_world_db: Engine) -> None:
    her = await zoe()
    data = await personal_data(her.person_id)

    assert data["person"]["name"] == NAME and data["person"]["email"] == EMAIL
    assert data["person"]["organisation"]["id"] == her.organisation_id
    assert data["relationships"]
    account = data["account"]
    assert account["password"].startswith("set")
    assert [g["role"] for g in account["grants"]] == ["site_user"]
    assert account["sessions"] == {"count": 1, "unexpired": 1}
    assert [t["name"] for t in account["api_tokens"]] == ["Power BI"]
    assert account["api_tokens"][0]["prefix"].startswith("rpt_")
    assert [link["purpose"] for link in account["sign_in_links"]] == ["sign_in"]
    assert {i["status"] for i in data["invitations"]} >= {"submitted"}
    assert data["invitations"][0]["delivery_problem"].endswith("user unknown")

    statuses = {r["status"] for r in data["responses"]}
    assert statuses == {"draft", "submitted"}
    stored = await Answer.count().where(Answer.response._.invitation._.respondent == her.person_id)
    exported = [a for r in data["responses"] for a in r["answers"]]
    assert len(exported) == stored > 0
    assert any(a["text"] and NAME in a["text"] for a in exported), "her comment"
    assert all({"item", "value", "not_applicable", "text"} <= a.keys() for a in exported)
    assert len(data["responses"]) == await Response.count().where(
        Response.invitation._.respondent == her.person_id
    )

    assert [a["owner"] for a in data["action_items"]] == [NAME]
    assert data["action_items"][0]["created_by_them"] is True
    assert NAME in data["partner_replies"][0]["text"]
    assert data["tier_overrides"][0]["override_tier"] == 4
    assert {e["kind"] for e in data["tier_events"]} == {"override"}
    assert len(data["scorecard_mailings"]) == 1
    assert data["jobs"][0]["kind"] == "scorecards"
    actions = {e["action"] for e in data["audit_entries"]}
    assert {"token.new", "scorecard.reply", "tier.override", "person.import"} <= actions


async def test_the_export_is_json_and_holds_no_secret(scored_world_db: Engine) -> None:
    her = await zoe()
    text = json.dumps(await personal_data(her.person_id))
    account = await Account.select(Account.password_hash).where(Account.id == her.account_id)
    secrets = [account[0]["password_hash"]]
    for table, column in (
        (WebSession, WebSession.id_hash),
        (SignInLink, SignInLink.token_hash),
        (ApiToken, ApiToken.token_hash),
    ):
        secrets += [row[column._meta.name] for row in await table.select(column)]
    assert len(secrets) == 4
    for secret in secrets:
        assert secret not in text
    assert "T" in json.loads(text)["exported_at"], "datetimes are ISO strings"


async def test_a_person_is_found_by_e_mail_in_any_case(scored_world_db: Engine) -> None:
    her = await zoe()
    assert await person_with_email(f"  {EMAIL.upper()} ") == her.person_id
    with pytest.raises(UnknownPersonError, match=r"no person has the e-mail 'no@one\.example'"):
        await person_with_email("no@one.example")
    with pytest.raises(UnknownPersonError, match="no person 999999"):
        await personal_data(999999)


async def test_after_erasure_the_export_holds_the_pseudonym_and_the_kept_answers(
    scored_world_db: Engine,
) -> None:
    her = await zoe()
    before = await personal_data(her.person_id)
    erasure = await erase_person(her.person_id, await administrator())
    after = await personal_data(her.person_id)
    assert after["person"]["name"] == erasure.pseudonym
    assert after["person"]["erased_at"] is not None
    assert after["account"] is None
    kept = [r for r in before["responses"] if r["status"] == "submitted"]
    assert [r["id"] for r in after["responses"]] == [r["id"] for r in kept]
    assert [len(r["answers"]) for r in after["responses"]] == [len(r["answers"]) for r in kept]
    assert "person.erase" in {e["action"] for e in after["audit_entries"]}
    text = json.dumps(after, ensure_ascii=False)
    assert NAME not in text and EMAIL not in text
