"""The people a privacy test needs, in the scored small world.

Zoé is a site's rater who has left traces everywhere Rapport keeps them: submitted
answers with a comment, a draft, an account with a grant, a session, a sign-in link and
an API token, a reply to a scorecard, a tier override, an action item she owns, a
scorecard mailed to her, a job she started, a bounced invitation, and audit entries.
Her name has an accent and an apostrophe, her e-mail an underscore: the characters
that JSON escapes and SQL's LIKE treats specially.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from surveys.accounts.credentials import (
    GrantRole,
    LinkPurpose,
    create_account,
    new_api_token,
    new_link,
    start_session,
)
from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.directory import audit
from surveys.directory.audit import Act
from surveys.directory.organisations import Person, Relationship, RelationshipContact
from surveys.instruments import Item
from surveys.jobs import Job
from surveys.responses.answers import Answer, Response
from surveys.results.meetings import ActionItem
from surveys.results.score_runs import ScoreRun
from surveys.results.tier_assignments import Tier, TierAssignment
from surveys.results.tier_review import set_override
from surveys.scorecards import RenderedScorecard, ScorecardMailing, write_reply

NAME = "Zoé O'Brien-Łukasik"
EMAIL = "zoe_obrien@delahaye-medical-centre.example"
PASSWORD = "a long enough passphrase"
EARLIER = "2026-Q2"
"""A scored cycle she answered, re-scored before and after her erasure."""
LATEST = "2026-Q3"
"""The latest scored cycle (not published): replies and overrides are still open."""


@dataclass(frozen=True)
class Subject:
    """Zoé, as the tests find her."""

    person_id: int
    organisation_id: int
    account_id: int
    act: Act
    """Zoé doing something (signed in)."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def administrator(email: str = "ada.admin@rapport.example") -> Act:
    """An administrator (a person at the first sponsor, with an account), acting now."""
    sponsor = await Person.select(Person.organisation).first()
    made = await Person.insert(
        Person(
            organisation=sponsor["organisation"] if sponsor else None,
            name="Ada Admin",
            email=email,
            role="executive",
            created_at=now(),
        )
    )
    person_id = int(made[0]["id"])
    await create_account(email, [(GrantRole.administrator, None)], now())
    return Act(email, now(), person_id)


async def _rater_with_a_draft() -> int:
    """The first rater with a draft somewhere and submitted answers in EARLIER."""
    rows = await Response.select(
        Response.invitation._.respondent.as_alias("person"),
        Response.invitation._.cycle._.key.as_alias("cycle"),
        Response.status,
    )
    drafts = {r["person"] for r in rows if r["status"] == "draft"}
    earlier = {r["person"] for r in rows if r["status"] == "submitted" and r["cycle"] == EARLIER}
    return int(min(drafts & earlier))


async def zoe() -> Subject:
    """Make a rater of the scored world into Zoé, with traces everywhere."""
    person_id = await _rater_with_a_draft()
    await Person.update({Person.name: NAME, Person.email: EMAIL}).where(Person.id == person_id)
    person = await Person.select(Person.organisation).where(Person.id == person_id).first()
    organisation = int(person["organisation"])
    act = Act(EMAIL, now(), person_id)

    account = await create_account(EMAIL, [(GrantRole.site_user, organisation)], now(), PASSWORD)
    await start_session(account, now())
    await new_link(account, LinkPurpose.sign_in, now())
    await new_api_token(account, "Power BI", now(), actor=EMAIL)

    await _sign_her_comment(person_id)
    await _name_her_in_someone_elses_comment(person_id)
    relationship = await _relationship_of(organisation)
    await RelationshipContact.insert(
        RelationshipContact(relationship=relationship["id"], person=person_id)
    )
    await write_reply(LATEST, organisation, None, f"Thank you. — {NAME} ({EMAIL})", act)
    await _override_a_tier(act)
    await _own_an_action(person_id, relationship["id"])
    await _mail_her_a_scorecard(person_id, organisation)
    await Job.insert(
        Job(
            kind="scorecards",
            subject=LATEST,
            state="done",
            step="mailing",
            summary={"sent": 1, "to": [EMAIL]},
            failures=[f"partner/x to {EMAIL}: 550 no such user"],
            started_by=EMAIL,
            started_at=now(),
        )
    )
    await Invitation.update(
        {Invitation.delivery_problem: f"550 5.1.1 <{EMAIL}>: user unknown"}
    ).where(Invitation.respondent == person_id)
    # what older code may have written: her name and e-mail in an entry about her
    await audit.record(
        "cli:admin", "person.import", "person", person_id, {"name": NAME, "email": EMAIL}
    )
    return Subject(person_id, organisation, account, act)


async def _sign_her_comment(person_id: int) -> None:
    """Give one of her submitted EARLIER responses a comment that names her."""
    response = (
        await Response.select(Response.id)
        .where(
            (Response.invitation._.respondent == person_id)
            & (Response.status == "submitted")
            & (Response.invitation._.cycle._.key == EARLIER)
        )
        .first()
    )
    comment = (
        await Answer.select(Answer.id)
        .where((Answer.response == response["id"]) & (Answer.item._.kind == "text"))
        .first()
    )
    text = f"Budgets arrive late. {NAME}"
    if comment:
        await Answer.update({Answer.text: text}).where(Answer.id == comment["id"])
        return
    item = (
        await Answer.select(Answer.item._.instrument.as_alias("instrument"))
        .where(Answer.response == response["id"])
        .first()
    )
    text_item = (
        await Item.select(Item.id)
        .where((Item.instrument == item["instrument"]) & (Item.kind == "text"))
        .first()
    )
    await Answer.insert(Answer(response=response["id"], item=text_item["id"], text=text))


async def _name_her_in_someone_elses_comment(person_id: int) -> None:
    other = (
        await Answer.select(Answer.id)
        .where(
            Answer.text.is_not_null()
            & (Answer.response._.invitation._.respondent != person_id)
            & (Answer.response._.status == "submitted")
        )
        .first()
    )
    await Answer.update({Answer.text: f"Ask {NAME} how she did it."}).where(
        Answer.id == other["id"]
    )


async def _relationship_of(site: int) -> dict[str, int]:
    row = (
        await Relationship.select(Relationship.id, Relationship.sponsor)
        .where(Relationship.site == site)
        .first()
    )
    return dict(row)


async def _override_a_tier(act: Act) -> None:
    cycle = await Cycle.select(Cycle.id).where(Cycle.key == LATEST).first()
    assignment = (
        await TierAssignment.select(TierAssignment.assessor, TierAssignment.target)
        .where(TierAssignment.cycle == cycle["id"])
        .first()
    )
    await set_override(
        LATEST,
        assignment["assessor"],
        assignment["target"],
        Tier.watch,
        f"Agreed with {NAME} <{EMAIL}> on the phone",
        act,
    )


async def _own_an_action(person_id: int, relationship: int) -> None:
    cycle = await Cycle.select(Cycle.id).where(Cycle.key == EARLIER).first()
    await ActionItem.insert(
        ActionItem(
            relationship=relationship,
            opened_in=cycle["id"],
            title=f"{NAME} sends the start-up plan",
            owner=NAME,
            side="site",
            status="open",
            created_by=person_id,
            created_at=now(),
            updated_at=now(),
        )
    )


async def _mail_her_a_scorecard(person_id: int, organisation: int) -> None:
    run = await ScoreRun.select(ScoreRun.id, ScoreRun.cycle).order_by(ScoreRun.id).first()
    made = await RenderedScorecard.insert(
        RenderedScorecard(
            key="partner/her-site/for/her-site/en/a4",
            cycle=run["cycle"],
            run=run["id"],
            kind="partner",
            subject=organisation,
            audience=organisation,
            language="en",
            content_hash="0" * 64,
            file_path="partner/her-site.pdf",
            rendered_at=now(),
        )
    )
    await ScorecardMailing.insert(
        ScorecardMailing(
            key=f"partner/her-site/for/her-site/en/a4/{'0' * 16}/{person_id}",
            scorecard=made[0]["id"],
            person=person_id,
            sent_at=now(),
        )
    )
