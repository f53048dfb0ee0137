"""Everything Rapport holds on one person (GDPR article 15), as one JSON document.

Secrets are never exported, only said to exist: a password hash, the hashes of
sessions, sign-in links and API tokens, invitation links. The sections and their
fields are listed in docs/privacy.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from surveys.accounts.credentials import AccessGrant, Account, ApiToken, SignInLink, WebSession
from surveys.cycles.invitations import Invitation
from surveys.directory.audit import AuditEntry
from surveys.directory.organisations import Person, RelationshipContact
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_
from surveys.jobs import Job
from surveys.responses.answers import Answer, Response
from surveys.results.meetings import ActionItem
from surveys.results.tier_assignments import TierAssignment, TierEvent
from surveys.scorecards import PartnerReply, ScorecardMailing

EXPORT_FORMAT = 1
"""The version of the export's layout, written into it."""


RECORD_KINDS = {
    "relationships": N_("relationships"),
    "invitations": N_("invitations"),
    "responses": N_("responses"),
    "action_items": N_("action items"),
    "partner_replies": N_("partner replies"),
    "tier_overrides": N_("tier overrides"),
    "tier_events": N_("tier events"),
    "scorecard_mailings": N_("scorecard mailings"),
    "jobs": N_("jobs"),
    "audit_entries": N_("audit entries"),
}
"""What the console's page on a person's data calls each kind of record it counts (the
export's own keys stay as they are)."""


class UnknownPersonError(RapportError, ValueError):
    """No person matches; the message says what was looked for."""


async def person_with_email(email: str) -> int:
    """The id of the person with this e-mail (in any case), or UnknownPersonError."""
    row = await Person.select(Person.id).where(Person.email == email.strip().lower()).first()
    if row is None:
        raise UnknownPersonError(
            N_("no person has the e-mail %(email)s"), email=repr(email.strip())
        )
    return int(row["id"])


async def personal_data(person_id: int) -> dict[str, Any]:
    """Return everything held on a person, JSON-able (datetimes as ISO 8601 strings).

    Sections: `person` (the directory record and organisation), `relationships` (where
    they are a contact), `account` (with `grants`, `sessions`, `api_tokens`,
    `sign_in_links`; None without one), `invitations`, `responses` (drafts and
    submitted, with their answers and comments), `action_items` (created by them or
    naming them as owner), `partner_replies`, `tier_overrides`, `tier_events`,
    `scorecard_mailings`, `jobs` (started by them) and `audit_entries` (by them, by
    their e-mail, or about their directory record). Raises UnknownPersonError.
    """
    person = await _person(person_id)
    email, name = str(person["email"]), str(person["name"])
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": dt.datetime.now(dt.UTC),
        "person": person,
        "relationships": await _relationships(person_id),
        "account": await _account(person_id),
        "invitations": await _invitations(person_id),
        "responses": await _responses(person_id),
        "action_items": await _action_items(person_id, name),
        "partner_replies": await _partner_replies(person_id),
        "tier_overrides": await _tier_overrides(person_id),
        "tier_events": await _tier_events(email),
        "scorecard_mailings": await _mailings(person_id),
        "jobs": await _jobs(email),
        "audit_entries": await _audit_entries(person_id, email),
    }
    return {key: _plain(value) for key, value in document.items()}


async def _person(person_id: int) -> dict[str, Any]:
    row = (
        await Person.select(
            Person.id,
            Person.name,
            Person.email,
            Person.role,
            Person.language,
            Person.receives_results,
            Person.active,
            Person.created_at,
            Person.erased_at,
            Person.organisation._.id.as_alias("organisation_id"),
            Person.organisation._.slug.as_alias("organisation_slug"),
            Person.organisation._.name.as_alias("organisation_name"),
            Person.organisation._.kind.as_alias("organisation_kind"),
        )
        .where(Person.id == person_id)
        .first()
    )
    if row is None:
        raise UnknownPersonError(N_("there is no person %(person)s"), person=str(person_id))
    organisation = {
        key.removeprefix("organisation_"): row.pop(key)
        for key in list(row)
        if key.startswith("organisation_")
    }
    return {**row, "organisation": organisation}


async def _relationships(person_id: int) -> list[dict[str, Any]]:
    relationship = RelationshipContact.relationship
    return list(
        await RelationshipContact.select(
            relationship._.id.as_alias("relationship"),
            relationship._.sponsor._.name.as_alias("sponsor"),
            relationship._.site._.name.as_alias("site"),
            relationship._.cro._.name.as_alias("cro"),
        )
        .where(RelationshipContact.person == person_id)
        .order_by(RelationshipContact.relationship)
    )


async def _account(person_id: int) -> dict[str, Any] | None:
    row = (
        await Account.select(
            Account.id,
            Account.password_hash,
            Account.active,
            Account.created_at,
            Account.last_signed_in_at,
        )
        .where(Account.person == person_id)
        .first()
    )
    if row is None:
        return None
    account_id = row["id"]
    password = (
        "set (kept only as an argon2id hash, which is not exported)"
        if row.pop("password_hash")
        else "none (signs in by e-mailed links)"
    )
    grants = await AccessGrant.select(
        AccessGrant.role, AccessGrant.organisation._.name.as_alias("organisation")
    ).where(AccessGrant.account == account_id)
    sessions = await WebSession.select(WebSession.created_at, WebSession.expires_at).where(
        WebSession.account == account_id
    )
    now = dt.datetime.now(dt.UTC)
    return {
        **row,
        "password": password,
        "grants": list(grants),
        "sessions": {
            "count": len(sessions),
            "unexpired": sum(1 for s in sessions if s["expires_at"] > now),
        },
        "api_tokens": list(
            await ApiToken.select(
                ApiToken.name,
                ApiToken.prefix,
                ApiToken.created_at,
                ApiToken.last_used_at,
                ApiToken.revoked_at,
            )
            .where(ApiToken.account == account_id)
            .order_by(ApiToken.id)
        ),
        "sign_in_links": list(
            await SignInLink.select(
                SignInLink.purpose,
                SignInLink.created_at,
                SignInLink.expires_at,
                SignInLink.used_at,
            )
            .where(SignInLink.account == account_id)
            .order_by(SignInLink.id)
        ),
    }


async def _invitations(person_id: int) -> list[dict[str, Any]]:
    return list(
        await Invitation.select(
            Invitation.id,
            Invitation.cycle._.key.as_alias("cycle"),
            Invitation.target._.name.as_alias("partner"),
            Invitation.instrument._.key.as_alias("instrument"),
            Invitation.status,
            Invitation.created_at,
            Invitation.sent_at,
            Invitation.opened_at,
            Invitation.submitted_at,
            Invitation.expires_at,
            Invitation.last_reminded_at,
            Invitation.reminder_count,
            Invitation.undeliverable_at,
            Invitation.delivery_problem,
        )
        .where(Invitation.respondent == person_id)
        .order_by(Invitation.id)
    )


async def _responses(person_id: int) -> list[dict[str, Any]]:
    responses = list(
        await Response.select(
            Response.id,
            Response.invitation,
            Response.invitation._.cycle._.key.as_alias("cycle"),
            Response.invitation._.target._.name.as_alias("partner"),
            Response.status,
            Response.language,
            Response.started_at,
            Response.updated_at,
            Response.submitted_at,
        )
        .where(Response.invitation._.respondent == person_id)
        .order_by(Response.id)
    )
    answers: dict[int, list[dict[str, Any]]] = {}
    for row in await (
        Answer.select(
            Answer.response,
            Answer.item._.key.as_alias("item"),
            Answer.value,
            Answer.not_applicable,
            Answer.text,
        )
        .where(Answer.response.is_in([r["id"] for r in responses] or [0]))
        .order_by(Answer.item._.position)
    ):
        answers.setdefault(int(row.pop("response")), []).append(row)
    return [{**r, "answers": answers.get(int(r["id"]), [])} for r in responses]


async def _action_items(person_id: int, name: str) -> list[dict[str, Any]]:
    mine: Any = ActionItem.created_by == person_id
    if name.strip():
        mine = mine | (ActionItem.owner == name)
    rows = (
        await ActionItem.select(
            ActionItem.id,
            ActionItem.relationship._.sponsor._.name.as_alias("sponsor"),
            ActionItem.relationship._.site._.name.as_alias("site"),
            ActionItem.title,
            ActionItem.owner,
            ActionItem.side,
            ActionItem.status,
            ActionItem.due_on,
            ActionItem.created_at,
            ActionItem.updated_at,
            ActionItem.created_by,
        )
        .where(mine)
        .order_by(ActionItem.id)
    )
    for row in rows:
        row["created_by_them"] = row.pop("created_by") == person_id
    return list(rows)


async def _partner_replies(person_id: int) -> list[dict[str, Any]]:
    return list(
        await PartnerReply.select(
            PartnerReply.cycle._.key.as_alias("cycle"),
            PartnerReply.subject._.name.as_alias("subject"),
            PartnerReply.rater_organisation._.name.as_alias("view"),
            PartnerReply.text,
            PartnerReply.written_at,
        )
        .where(PartnerReply.person == person_id)
        .order_by(PartnerReply.id)
    )


async def _tier_overrides(person_id: int) -> list[dict[str, Any]]:
    return list(
        await TierAssignment.select(
            TierAssignment.cycle._.key.as_alias("cycle"),
            TierAssignment.assessor._.name.as_alias("assessor"),
            TierAssignment.target._.name.as_alias("target"),
            TierAssignment.computed_tier,
            TierAssignment.override_tier,
            TierAssignment.override_reason,
            TierAssignment.overridden_at,
        )
        .where(TierAssignment.overridden_by == person_id)
        .order_by(TierAssignment.id)
    )


async def _tier_events(email: str) -> list[dict[str, Any]]:
    assignment = TierEvent.assignment
    return list(
        await TierEvent.select(
            TierEvent.at,
            TierEvent.kind,
            TierEvent.tier,
            TierEvent.reason,
            assignment._.cycle._.key.as_alias("cycle"),
            assignment._.assessor._.name.as_alias("assessor"),
            assignment._.target._.name.as_alias("target"),
        )
        .where(TierEvent.actor == email)
        .order_by(TierEvent.id)
    )


async def _mailings(person_id: int) -> list[dict[str, Any]]:
    scorecard = ScorecardMailing.scorecard
    return list(
        await ScorecardMailing.select(
            scorecard._.cycle._.key.as_alias("cycle"),
            scorecard._.key.as_alias("scorecard"),
            ScorecardMailing.sent_at,
        )
        .where(ScorecardMailing.person == person_id)
        .order_by(ScorecardMailing.id)
    )


async def _jobs(email: str) -> list[dict[str, Any]]:
    return list(
        await Job.select(
            Job.kind, Job.subject, Job.state, Job.started_at, Job.finished_at, Job.failures
        )
        .where(Job.started_by == email)
        .order_by(Job.id)
        .output(load_json=True)
    )


async def _audit_entries(person_id: int, email: str) -> list[dict[str, Any]]:
    about_them = (AuditEntry.record_table == "person") & (AuditEntry.record_id == str(person_id))
    return list(
        await AuditEntry.select(
            AuditEntry.at,
            AuditEntry.actor,
            AuditEntry.action,
            AuditEntry.record_table,
            AuditEntry.record_id,
            AuditEntry.detail,
        )
        .where((AuditEntry.actor == email) | (AuditEntry.person == person_id) | about_them)
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )


def _plain(value: Any) -> Any:
    """`value` with dates and times as ISO 8601 strings, tuples as lists: JSON-able."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _plain(one) for key, one in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(one) for one in value]
    return value
