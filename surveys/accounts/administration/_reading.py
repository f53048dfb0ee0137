"""Reading accounts for administrators: the list of accounts, cut into pages by the
database, one account in detail, and the records people name by e-mail or short name."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from piccolo.custom_types import Combinable
from piccolo.query import Select

from surveys.accounts.credentials import AccessGrant, Account, AccountError, ApiToken, GrantRole
from surveys.directory.organisations import Organisation, Person
from surveys.directory.rules import normal_email
from surveys.infra.database import contains
from surveys.infra.i18n import N_
from surveys.infra.pagination import Page, page_bounds


async def person_id_for(email: str) -> int:
    """The id of the person with this e-mail, or AccountError."""
    address = normal_email(email)
    row = await Person.select(Person.id).where(Person.email == address)
    if not row:
        raise AccountError(N_("no person in the directory has the e-mail %(email)s"), email=address)
    return int(row[0]["id"])


async def account_id_for(email: str) -> int:
    """The id of the account of the person with this e-mail, or AccountError."""
    address = normal_email(email)
    row = await Account.select(Account.id).where(Account.person._.email == address)
    if not row:
        raise AccountError(N_("%(email)s has no account: invite them first"), email=address)
    return int(row[0]["id"])


async def organisation_id_for(slug: str) -> int:
    """The id of the organisation with this short name (slug), or AccountError."""
    row = await Organisation.select(Organisation.id).where(Organisation.slug == slug.strip())
    if not row:
        raise AccountError(N_("no organisation has the short name %(slug)r"), slug=slug.strip())
    return int(row[0]["id"])


async def grant_id_for(account_id: int, role: GrantRole, organisation_id: int | None) -> int:
    """The id of an account's grant of this role over this organisation, or AccountError."""
    over = (
        AccessGrant.organisation.is_null()
        if organisation_id is None
        else AccessGrant.organisation == organisation_id
    )
    row = await AccessGrant.select(AccessGrant.id).where(
        (AccessGrant.account == account_id) & (AccessGrant.role == role.value) & over
    )
    if not row:
        raise AccountError(N_("the account holds no such grant"))
    return int(row[0]["id"])


@dataclass(frozen=True)
class GrantRow:
    """One grant of an account."""

    id: int
    role: GrantRole
    organisation_id: int | None
    organisation: str | None
    """The organisation's name; None for an administrator's grant."""


@dataclass(frozen=True)
class AccountRow:
    """One account in the administrators' list."""

    account_id: int
    person_id: int
    name: str
    email: str
    organisation: str
    """The name of the person's organisation."""
    active: bool
    """The account may sign in (its person may still be deactivated in the directory)."""
    last_signed_in_at: dt.datetime | None
    grants: tuple[GrantRow, ...]
    live_tokens: int
    """Personal API tokens not revoked."""


@dataclass(frozen=True)
class TokenRow:
    """One personal API token, as its prefix and dates show it (never the token)."""

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class AccountDetail:
    """One account with everything an administrator may change about it."""

    account: AccountRow
    created_at: dt.datetime
    person_active: bool
    """Whether the person is active in the directory (an inactive one cannot sign in)."""
    tokens: tuple[TokenRow, ...]
    """Newest first, revoked ones too."""


async def accounts_page(
    search: str, role: GrantRole | None, active: bool | None, number: int, per_page: int
) -> Page[AccountRow]:
    """Page `number` of the accounts, by name: those whose person's name, e-mail or
    organisation holds `search` (in any case), holding `role`, active or not.

    Counted and cut by the database. A `%` or `_` in the search is a LIKE wildcard: it
    can only widen what is found.
    """
    where: Combinable = Account.id.is_not_null()
    if search.strip():
        where &= (
            contains(Account.person._.name, search)
            | contains(Account.person._.email, search)
            | contains(Account.person._.organisation._.name, search)
        )
    if role is not None:
        holders = AccessGrant.select(AccessGrant.account).where(AccessGrant.role == role.value)
        where &= Account.id.is_in(holders)
    if active is not None:
        where &= Account.active.eq(active)
    total = await Account.count().where(where)
    offset, limit = page_bounds(total, number, per_page)
    rows = (
        await _account_select()
        .where(where)
        .order_by(Account.person._.name, Account.id)
        .offset(offset)
        .limit(limit)
    )
    return Page(tuple(await _account_rows(rows)), number, per_page, total)


async def account_detail(account_id: int) -> AccountDetail:
    """One account: its person, grants, tokens and last sign-in; AccountError if unknown."""
    more = (Account.created_at, Account.person._.active.as_alias("person_active"))
    rows = await _account_select(*more).where(Account.id == account_id)
    if not rows:
        raise AccountError(N_("there is no account %(id)s"), id=str(account_id))
    tokens = await ApiToken.select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.prefix,
        ApiToken.created_at,
        ApiToken.last_used_at,
        ApiToken.revoked_at,
    ).where(ApiToken.account == account_id)
    return AccountDetail(
        account=(await _account_rows(rows))[0],
        created_at=rows[0]["created_at"],
        person_active=bool(rows[0]["person_active"]),
        tokens=tuple(TokenRow(**t) for t in sorted(tokens, key=lambda t: t["id"], reverse=True)),
    )


def _account_select(*more: Any) -> Select[Any]:
    """The columns of an account row, and any `more` asked for."""
    return Account.select(
        Account.id,
        Account.active,
        Account.last_signed_in_at,
        Account.person._.id.as_alias("person_id"),
        Account.person._.name.as_alias("name"),
        Account.person._.email.as_alias("email"),
        Account.person._.organisation._.name.as_alias("organisation"),
        *more,
    )


async def _account_rows(rows: list[dict[str, Any]]) -> list[AccountRow]:
    """Account rows with their grants and live tokens, read in one query each."""
    ids = [int(r["id"]) for r in rows] or [0]
    grants: dict[int, list[GrantRow]] = {}
    for g in await AccessGrant.select(
        AccessGrant.id,
        AccessGrant.account,
        AccessGrant.role,
        AccessGrant.organisation,
        AccessGrant.organisation._.name.as_alias("organisation_name"),
    ).where(AccessGrant.account.is_in(ids)):
        grants.setdefault(int(g["account"]), []).append(
            GrantRow(g["id"], GrantRole(g["role"]), g["organisation"], g["organisation_name"])
        )
    tokens: dict[int, int] = {}
    for t in await ApiToken.select(ApiToken.account).where(
        ApiToken.account.is_in(ids) & ApiToken.revoked_at.is_null()
    ):
        tokens[int(t["account"])] = tokens.get(int(t["account"]), 0) + 1
    return [
        AccountRow(
            account_id=int(r["id"]),
            person_id=int(r["person_id"]),
            name=r["name"],
            email=r["email"],
            organisation=r["organisation"],
            active=bool(r["active"]),
            last_signed_in_at=r["last_signed_in_at"],
            grants=tuple(
                sorted(grants.get(int(r["id"]), []), key=lambda g: (g.role, g.organisation or ""))
            ),
            live_tokens=tokens.get(int(r["id"]), 0),
        )
        for r in rows
    ]
