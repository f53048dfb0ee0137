"""Giving, changing and taking away accounts: what the administrators' console and the
`rapport admin` and `rapport accounts` commands both call.

Each change checks what it is given, refuses what would leave Rapport in a bad state (a
grant over the wrong kind of organisation, no active administrator left, an account for
someone erased) with a sentence a person can act on, and writes its change and its audit
entry in one transaction. Audit entries name records by id, never a person's name or
e-mail: the log outlives an erasure.

`_changes` holds what writes, `_reading` the list of accounts, one account in detail, and
the lookups of records people name by e-mail or short name.
"""

from surveys.accounts.administration._changes import (
    ADMINISTRATOR_ROLE,
    ROLE_KINDS,
    FirstAdministrator,
    SignInInvitation,
    check_grant,
    create_first_administrator,
    give_grant,
    invite_to_sign_in,
    revoke_any_token,
    set_account_active,
    take_grant,
)
from surveys.accounts.administration._reading import (
    AccountDetail,
    AccountRow,
    GrantRow,
    TokenRow,
    account_detail,
    account_id_for,
    accounts_page,
    grant_id_for,
    organisation_id_for,
    person_id_for,
)

__all__ = [
    "ADMINISTRATOR_ROLE",
    "ROLE_KINDS",
    "AccountDetail",
    "AccountRow",
    "FirstAdministrator",
    "GrantRow",
    "SignInInvitation",
    "TokenRow",
    "account_detail",
    "account_id_for",
    "accounts_page",
    "check_grant",
    "create_first_administrator",
    "give_grant",
    "grant_id_for",
    "invite_to_sign_in",
    "organisation_id_for",
    "person_id_for",
    "revoke_any_token",
    "set_account_active",
    "take_grant",
]
