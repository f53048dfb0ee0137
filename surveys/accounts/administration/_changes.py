"""Giving, changing and taking away accounts, each change and its audit entry in one
transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from surveys.accounts.administration._reading import grant_id_for
from surveys.accounts.credentials import (
    INVITATION_DAYS,
    AccessGrant,
    Account,
    AccountError,
    ApiToken,
    GrantRole,
    LinkPurpose,
    SignInLink,
    WebSession,
    account_for_person,
    add_grants,
    new_link,
    revoke_api_token,
)
from surveys.accounts.sign_in_mail import send_sign_in_link, sign_in_address
from surveys.directory.audit import Act, record
from surveys.directory.editing import (
    DirectoryEditError,
    OrganisationFields,
    PersonFields,
    create_organisation,
    create_person,
)
from surveys.directory.organisations import Organisation, OrgKind, Person, Role
from surveys.directory.rules import normal_email
from surveys.infra.database import contains, lock_row, writing_transaction
from surveys.infra.i18n import N_
from surveys.infra.mail import DeliveryError, Mailer

ROLE_KINDS: dict[GrantRole, frozenset[OrgKind]] = {
    GrantRole.site_user: frozenset({OrgKind.site, OrgKind.network}),
    GrantRole.sponsor_user: frozenset({OrgKind.sponsor, OrgKind.cro}),
    GrantRole.relationship_manager: frozenset(OrgKind),
    GrantRole.administrator: frozenset(),
}
"""The kinds of organisation each role's grant may be over (an administrator's, none)."""
ADMINISTRATOR_ROLE = Role.executive
"""The directory role of a person created to be an administrator: not a site role, so
they are never invited to rate a sponsor."""
_NEEDS_AN_ORGANISATION = {
    GrantRole.site_user: N_("a site user's grant needs an organisation"),
    GrantRole.sponsor_user: N_("a sponsor user's grant needs an organisation"),
    GrantRole.relationship_manager: N_("a relationship manager's grant needs an organisation"),
}
"""Why a grant without an organisation is refused, for each role that needs one."""
_OVER_ANOTHER_KIND = {
    (GrantRole.site_user, OrgKind.sponsor): N_(
        "a site user's grant is over a network or a site, and %(name)s is a sponsor"
    ),
    (GrantRole.site_user, OrgKind.cro): N_(
        "a site user's grant is over a network or a site, and %(name)s is a cro"
    ),
    (GrantRole.sponsor_user, OrgKind.site): N_(
        "a sponsor user's grant is over a cro or a sponsor, and %(name)s is a site"
    ),
    (GrantRole.sponsor_user, OrgKind.network): N_(
        "a sponsor user's grant is over a cro or a sponsor, and %(name)s is a network"
    ),
}
"""Why a grant over an organisation of a kind its role does not cover is refused (one
message for each role and kind, so that each reads whole in every language)."""


@dataclass(frozen=True)
class FirstAdministrator:
    """What `create_first_administrator` made, so the command can say so."""

    person_id: int
    account_id: int
    organisation: str
    """The name of the person's organisation."""
    made_organisation: bool
    """The organisation was created now (it was not in the directory)."""
    made_person: bool
    """The person was created now (else an existing person was made an administrator)."""
    made_grant: bool
    """False when the person was an administrator already."""


@dataclass(frozen=True)
class SignInInvitation:
    """An invitation sent (or not) to sign in."""

    account_id: int
    link: str
    """The one-time sign-in address (for a command to print when no mail server is set)."""
    expires_at: dt.datetime
    mailed: bool
    """Whether the delivery took the e-mail."""
    delivery: str
    """Where the e-mail went: the mail server, or the outbox folder."""
    problem: str | None = None
    """Why the e-mail could not be delivered, when it could not."""


async def create_first_administrator(
    email: str,
    name: str,
    organisation: str | None,
    kind: OrgKind,
    act: Act,
) -> FirstAdministrator:
    """Make the person with this e-mail an administrator, creating them (and their
    organisation, found by slug or name) when the directory does not hold them yet.

    This is how a deployment gets its first administrator, on an empty database or on one
    whose administrators have all left.
    """
    address = normal_email(email)
    async with writing_transaction(Account._meta.db):
        person = await Person.select(
            Person.id, Person.active, Person.erased_at, Person.organisation._.name.as_alias("org")
        ).where(Person.email == address)
        made_organisation = made_person = False
        if person:
            _check_may_sign_in(person[0]["active"], person[0]["erased_at"], address)
            person_id, organisation_name = int(person[0]["id"]), str(person[0]["org"])
        else:
            org_id, organisation_name, made_organisation = await _organisation_for(
                organisation, kind, act
            )
            person_id = await _new_person(name, address, org_id, act)
            made_person = True
        account_id = await _account_of(person_id, act)
        await _refuse_inactive(account_id, address)
        made_grant = await _give(account_id, [(GrantRole.administrator, None)], act)
    return FirstAdministrator(
        person_id, account_id, organisation_name, made_organisation, made_person, bool(made_grant)
    )


async def invite_to_sign_in(
    person_id: int,
    grants: list[tuple[GrantRole, int | None]],
    act: Act,
    mailer: Mailer,
) -> SignInInvitation:
    """Give a person an account (without a password) and grants, and e-mail them a sign-in
    link that works INVITATION_DAYS.

    The account and its link are kept even when the e-mail cannot be delivered: the
    answer says so, and holds the link to pass on another way.
    """
    for role, organisation in grants:
        await check_grant(role, organisation)
    lifetime = dt.timedelta(days=INVITATION_DAYS)
    async with writing_transaction(Account._meta.db):
        person = await Person.select(
            Person.id, Person.name, Person.email, Person.active, Person.erased_at
        ).where(Person.id == person_id)
        if not person:
            raise AccountError(N_("there is no person %(id)s"), id=str(person_id))
        _check_may_sign_in(person[0]["active"], person[0]["erased_at"], str(person[0]["name"]))
        account_id = await _account_of(person_id, act)
        await _refuse_inactive(account_id, str(person[0]["name"]))
        await _give(account_id, grants, act)
        token = await new_link(account_id, LinkPurpose.sign_in, act.at, lifetime)
        expires = act.at + lifetime
        await _audit(act, "account.invite", account_id, {"expires_at": expires.isoformat()})
    # sent once the transaction is over: a slow mail server must not hold the database
    name, address = str(person[0]["name"]), str(person[0]["email"])
    inviter = await _inviter(act)
    problem = None
    try:
        await send_sign_in_link(
            mailer, name, address, LinkPurpose.sign_in, token, act.at, lifetime, inviter
        )
    except DeliveryError as error:
        problem = str(error)
    link = sign_in_address(mailer.public_url, LinkPurpose.sign_in, token)
    return SignInInvitation(
        account_id, link, expires, problem is None, mailer.delivery.description, problem
    )


async def check_grant(role: GrantRole, organisation_id: int | None) -> None:
    """Refuse a grant whose role does not fit its organisation's kind (a site user's grant
    over a sponsor, say: policy would ignore it, and the grant would mislead)."""
    allowed = ROLE_KINDS[role]
    if not allowed:
        if organisation_id is not None:
            raise AccountError(N_("an administrator's grant is over every organisation, not one"))
        return
    if organisation_id is None:
        raise AccountError(_NEEDS_AN_ORGANISATION[role])
    row = await Organisation.select(Organisation.name, Organisation.kind).where(
        Organisation.id == organisation_id
    )
    if not row:
        raise AccountError(N_("there is no organisation %(id)s"), id=str(organisation_id))
    kind = OrgKind(row[0]["kind"])
    if kind not in allowed:
        raise AccountError(_OVER_ANOTHER_KIND[role, kind], name=row[0]["name"])


async def give_grant(
    account_id: int, role: GrantRole, organisation_id: int | None, act: Act
) -> int:
    """Give an account one more grant; return the grant's id."""
    await check_grant(role, organisation_id)
    async with writing_transaction(Account._meta.db):
        await _account_row(account_id)
        if not await _give(account_id, [(role, organisation_id)], act):
            raise AccountError(N_("the account holds this grant already"))
        return await grant_id_for(account_id, role, organisation_id)


async def take_grant(grant_id: int, act: Act) -> None:
    """Take a grant away; never the last grant that keeps an active administrator."""
    async with writing_transaction(Account._meta.db):
        grant = await AccessGrant.select(
            AccessGrant.account, AccessGrant.role, AccessGrant.organisation
        ).where(AccessGrant.id == grant_id)
        if not grant:
            raise AccountError(N_("there is no grant %(id)s"), id=str(grant_id))
        account_id = int(grant[0]["account"])
        if grant[0]["role"] == GrantRole.administrator.value:
            await _keep_an_administrator(account_id, without_grant=grant_id)
        await AccessGrant.delete().where(AccessGrant.id == grant_id)
        detail = {"role": grant[0]["role"], "organisation": grant[0]["organisation"]}
        await _audit(act, "grant.take", account_id, detail)


async def set_account_active(account_id: int, active: bool, act: Act) -> bool:
    """Deactivate an account (ending its sessions and spending its unused links) or
    reactivate it; return whether anything changed.

    Nobody deactivates their own account (they would lock themselves out mid-task), nor
    the last active administrator's.
    """
    async with writing_transaction(Account._meta.db):
        row = await _account_row(account_id)
        if row["active"] == active:
            return False
        if active:
            _check_may_sign_in(row["person_active"], row["erased_at"], str(row["name"]))
        else:
            if act.person_id is not None and row["person"] == act.person_id:
                raise AccountError(N_("you cannot deactivate your own account"))
            await _keep_an_administrator(account_id)
        await Account.update({Account.active: active}).where(Account.id == account_id)
        if not active:
            await _end_access(account_id, act.at)
        await _audit(act, "account.reactivate" if active else "account.deactivate", account_id)
    return True


async def revoke_any_token(token_id: int, act: Act) -> None:
    """Revoke anyone's personal API token (an administrator's power: a leaked token need
    not wait for its owner)."""
    token = await ApiToken.select(ApiToken.account).where(ApiToken.id == token_id)
    revoked = bool(token) and await revoke_api_token(
        int(token[0]["account"]), token_id, act.at, act.actor, act.person_id
    )
    if not revoked:
        raise AccountError(N_("there is no live API token %(id)s"), id=str(token_id))


# --- the steps the changes share ---------------------------------------------------------


async def _audit(
    act: Act, action: str, account_id: int, detail: dict[str, Any] | None = None
) -> None:
    await record(act.actor, action, "account", account_id, detail or {}, act.person_id)


def _check_may_sign_in(active: object, erased_at: object, who: str) -> None:
    """Refuse an account for someone erased or deactivated in the directory."""
    if erased_at is not None:
        raise AccountError(N_("this person's data was erased: they cannot be given an account"))
    if not active:
        raise AccountError(
            N_("%(who)s is deactivated in the directory: reactivate them first"), who=who
        )


async def _account_row(account_id: int) -> dict[str, Any]:
    """The account, its person's id, name and state; AccountError if there is none."""
    row = await Account.select(
        Account.id,
        Account.active,
        Account.person,
        Account.person._.name.as_alias("name"),
        Account.person._.active.as_alias("person_active"),
        Account.person._.erased_at.as_alias("erased_at"),
    ).where(Account.id == account_id)
    if not row:
        raise AccountError(N_("there is no account %(id)s"), id=str(account_id))
    return dict(row[0])


async def _account_of(person_id: int, act: Act) -> int:
    """The person's account, made (and audited) if they had none."""
    account_id, made = await account_for_person(person_id, act.at)
    if made:
        await _audit(act, "account.create", account_id, {"person": person_id})
    return account_id


async def _refuse_inactive(account_id: int, who: str) -> None:
    active = await Account.exists().where((Account.id == account_id) & Account.active.eq(True))
    if not active:
        raise AccountError(N_("%(who)s's account is deactivated: reactivate it first"), who=who)


async def _give(account_id: int, grants: list[tuple[GrantRole, int | None]], act: Act) -> int:
    """Add grants the account lacks, one audit entry each; return how many were added."""
    added = await add_grants(account_id, grants)
    for role, organisation in added:
        detail = {"role": role.value, "organisation": organisation}
        await _audit(act, "grant.give", account_id, detail)
    return len(added)


async def _keep_an_administrator(account_id: int, without_grant: int | None = None) -> None:
    """Refuse taking away an administrator grant (`without_grant`), or the whole account,
    when that would leave no active administrator.

    On PostgreSQL the administrators' grants stay locked until the transaction ends, so two
    administrators cannot each remove the other at the same moment.
    """
    for grant in sorted(await _administrator_grants(), key=lambda g: int(g["id"])):
        await lock_row(AccessGrant, int(grant["id"]))
    grants = await _administrator_grants()  # read again: what others changed is committed
    before = {int(g["account"]) for g in grants}
    after = {
        int(g["account"])
        for g in grants
        if (g["id"] != without_grant if without_grant is not None else g["account"] != account_id)
    }
    if account_id in before and not after:
        raise AccountError(
            N_("this is the last active administrator: make someone else an administrator first")
        )


async def _administrator_grants() -> list[dict[str, Any]]:
    """The administrator grants of accounts that may sign in: their ids and accounts."""
    return list(
        await AccessGrant.select(AccessGrant.id, AccessGrant.account).where(
            (AccessGrant.role == GrantRole.administrator.value)
            & AccessGrant.account._.active.eq(True)
            & AccessGrant.account._.person._.active.eq(True)
            & AccessGrant.account._.person._.erased_at.is_null()
        )
    )


async def _end_access(account_id: int, at: dt.datetime) -> None:
    """End a deactivated account's sessions and spend its unused links."""
    await WebSession.delete().where(WebSession.account == account_id)
    await SignInLink.update({SignInLink.used_at: at}).where(
        (SignInLink.account == account_id) & SignInLink.used_at.is_null()
    )


async def _inviter(act: Act) -> str:
    """Who an invitation says it comes from: the signed-in person, else the administrator
    running a command."""
    if act.person_id is not None:
        row = await Person.select(Person.name).where(Person.id == act.person_id)
        if row:
            return str(row[0]["name"])
    return "Your Rapport administrator"


async def _organisation_for(given: str | None, kind: OrgKind, act: Act) -> tuple[int, str, bool]:
    """The organisation named by slug or (in any case) by name, made with `kind` if none
    has that name; its id, its name, and whether it was made now."""
    if given is None or not given.strip():
        if not await Organisation.exists():
            raise AccountError(
                "the database holds no organisation yet: pass --organisation with the name "
                "of the administrator's (it is made a sponsor unless --kind says otherwise)"
            )
        raise AccountError(
            "pass --organisation with the short name or the name of the new "
            "administrator's organisation"
        )
    text = given.strip()
    candidates = await Organisation.select(
        Organisation.id, Organisation.name, Organisation.slug, Organisation.kind
    ).where((Organisation.slug == text) | contains(Organisation.name, text))
    matches = [o for o in candidates if o["slug"] == text] or [
        o for o in candidates if str(o["name"]).casefold() == text.casefold()
    ]
    if len(matches) > 1:
        slugs = ", ".join(sorted(str(o["slug"]) for o in matches))
        raise AccountError(f"several organisations are called {text!r}: give one of {slugs}")
    found_kind = OrgKind(matches[0]["kind"]) if matches else kind
    if found_kind == OrgKind.network:
        raise AccountError(
            "people work at a site, sponsor or CRO, not at a network: "
            "name the administrator's own organisation"
        )
    if matches:
        return int(matches[0]["id"]), str(matches[0]["name"]), False
    return await _new_organisation(text, kind, act), text, True


async def _new_organisation(name: str, kind: OrgKind, act: Act) -> int:
    """Add the first administrator's organisation, as the directory adds any."""
    try:
        return await create_organisation(OrganisationFields(name=name, kind=kind), act)
    except DirectoryEditError as error:
        raise AccountError(f"{error}: pass --organisation with its short name to use it") from None


async def _new_person(name: str, email: str, organisation_id: int, act: Act) -> int:
    """Add the first administrator to the directory, as the directory adds anyone."""
    if not name.strip():
        raise AccountError("give the new administrator's name with --name")
    fields = PersonFields(name, email, ADMINISTRATOR_ROLE, organisation_id)
    try:
        return await create_person(fields, act)
    except DirectoryEditError as error:
        raise AccountError(str(error)) from None
