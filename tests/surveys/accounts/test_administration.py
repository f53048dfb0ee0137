"""Giving and taking accounts: the first administrator, invitations, grants, deactivation,
tokens, and the administrators' list of accounts.

The cast: alice administers Rapport; bob works at Acme Pharma (a sponsor), carol at
St Mary's (a site), dave at Northwind (a CRO); erin was erased, frank deactivated.
"""

from __future__ import annotations

import datetime as dt
import email
import json
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

from surveys.accounts.administration import (
    account_detail,
    account_id_for,
    accounts_page,
    create_first_administrator,
    give_grant,
    grant_id_for,
    invite_to_sign_in,
    revoke_any_token,
    set_account_active,
    take_grant,
)
from surveys.accounts.credentials import (
    AccessGrant,
    Account,
    AccountError,
    GrantRole,
    LinkPurpose,
    create_account,
    new_api_token,
    new_link,
    session_account,
    start_session,
    token_account,
    use_link,
)
from surveys.accounts.sign_in_mail import lifetime_parts
from surveys.directory.audit import Act, AuditEntry
from surveys.directory.organisations import Organisation, OrgKind, Person
from surveys.infra.mail import DeliveryError, Mailer, Outbox
from surveys.infra.pagination import PastLastPageError

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2027, 1, 11, 9, 0, tzinfo=dt.UTC)
URL = "https://rapport.example.org"


def mailer(delivery: Any) -> Mailer:
    return Mailer(secret="s", public_url=URL, sender="Rapport <r@example.org>", delivery=delivery)


async def organisation(name: str, slug: str, kind: OrgKind) -> int:
    made = await Organisation.insert(
        Organisation(slug=slug, name=name, kind=kind.value, created_at=NOW)
    )
    return int(made[0]["id"])


async def person(
    name: str, organisation_id: int, role: str = "executive", **more: Any
) -> dict[str, Any]:
    address = f"{name.lower()}@example.org"
    made = await Person.insert(
        Person(
            organisation=organisation_id,
            name=name.title(),
            email=address,
            role=role,
            created_at=NOW,
            **more,
        )
    )
    return {"id": int(made[0]["id"]), "email": address}


@dataclass(frozen=True)
class Cast:
    acme: int
    st_marys: int
    northwind: int
    network: int
    alice: Act
    """Alice acting: the one administrator."""
    alice_account: int
    people: dict[str, dict[str, Any]]


async def cast() -> Cast:
    acme = await organisation("Acme Pharma", "acme", OrgKind.sponsor)
    st_marys = await organisation("St Mary's Hospital", "st-marys", OrgKind.site)
    northwind = await organisation("Northwind Research", "northwind", OrgKind.cro)
    network = await organisation("Wessex Trials Network", "wessex", OrgKind.network)
    people = {
        "alice": await person("alice", acme),
        "bob": await person("bob", acme, "study_manager"),
        "carol": await person("carol", st_marys, "coordinator"),
        "dave": await person("dave", northwind, "cra"),
        "erin": await person("erin", st_marys, "pi", active=False, erased_at=NOW),
        "frank": await person("frank", acme, active=False),
    }
    alice_account = await create_account(
        people["alice"]["email"], [(GrantRole.administrator, None)], NOW
    )
    alice = Act(actor="alice@example.org", at=NOW, person_id=people["alice"]["id"])
    return Cast(acme, st_marys, northwind, network, alice, alice_account, people)


async def audit_actions() -> list[str]:
    return [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]


def link_in(message: EmailMessage) -> str:
    body = message.get_content()
    found = re.search(r"https://\S+/sign-in/link/(\S+)", body)
    assert found, body
    return found.group(1)


def letters(folder: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


# the first administrator


async def test_an_empty_database_asks_for_the_administrators_organisation(db: Engine) -> None:
    act = Act(actor="cli:root", at=NOW)
    with pytest.raises(AccountError, match="pass --organisation"):
        await create_first_administrator("Alice@Example.org", "Alice", None, OrgKind.sponsor, act)
    assert await Person.count() == 0
    assert await audit_actions() == []


async def test_the_first_administrator_is_added_with_their_organisation(db: Engine) -> None:
    act = Act(actor="cli:root", at=NOW)
    made = await create_first_administrator(
        " Alice@Example.org ", "Alice Martin", "Acme Pharma", OrgKind.sponsor, act
    )
    assert (made.made_organisation, made.made_person, made.made_grant) == (True, True, True)
    org = await Organisation.select().where(Organisation.slug == "acme-pharma").first()
    assert (org["name"], org["kind"]) == ("Acme Pharma", "sponsor")
    who = await Person.select().where(Person.id == made.person_id).first()
    assert (who["email"], who["name"], who["organisation"]) == (
        "alice@example.org",
        "Alice Martin",
        org["id"],
    )
    grants = await AccessGrant.select().where(AccessGrant.account == made.account_id)
    assert [(g["role"], g["organisation"]) for g in grants] == [("administrator", None)]
    entries = await AuditEntry.select().order_by(AuditEntry.id)
    assert [e["action"] for e in entries] == [
        "organisation.create",
        "person.create",
        "account.create",
        "grant.give",
    ]
    assert {e["actor"] for e in entries} == {"cli:root"}
    assert "alice" not in str([e["detail"] for e in entries]).lower()  # the log outlives erasure


async def test_the_organisation_is_found_by_short_name_or_by_name_in_any_case(
    db: Engine,
) -> None:
    st_marys = await organisation("St Mary's Hospital", "st-marys", OrgKind.site)
    act = Act(actor="cli:root", at=NOW)
    by_name = await create_first_administrator(
        "alice@example.org", "Alice", "ST MARY'S HOSPITAL", OrgKind.sponsor, act
    )
    by_slug = await create_first_administrator(
        "bob@example.org", "Bob", "st-marys", OrgKind.sponsor, act
    )
    assert not by_name.made_organisation and not by_slug.made_organisation
    assert by_name.organisation == "St Mary's Hospital"
    rows = await Person.select(Person.organisation).where(
        Person.id.is_in([by_name.person_id, by_slug.person_id])
    )
    assert {r["organisation"] for r in rows} == {st_marys}
    assert await Organisation.count() == 1


async def test_an_existing_person_becomes_an_administrator_once(db: Engine) -> None:
    c = await cast()
    act = Act(actor="cli:root", at=NOW)
    made = await create_first_administrator("BOB@example.org", "Ignored", None, OrgKind.site, act)
    assert (made.made_organisation, made.made_person, made.made_grant) == (False, False, True)
    assert made.organisation == "Acme Pharma"
    assert (await Person.select(Person.name).where(Person.id == made.person_id).first())[
        "name"
    ] == "Bob"
    again = await create_first_administrator("bob@example.org", "", None, OrgKind.site, act)
    assert not again.made_grant
    assert await AccessGrant.count().where(AccessGrant.account == made.account_id) == 1
    assert c.acme != c.st_marys


async def test_the_first_administrator_is_refused_what_cannot_sign_in(db: Engine) -> None:
    await cast()
    act = Act(actor="cli:root", at=NOW)
    with pytest.raises(AccountError, match="erased"):
        await create_first_administrator("erin@example.org", "Erin", None, OrgKind.site, act)
    with pytest.raises(AccountError, match="deactivated in the directory"):
        await create_first_administrator("frank@example.org", "Frank", None, OrgKind.site, act)
    with pytest.raises(AccountError, match="not at a network"):
        await create_first_administrator("gus@example.org", "Gus", "wessex", OrgKind.site, act)
    with pytest.raises(AccountError, match="not at a network"):
        await create_first_administrator("gus@example.org", "Gus", "New Net", OrgKind.network, act)
    with pytest.raises(AccountError, match="pass --organisation with the short name"):
        await create_first_administrator("gus@example.org", "Gus", "", OrgKind.site, act)
    with pytest.raises(AccountError, match="name with --name"):
        await create_first_administrator("gus@example.org", " ", "acme", OrgKind.site, act)
    assert not await Person.exists().where(Person.email == "gus@example.org")
    assert not await Organisation.exists().where(Organisation.name == "New Net")


# invitations


async def test_an_invitation_gives_an_account_grants_and_a_seven_day_link(
    db: Engine, tmp_path: Path
) -> None:
    c = await cast()
    outbox = Outbox(tmp_path / "outbox")
    carol = c.people["carol"]
    invited = await invite_to_sign_in(
        carol["id"], [(GrantRole.site_user, c.st_marys)], c.alice, mailer(outbox)
    )
    assert invited.mailed and invited.problem is None
    assert invited.expires_at == NOW + dt.timedelta(days=7)
    account = await Account.select().where(Account.id == invited.account_id).first()
    assert account["person"] == carol["id"] and account["password_hash"] is None
    (letter,) = letters(tmp_path / "outbox")
    assert letter["To"] == "Carol <carol@example.org>"
    assert letter["Subject"] == "Alice invited you to Rapport"
    assert "within 7 days" in letter.get_content()
    token = link_in(letter)
    assert invited.link == f"{URL}/sign-in/link/{token}"
    late = NOW + dt.timedelta(days=7, minutes=1)
    assert await use_link(token, LinkPurpose.sign_in, late) is None
    assert await use_link(token, LinkPurpose.sign_in, NOW + dt.timedelta(days=6)) == account["id"]
    assert await use_link(token, LinkPurpose.sign_in, NOW + dt.timedelta(days=6)) is None
    entries = await AuditEntry.select().where(AuditEntry.person == c.people["alice"]["id"])
    assert [e["action"] for e in entries] == ["account.create", "grant.give", "account.invite"]


async def test_an_invitation_is_refused_to_someone_erased_or_deactivated(
    db: Engine, tmp_path: Path
) -> None:
    c = await cast()
    outbox = Outbox(tmp_path / "outbox")
    for name, reason in (("erin", "erased"), ("frank", "deactivated in the directory")):
        with pytest.raises(AccountError, match=reason):
            await invite_to_sign_in(c.people[name]["id"], [], c.alice, mailer(outbox))
    with pytest.raises(AccountError, match="over a network or a site, and Acme Pharma"):
        await invite_to_sign_in(
            c.people["carol"]["id"], [(GrantRole.site_user, c.acme)], c.alice, mailer(outbox)
        )
    assert await Account.count() == 1  # alice's
    assert not (tmp_path / "outbox").exists()


class RefusingServer:
    description = "smtp://mail.example.org:587"

    async def deliver(self, message: EmailMessage, recipient: str) -> bool:
        raise DeliveryError(f"{recipient}: 550 no such mailbox")


async def test_an_invitation_that_cannot_be_mailed_keeps_its_link(db: Engine) -> None:
    c = await cast()
    invited = await invite_to_sign_in(c.people["dave"]["id"], [], c.alice, mailer(RefusingServer()))
    assert not invited.mailed
    assert invited.problem == "dave@example.org: 550 no such mailbox"
    token = invited.link.rsplit("/", 1)[1]
    assert await use_link(token, LinkPurpose.sign_in, NOW) == invited.account_id


async def test_links_people_ask_for_still_last_thirty_minutes(db: Engine) -> None:
    c = await cast()
    token = await new_link(c.alice_account, LinkPurpose.sign_in, NOW)
    assert await use_link(token, LinkPurpose.sign_in, NOW + dt.timedelta(minutes=31)) is None
    assert lifetime_parts(dt.timedelta(minutes=30)) == (30, "minute")
    assert lifetime_parts(dt.timedelta(days=1)) == (1, "day")
    assert lifetime_parts(dt.timedelta(hours=36)) == (36, "hour")


# grants


async def test_a_grant_must_fit_its_organisation(db: Engine) -> None:
    c = await cast()
    bob = await create_account(c.people["bob"]["email"], [], NOW)
    refused = [
        (GrantRole.site_user, c.acme, "a site user's grant is over a network or a site"),
        (GrantRole.sponsor_user, c.st_marys, "a sponsor user's grant is over a cro or a sponsor"),
        (GrantRole.administrator, c.acme, "over every organisation, not one"),
        (GrantRole.relationship_manager, None, "needs an organisation"),
        (GrantRole.sponsor_user, 999_999, "there is no organisation 999999"),
    ]
    for role, organisation_id, message in refused:
        with pytest.raises(AccountError, match=message):
            await give_grant(bob, role, organisation_id, c.alice)
    fitting = [
        (GrantRole.sponsor_user, c.acme),
        (GrantRole.sponsor_user, c.northwind),
        (GrantRole.site_user, c.network),
        (GrantRole.relationship_manager, c.st_marys),
        (GrantRole.administrator, None),
    ]
    ids = [await give_grant(bob, role, org, c.alice) for role, org in fitting]
    rows = await AccessGrant.select().where(AccessGrant.account == bob).order_by(AccessGrant.id)
    assert [(r["id"], GrantRole(r["role"]), r["organisation"]) for r in rows] == [
        (i, role, org) for i, (role, org) in zip(ids, fitting, strict=True)
    ]
    assert await audit_actions() == ["grant.give"] * len(fitting)
    with pytest.raises(AccountError, match="holds this grant already"):
        await give_grant(bob, GrantRole.sponsor_user, c.acme, c.alice)


async def test_a_grant_taken_away_is_gone_and_logged(db: Engine) -> None:
    c = await cast()
    bob = await create_account(c.people["bob"]["email"], [(GrantRole.sponsor_user, c.acme)], NOW)
    grant = await grant_id_for(bob, GrantRole.sponsor_user, c.acme)
    await take_grant(grant, c.alice)
    assert not await AccessGrant.exists().where(AccessGrant.account == bob)
    (entry,) = await AuditEntry.select()
    assert (entry["action"], entry["record_id"], entry["person"]) == (
        "grant.take",
        str(bob),
        c.people["alice"]["id"],
    )
    assert json.loads(entry["detail"]) == {"role": "sponsor_user", "organisation": c.acme}
    with pytest.raises(AccountError, match=f"there is no grant {grant}"):
        await take_grant(grant, c.alice)


async def test_the_last_active_administrator_keeps_their_grant(db: Engine) -> None:
    c = await cast()
    alices = await grant_id_for(c.alice_account, GrantRole.administrator, None)
    with pytest.raises(AccountError, match="last active administrator"):
        await take_grant(alices, c.alice)
    # an administrator who cannot sign in does not count
    frank = await create_account(c.people["frank"]["email"], [(GrantRole.administrator, None)], NOW)
    with pytest.raises(AccountError, match="last active administrator"):
        await take_grant(alices, c.alice)
    bob = await create_account(c.people["bob"]["email"], [(GrantRole.administrator, None)], NOW)
    await take_grant(alices, c.alice)
    with pytest.raises(AccountError, match="last active administrator"):
        await take_grant(await grant_id_for(bob, GrantRole.administrator, None), c.alice)
    # taking an inactive administrator's grant leaves the active ones as they were
    await take_grant(await grant_id_for(frank, GrantRole.administrator, None), c.alice)
    assert await audit_actions() == ["grant.take", "grant.take"]


# deactivating


async def test_deactivating_ends_sessions_and_spends_links(db: Engine) -> None:
    c = await cast()
    bob = await create_account(c.people["bob"]["email"], [(GrantRole.sponsor_user, c.acme)], NOW)
    session = await start_session(bob, NOW)
    link = await new_link(bob, LinkPurpose.sign_in, NOW)
    token = await new_api_token(bob, "Power BI", NOW)
    assert await set_account_active(bob, False, c.alice)
    assert await session_account(session, NOW) is None
    assert await token_account(token, NOW) is None
    assert not await set_account_active(bob, False, c.alice)  # nothing changed: nothing logged
    assert await set_account_active(bob, True, c.alice)
    assert await use_link(link, LinkPurpose.sign_in, NOW) is None  # spent, not merely paused
    assert await session_account(session, NOW) is None
    assert await token_account(token, NOW) is not None  # the owner's tokens work again
    assert await audit_actions() == ["token.new", "account.deactivate", "account.reactivate"]


async def test_nobody_deactivates_themselves_or_the_last_administrator(db: Engine) -> None:
    c = await cast()
    with pytest.raises(AccountError, match="your own account"):
        await set_account_active(c.alice_account, False, c.alice)
    with pytest.raises(AccountError, match="last active administrator"):
        await set_account_active(c.alice_account, False, Act("cli:root", NOW))
    bob = await create_account(c.people["bob"]["email"], [(GrantRole.administrator, None)], NOW)
    await set_account_active(c.alice_account, False, Act("cli:root", NOW))
    with pytest.raises(AccountError, match="last active administrator"):
        await set_account_active(bob, False, Act("cli:root", NOW))
    assert await audit_actions() == ["account.deactivate"]


async def test_an_account_of_someone_deactivated_stays_off(db: Engine) -> None:
    c = await cast()
    frank = await create_account(c.people["frank"]["email"], [], NOW)
    await Account.update({Account.active: False}).where(Account.id == frank)
    with pytest.raises(AccountError, match="Frank is deactivated in the directory"):
        await set_account_active(frank, True, c.alice)


# tokens


async def test_an_administrator_revokes_anyones_token(db: Engine) -> None:
    c = await cast()
    bob = await create_account(c.people["bob"]["email"], [], NOW)
    token = await new_api_token(bob, "Tableau", NOW, "bob@example.org")
    detail = await account_detail(bob)
    token_id = detail.tokens[0].id
    await revoke_any_token(token_id, c.alice)
    assert await token_account(token, NOW) is None
    entry = await AuditEntry.select().where(AuditEntry.action == "token.revoke").first()
    assert (entry["record_id"], entry["person"]) == (str(token_id), c.people["alice"]["id"])
    with pytest.raises(AccountError, match=f"no live API token {token_id}"):
        await revoke_any_token(token_id, c.alice)
    with pytest.raises(AccountError, match="no live API token 424242"):
        await revoke_any_token(424242, c.alice)


# reading


async def test_the_accounts_list_is_counted_and_cut_into_pages(db: Engine) -> None:
    c = await cast()
    for name in ("bob", "carol", "dave"):
        await create_account(c.people[name]["email"], [], NOW)
    for n in range(4):
        extra = await person(f"zed{n}", c.northwind, "cra")
        await create_account(extra["email"], [(GrantRole.sponsor_user, c.northwind)], NOW)
    first = await accounts_page("", None, None, 1, 3)
    assert (first.total, first.pages, len(first.items)) == (8, 3, 3)
    assert [r.name for r in first.items] == ["Alice", "Bob", "Carol"]
    last = await accounts_page("", None, None, 3, 3)
    assert [r.name for r in last.items] == ["Zed2", "Zed3"]
    with pytest.raises(PastLastPageError):
        await accounts_page("", None, None, 4, 3)
    northwind = await accounts_page("NORTHWIND", None, None, 1, 10)
    assert northwind.total == 5  # by organisation name, in any case
    by_email = await accounts_page("carol@", None, None, 1, 10)
    assert [r.email for r in by_email.items] == ["carol@example.org"]
    sponsors = await accounts_page("", GrantRole.sponsor_user, None, 1, 2)
    assert sponsors.total == 4 and len(sponsors.items) == 2
    bob = await account_id_for("bob@example.org")
    await set_account_active(bob, False, c.alice)
    assert [r.name for r in (await accounts_page("", None, False, 1, 10)).items] == ["Bob"]
    assert (await accounts_page("", None, True, 1, 10)).total == 7


async def test_an_account_row_holds_its_grants_tokens_and_last_sign_in(db: Engine) -> None:
    c = await cast()
    bob = await create_account(
        c.people["bob"]["email"],
        [(GrantRole.sponsor_user, c.acme), (GrantRole.relationship_manager, c.st_marys)],
        NOW,
    )
    kept = await new_api_token(bob, "Power BI", NOW)
    gone = await new_api_token(bob, "Old script", NOW)
    detail = await account_detail(bob)
    await revoke_any_token(next(t.id for t in detail.tokens if t.name == "Old script"), c.alice)
    link = await new_link(bob, LinkPurpose.sign_in, NOW)
    later = NOW + dt.timedelta(minutes=5)
    assert await use_link(link, LinkPurpose.sign_in, later) == bob
    (row,) = (await accounts_page("bob", None, None, 1, 10)).items
    assert (row.name, row.email, row.organisation, row.active) == (
        "Bob",
        "bob@example.org",
        "Acme Pharma",
        True,
    )
    assert row.last_signed_in_at == later
    assert row.live_tokens == 1
    assert {(g.role, g.organisation) for g in row.grants} == {
        (GrantRole.sponsor_user, "Acme Pharma"),
        (GrantRole.relationship_manager, "St Mary's Hospital"),
    }
    detail = await account_detail(bob)
    assert [t.name for t in detail.tokens] == ["Old script", "Power BI"]  # newest first
    assert [t.revoked_at is not None for t in detail.tokens] == [True, False]
    assert all(t.prefix.startswith("rpt_") and t.prefix in (kept + gone) for t in detail.tokens)
    assert detail.person_active and detail.created_at == NOW
    with pytest.raises(AccountError, match="there is no account 999"):
        await account_detail(999)
