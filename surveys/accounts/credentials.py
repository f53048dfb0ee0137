"""Accounts of the people who review results: passwords, grants, sessions, one-time links.

Respondents need no account (their survey link is their key). Reviewers sign in with an
e-mail and a password (argon2id, through argon2-cffi), or with a one-time link sent to
their address. A session lives on the server: the browser holds a random 256-bit id,
the database only its hash, and signing in always starts a new one. What a signed-in
person may see is decided in one place, `surveys.accounts.policy`, from their grants here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, partial
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from piccolo.columns import Boolean, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.constraints import Check, Unique
from piccolo.table import Table

from surveys.directory.audit import Act, record
from surveys.directory.organisations import Organisation, Person
from surveys.infra.database import writing_transaction
from surveys.infra.errors import RapportError
from surveys.infra.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, choose_language, supported
from surveys.infra.tokens import token_hash

SESSION_HOURS = 12
"""A session ends after a working day, signed out or not."""
LINK_MINUTES = 30
"""A password-reset or sign-in link someone asked for works this long, once."""
INVITATION_DAYS = 7
"""An invitation to a new account is a sign-in link that works this long, once: long
enough to come back from a week away, short enough not to lie in an inbox for good."""
MIN_PASSWORD = 12
"""Characters a password needs (length is what makes a password hard to guess)."""
HASHING_AT_ONCE = 2
"""Passwords hashed or checked at once by one server process. An argon2id run takes a
core for a tenth of a second or more and 64 MiB: run in the event loop, a dozen failed
sign-ins stalled every other request for two seconds. They run in these threads instead
(argon2-cffi releases the GIL), and a burst beyond them waits its turn rather than
taking every core and the memory with it."""
_hasher = PasswordHasher()
_hashing = ThreadPoolExecutor(HASHING_AT_ONCE, thread_name_prefix="argon2")
T = TypeVar("T")


async def _off_the_loop(work: Callable[[], T]) -> T:
    """Run argon2 `work` in a hashing thread: every hash and check goes through here."""
    return await asyncio.get_running_loop().run_in_executor(_hashing, work)


@cache
def _unusable() -> str:
    """Checked against when no account matches, so a wrong e-mail takes as long as a wrong
    password; made at first use, since hashing takes a noticeable moment at start-up."""
    return _hasher.hash(secrets.token_urlsafe(32))


def _matches(stored: str | None, password: str) -> bool:
    """Whether `password` is the one `stored` hashes (in a hashing thread). With nothing
    stored it is checked against `_unusable()`, so that it takes just as long."""
    try:
        _hasher.verify(stored or _unusable(), password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


class GrantRole(StrEnum):
    """What a grant lets its holder do, and over which organisation."""

    site_user = "site_user"
    """A site's (or a network's) own results."""
    sponsor_user = "sponsor_user"
    """A sponsor's (or a CRO's) portfolio."""
    relationship_manager = "relationship_manager"
    """Trends, comparisons and tier review for an organisation they manage."""
    administrator = "administrator"
    """Everything; held without an organisation."""


class AccountError(RapportError, ValueError):
    """An account cannot be made or changed as asked; the message says why."""


class Account(Table):
    """A person who may sign in."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    person = ForeignKey(Person, on_delete=OnDelete.cascade, null=False, unique=True)
    password_hash = Varchar(length=200, null=True, default=None)
    """argon2id; null for someone who signs in by e-mailed links only."""
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_signed_in_at = Timestamptz(null=True, default=None)
    language = Varchar(length=8, null=True, default=None)
    """The language the person chose for the pages they read; None follows their
    directory record (Person.language)."""


class AccessGrant(Table):
    """One role an account holds, over one organisation (none for administrators)."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    account = ForeignKey(Account, on_delete=OnDelete.cascade, null=False, index=True)
    role = Varchar(length=24, choices=GrantRole)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, null=True, index=True)

    access_grant_once = Unique(["account", "role", "organisation"])
    access_grant_role_is_known = Check(
        "role IN ('site_user', 'sponsor_user', 'relationship_manager', 'administrator')"
    )
    access_grant_organisation_unless_administrator = Check(
        "(role = 'administrator') = (organisation IS NULL)"
    )


class WebSession(Table):
    """A signed-in browser: the hash of its cookie's id, and until when it holds."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    id_hash = Varchar(length=64, unique=True)
    account = ForeignKey(Account, on_delete=OnDelete.cascade, null=False, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()


class LinkPurpose(StrEnum):
    reset = "reset"
    sign_in = "sign_in"


class SignInLink(Table):
    """A one-time link sent by e-mail: to set a new password, or to sign in without one."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(Account, on_delete=OnDelete.cascade, null=False, index=True)
    purpose = Varchar(length=8, choices=LinkPurpose)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)

    sign_in_link_purpose_is_known = Check("purpose IN ('reset', 'sign_in')")


class ApiToken(Table):
    """A personal token for BI tools: it reads what its owner may read, decided afresh at
    every request from the owner's grants, and it can be revoked. Only its hash is kept."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(Account, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=80)
    prefix = Varchar(length=12)
    """The token's first characters, so its owner can tell tokens apart."""
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


@dataclass(frozen=True)
class SignedIn:
    """Who a session belongs to."""

    account_id: int
    person_id: int
    name: str
    email: str
    language: str = DEFAULT_LANGUAGE
    """The language their pages and e-mails are in: their own choice, else their
    directory record's."""
    chosen_language: str | None = None
    """Their own choice on the account page (None: as in the directory)."""

    def acting(self, at: dt.datetime) -> Act:
        """This person doing something at `at`, as the audit log records it."""
        return Act(actor=self.email, at=at, person_id=self.person_id)


async def hash_password(password: str) -> str:
    """Return the argon2id hash of a password that is long enough, or raise AccountError."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(N_("a password needs at least %(n)s characters"), n=MIN_PASSWORD)
    return await _off_the_loop(partial(_hasher.hash, password))


async def account_for_password(email: str, password: str, now: dt.datetime) -> SignedIn | None:
    """Return the account whose e-mail and password these are, or None (never saying which failed).

    An unknown e-mail costs one password check, as a known one does. A hash made with
    older parameters is replaced by one with the current parameters.
    """
    row = await _account_row(email)
    stored = str(row["password_hash"]) if row and row["password_hash"] else None
    if not await _off_the_loop(partial(_matches, stored, password)) or row is None:
        return None
    if stored is not None and _hasher.check_needs_rehash(stored):
        rehashed = await hash_password(password)
        await Account.update({Account.password_hash: rehashed}).where(Account.id == row["id"])
    await Account.update({Account.last_signed_in_at: now}).where(Account.id == row["id"])
    return _signed_in(row)


async def account_for_email(email: str) -> SignedIn | None:
    """Return the active account with this e-mail, if any."""
    row = await _account_row(email)
    return _signed_in(row) if row else None


async def _account_row(email: str) -> dict[str, object] | None:
    row = (
        await Account.select(
            Account.id,
            Account.password_hash,
            Account.person._.id.as_alias("person_id"),
            Account.person._.name.as_alias("name"),
            Account.person._.email.as_alias("email"),
            Account.language.as_alias("chosen_language"),
            Account.person._.language.as_alias("directory_language"),
        )
        .where(
            (Account.person._.email == email.strip().lower())
            & Account.active.eq(True)
            & Account.person._.active.eq(True)
        )
        .first()
    )
    return dict(row) if row else None


def _signed_in(row: dict[str, object]) -> SignedIn:
    chosen = supported(str(row["chosen_language"])) if row["chosen_language"] else None
    return SignedIn(
        int(str(row["id"])),
        int(str(row["person_id"])),
        str(row["name"]),
        str(row["email"]),
        chosen or choose_language(str(row["directory_language"])),
        chosen,
    )


async def set_language(account_id: int, language: str | None) -> None:
    """Keep the language an account chose for its pages and e-mails (None: follow the
    directory record). A language the interface lacks is an AccountError."""
    if language is not None and supported(language) != language:
        raise AccountError(
            N_("no interface language %(language)r; languages: %(known)s"),
            language=language,
            known=", ".join(LANGUAGES),
        )
    await Account.update({Account.language: language}).where(Account.id == account_id)


async def start_session(account_id: int, now: dt.datetime) -> str:
    """Open a new session for an account; return the id for the cookie (stored only hashed)."""
    session_id = secrets.token_urlsafe(32)
    await WebSession.delete().where(WebSession.expires_at <= now)  # sessions long over
    await WebSession.insert(
        WebSession(
            id_hash=token_hash(session_id),
            account=account_id,
            created_at=now,
            expires_at=now + dt.timedelta(hours=SESSION_HOURS),
        )
    )
    return session_id


async def session_account(session_id: str, now: dt.datetime) -> SignedIn | None:
    """Return who holds a session, if it exists, has not expired and its account is active."""
    row = (
        await WebSession.select(
            WebSession.account._.id.as_alias("id"),
            WebSession.account._.person._.id.as_alias("person_id"),
            WebSession.account._.person._.name.as_alias("name"),
            WebSession.account._.person._.email.as_alias("email"),
            WebSession.account._.language.as_alias("chosen_language"),
            WebSession.account._.person._.language.as_alias("directory_language"),
        )
        .where(
            (WebSession.id_hash == token_hash(session_id))
            & (WebSession.expires_at > now)
            & WebSession.account._.active.eq(True)
            & WebSession.account._.person._.active.eq(True)
        )
        .first()
    )
    return _signed_in(dict(row)) if row else None


async def end_session(session_id: str) -> None:
    """Sign a session out (it cannot be used again)."""
    await WebSession.delete().where(WebSession.id_hash == token_hash(session_id))


async def new_link(
    account_id: int,
    purpose: LinkPurpose,
    now: dt.datetime,
    lifetime: dt.timedelta = dt.timedelta(minutes=LINK_MINUTES),
) -> str:
    """Issue a one-time link token for an account (stored only hashed), working `lifetime`."""
    token = secrets.token_urlsafe(32)
    await SignInLink.insert(
        SignInLink(
            token_hash=token_hash(token),
            account=account_id,
            purpose=purpose.value,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


async def use_link(token: str, purpose: LinkPurpose, now: dt.datetime) -> int | None:
    """Spend a one-time link: return its account if the link was valid, unused and unexpired,
    and the account and its person are still active.

    The link is marked used in the same statement that checks it, so two clicks on
    one link cannot both succeed.
    """
    used = (
        await SignInLink.update({SignInLink.used_at: now})
        .where(
            (SignInLink.token_hash == token_hash(token))
            & (SignInLink.purpose == purpose.value)
            & SignInLink.used_at.is_null()
            & (SignInLink.expires_at > now)
        )
        .returning(SignInLink.account)
    )
    if not used:
        return None
    account_id = int(used[0]["account"])
    active = await Account.exists().where(
        (Account.id == account_id) & Account.active.eq(True) & Account.person._.active.eq(True)
    )
    if not active:
        return None
    if purpose == LinkPurpose.sign_in:  # the administrators' list shows who signed in, and when
        await Account.update({Account.last_signed_in_at: now}).where(Account.id == account_id)
    return account_id


async def set_password(account_id: int, password: str) -> None:
    """Give an account a new password, sign out every session it had, spend its other links
    and revoke its API tokens: whoever held the old password may have made one."""
    hashed = await hash_password(password)
    now = dt.datetime.now(dt.UTC)
    await Account.update({Account.password_hash: hashed}).where(Account.id == account_id)
    await WebSession.delete().where(WebSession.account == account_id)
    await SignInLink.update({SignInLink.used_at: now}).where(
        (SignInLink.account == account_id) & SignInLink.used_at.is_null()
    )
    await ApiToken.update({ApiToken.revoked_at: now}).where(
        (ApiToken.account == account_id) & ApiToken.revoked_at.is_null()
    )


async def create_account(
    email: str,
    grants: list[tuple[GrantRole, int | None]],
    now: dt.datetime,
    password: str | None = None,
) -> int:
    """Give the person with this e-mail an account and grants; return the account's id."""
    person = await Person.select(Person.id).where(Person.email == email.strip().lower()).first()
    if person is None:
        raise AccountError(N_("no person has the e-mail %(email)s"), email=email)
    for role, organisation in grants:
        if (role == GrantRole.administrator) != (organisation is None):
            raise AccountError(N_("only an administrator's grant has no organisation"))
    hashed = await hash_password(password) if password is not None else None
    account_id, _ = await account_for_person(int(person["id"]), now)
    if hashed:
        await Account.update({Account.password_hash: hashed}).where(Account.id == account_id)
    await add_grants(account_id, grants)
    return account_id


async def account_for_person(person_id: int, now: dt.datetime) -> tuple[int, bool]:
    """The person's account id, made (without a password) if they had none; and whether
    it was made now."""
    existing = await Account.select(Account.id).where(Account.person == person_id).first()
    if existing:
        return int(existing["id"]), False
    created = await Account.insert(Account(person=person_id, password_hash=None, created_at=now))
    return int(created[0]["id"]), True


async def add_grants(
    account_id: int, grants: list[tuple[GrantRole, int | None]]
) -> list[tuple[GrantRole, int | None]]:
    """Give an account the grants it does not hold yet; return those it was given.

    Checked here rather than by the table's unique constraint, which lets two
    administrator grants through (their organisation is NULL, and NULLs differ).
    """
    held = {
        (g["role"], g["organisation"])
        for g in await AccessGrant.select(AccessGrant.role, AccessGrant.organisation).where(
            AccessGrant.account == account_id
        )
    }
    added: list[tuple[GrantRole, int | None]] = []
    for role, organisation in grants:
        if (role.value, organisation) not in held:
            await AccessGrant.insert(
                AccessGrant(account=account_id, role=role.value, organisation=organisation)
            )
            held.add((role.value, organisation))
            added.append((role, organisation))
    return added


TOKEN_PREFIX = "rpt_"  # noqa: S105  (a marker, not a secret)
"""Every personal API token starts so, which lets secret scanners recognise a leaked one."""
TOKEN_USE_NOTED = dt.timedelta(minutes=5)
"""How stale a token's "last used" may grow before a request writes it again."""


async def new_api_token(account_id: int, name: str, now: dt.datetime, actor: str = "") -> str:
    """Create a personal API token; return it, the one time it is ever shown."""
    name = name.strip()
    if not name:
        raise AccountError(N_("give the token a name, such as the tool that will use it"))
    if not name.isprintable():
        raise AccountError(N_("the token's name has a character that cannot be shown"))
    if len(name) > 80:
        raise AccountError(N_("keep the token's name under 80 characters"))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with writing_transaction(ApiToken._meta.db):
        made = await ApiToken.insert(
            ApiToken(
                token_hash=token_hash(token),
                account=account_id,
                name=name,
                prefix=token[: len(TOKEN_PREFIX) + 4],
                created_at=now,
            )
        )
        await record(actor, "token.new", "api_token", made[0]["id"], {"name": name})
    return token


async def token_account(token: str, now: dt.datetime) -> SignedIn | None:
    """Who a bearer token acts for: None if it is unknown, revoked, or its owner is inactive."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (
        await ApiToken.select(
            ApiToken.id.as_alias("token_id"),
            ApiToken.last_used_at,
            ApiToken.account._.id.as_alias("id"),
            ApiToken.account._.person._.id.as_alias("person_id"),
            ApiToken.account._.person._.name.as_alias("name"),
            ApiToken.account._.person._.email.as_alias("email"),
            ApiToken.account._.language.as_alias("chosen_language"),
            ApiToken.account._.person._.language.as_alias("directory_language"),
        )
        .where(
            (ApiToken.token_hash == token_hash(token))
            & ApiToken.revoked_at.is_null()
            & ApiToken.account._.active.eq(True)
            & ApiToken.account._.person._.active.eq(True)
        )
        .first()
    )
    if row is None:
        return None
    if row["last_used_at"] is None or now - row["last_used_at"] > TOKEN_USE_NOTED:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["token_id"])
    return _signed_in(dict(row))


async def api_tokens(account_id: int) -> list[dict[str, object]]:
    """An account's tokens, newest first: name, prefix, when made, last used and revoked."""
    return list(
        await ApiToken.select(
            ApiToken.id,
            ApiToken.name,
            ApiToken.prefix,
            ApiToken.created_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
        )
        .where(ApiToken.account == account_id)
        .order_by(ApiToken.id, ascending=False)
    )


async def revoke_api_token(
    account_id: int, token_id: int, now: dt.datetime, actor: str = "", person_id: int | None = None
) -> bool:
    """Revoke one of an account's tokens; False if it has no such live token.

    `person_id` is who revokes it, for the audit log (the owner, or an administrator)."""
    live = (ApiToken.id == token_id) & (ApiToken.account == account_id)
    async with writing_transaction(ApiToken._meta.db):
        if not await ApiToken.exists().where(live & ApiToken.revoked_at.is_null()):
            return False
        await ApiToken.update({ApiToken.revoked_at: now}).where(live)
        await record(actor, "token.revoke", "api_token", token_id, {}, person_id)
    return True
