"""`rapport admin` and `rapport accounts`: the first administrator, then everyone's accounts.

`admin create` is how a deployment gets its first administrator, on an empty database;
`accounts` gives, changes and takes away the accounts of the people who review results.
Both call `surveys.accounts.administration`, as the administrators' console does.
"""

from __future__ import annotations

import click
from rich.table import Table as RichTable

from surveys.accounts.administration import (
    AccountRow,
    FirstAdministrator,
    SignInInvitation,
    account_id_for,
    accounts_page,
    create_first_administrator,
    give_grant,
    grant_id_for,
    invite_to_sign_in,
    organisation_id_for,
    person_id_for,
    revoke_any_token,
    set_account_active,
    take_grant,
)
from surveys.accounts.credentials import INVITATION_DAYS, GrantRole, set_language
from surveys.cli._run import (
    RapportGroup,
    actor,
    announce_links,
    console,
    mailer_for,
    run,
    settings_and_now,
)
from surveys.directory.audit import Act
from surveys.directory.organisations import OrgKind
from surveys.infra.i18n import LANGUAGES
from surveys.infra.pagination import PastLastPageError
from surveys.infra.settings import Settings

ROLES = click.Choice([role.value for role in GrantRole])
PER_PAGE = 50
"""Accounts `accounts list` prints at once."""


def _acting() -> tuple[Settings, Act]:
    """The settings, and this command's act for the audit log (no person: a shell user)."""
    settings, now = settings_and_now()
    return settings, Act(actor=actor(), at=now)


def _grant_of(text: str) -> tuple[GrantRole, str | None]:
    """A `--grant` value, ROLE or ROLE:ORG_SLUG."""
    role, _, slug = text.partition(":")
    try:
        return GrantRole(role.strip()), slug.strip() or None
    except ValueError:
        known = ", ".join(r.value for r in GrantRole)
        raise click.BadParameter(f"{role!r} is not a role; roles: {known}") from None


async def _resolved(
    grants: list[tuple[GrantRole, str | None]],
) -> list[tuple[GrantRole, int | None]]:
    """Grants with their organisations' ids in place of their short names."""
    return [(role, await organisation_id_for(slug) if slug else None) for role, slug in grants]


def _report_invitation(invitation: SignInInvitation, email: str, settings: Settings) -> None:
    """Say where the sign-in link went; print it when it went no further than this machine."""
    until = f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC"
    if invitation.mailed and settings.smtp is not None:
        console.print(f"E-mailed a sign-in link to {email} through {invitation.delivery}.")
        console.print(f"It works once, until {until}.")
        announce_links(settings)
        return
    if invitation.mailed:
        console.print(
            f"No mail server is set (RAPPORT_SMTP_URL), so the e-mail to {email} was only "
            f"written to {invitation.delivery}. Open this link within {INVITATION_DAYS} days "
            f"(until {until}); it works once:"
        )
    console.print(invitation.link, soft_wrap=True, highlight=False)
    announce_links(settings)
    if not invitation.mailed:
        raise click.ClickException(
            f"the e-mail could not be delivered ({invitation.problem}); pass the link above "
            "on another way"
        )


@click.group(cls=RapportGroup)
def admin() -> None:
    """Administrators: make the first one, on an empty database or a running one."""


@admin.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The administrator's name, if not in the directory.")
@click.option(
    "--organisation",
    default=None,
    help="Their organisation's short name or name; made if the directory has none so named.",
)
@click.option(
    "--kind",
    type=click.Choice([OrgKind.sponsor, OrgKind.cro, OrgKind.site]),
    default=OrgKind.sponsor.value,
    show_default=True,
    help="What the organisation is, when it is made now (people do not work at networks).",
)
def admin_create(email: str, name: str, organisation: str | None, kind: str) -> None:
    """Make EMAIL an administrator and e-mail them a sign-in link.

    Adds the person (and their organisation) to the directory when it does not hold
    them; an existing person keeps their record and gains the administrator grant.
    """
    settings, act = _acting()
    mailer = mailer_for(settings)

    async def step() -> tuple[FirstAdministrator, SignInInvitation]:
        made = await create_first_administrator(email, name, organisation, OrgKind(kind), act)
        return made, await invite_to_sign_in(made.person_id, [], act, mailer)

    made, invitation = run(step)
    if made.made_organisation:
        console.print(f"Added the organisation {made.organisation} ({kind}).")
    if made.made_person:
        console.print(f"Added {name} <{email}> to {made.organisation}.")
    state = "is an administrator now" if made.made_grant else "was an administrator already"
    console.print(f"{email} {state}.")
    _report_invitation(invitation, email, settings)


@click.group(cls=RapportGroup)
def accounts() -> None:
    """Accounts of the people who review results: list, invite, grant, deactivate."""


@accounts.command("list")
@click.option("--search", default="", help="Part of a name, an e-mail or an organisation.")
@click.option("--role", type=ROLES, default=None, help="Only accounts holding this role.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
def accounts_list(search: str, role: str | None, page: int) -> None:
    """List the accounts by name, with their grants and live API tokens."""
    wanted = GrantRole(role) if role else None
    try:
        found = run(lambda: accounts_page(search, wanted, None, page, PER_PAGE))
    except PastLastPageError as error:
        raise click.ClickException(str(error)) from None
    table = RichTable()
    for heading in ("e-mail", "name", "organisation", "grants", "tokens", "last sign-in"):
        table.add_column(heading, overflow="fold")
    for row in found.items:
        table.add_row(*_listed(row), style=None if row.active else "dim")
    console.print(table)
    plural = "" if found.total == 1 else "s"
    console.print(f"Page {found.number} of {found.pages}: {found.total:,} account{plural}.")


def _listed(row: AccountRow) -> tuple[str, ...]:
    """An account as `accounts list` prints it."""
    grants = ", ".join(
        f"{g.role.value}:{g.organisation}" if g.organisation else g.role.value for g in row.grants
    )
    signed_in = f"{row.last_signed_in_at:%Y-%m-%d %H:%M}" if row.last_signed_in_at else "never"
    name = row.name if row.active else f"{row.name} (deactivated)"
    return row.email, name, row.organisation, grants, str(row.live_tokens), signed_in


@accounts.command("invite")
@click.argument("email")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    help="ROLE or ROLE:ORG_SLUG (administrator takes no organisation); repeat for more.",
)
def accounts_invite(email: str, grants: tuple[str, ...]) -> None:
    """Give EMAIL (a person in the directory) an account and grants, and e-mail them a
    sign-in link that works 7 days."""
    settings, act = _acting()
    mailer = mailer_for(settings)
    parsed = [_grant_of(text) for text in grants]

    async def step() -> SignInInvitation:
        person_id = await person_id_for(email)
        return await invite_to_sign_in(person_id, await _resolved(parsed), act, mailer)

    _report_invitation(run(step), email, settings)


@accounts.command("grant")
@click.argument("email")
@click.argument("role", type=ROLES)
@click.argument("org_slug", required=False)
def accounts_grant(email: str, role: str, org_slug: str | None) -> None:
    """Give the account of EMAIL the ROLE over ORG_SLUG (administrator: over none)."""
    _, act = _acting()

    async def step() -> None:
        organisation = (await _resolved([(GrantRole(role), org_slug)]))[0][1]
        await give_grant(await account_id_for(email), GrantRole(role), organisation, act)

    run(step)
    console.print(f"{email} holds {role}{f' over {org_slug}' if org_slug else ''} now.")


@accounts.command("revoke")
@click.argument("email")
@click.argument("role", type=ROLES)
@click.argument("org_slug", required=False)
def accounts_revoke(email: str, role: str, org_slug: str | None) -> None:
    """Take away the ROLE over ORG_SLUG from the account of EMAIL."""
    _, act = _acting()

    async def step() -> None:
        account_id = await account_id_for(email)
        organisation = (await _resolved([(GrantRole(role), org_slug)]))[0][1]
        await take_grant(await grant_id_for(account_id, GrantRole(role), organisation), act)

    run(step)
    console.print(f"{email} no longer holds {role}{f' over {org_slug}' if org_slug else ''}.")


def _set_active(email: str, active: bool) -> None:
    _, act = _acting()

    async def step() -> bool:
        return await set_account_active(await account_id_for(email), active, act)

    changed = run(step)
    state = "active" if active else "deactivated"
    console.print(f"The account of {email} is {state}{'' if changed else ' already'}.")


@accounts.command("deactivate")
@click.argument("email")
def accounts_deactivate(email: str) -> None:
    """Stop the account of EMAIL from signing in: its sessions end, its links are spent."""
    _set_active(email, False)


@accounts.command("reactivate")
@click.argument("email")
def accounts_reactivate(email: str) -> None:
    """Let the account of EMAIL sign in again, with the grants it held."""
    _set_active(email, True)


@accounts.command("revoke-token")
@click.argument("token_id", type=click.IntRange(min=1))
def accounts_revoke_token(token_id: int) -> None:
    """Revoke the personal API token TOKEN_ID, whoever owns it (a leaked token, say)."""
    _, act = _acting()
    run(lambda: revoke_any_token(token_id, act))
    console.print(f"API token {token_id} is revoked.")


@accounts.command("language")
@click.argument("email")
@click.argument("language", type=click.Choice([*LANGUAGES, "directory"]))
def accounts_language(email: str, language: str) -> None:
    """Show the pages and e-mails of EMAIL's account in LANGUAGE, as the account page's
    choice does ("directory": in the language of their directory record again)."""

    async def step() -> None:
        await set_language(
            await account_id_for(email), None if language == "directory" else language
        )

    run(step)
    shown = "their directory record's language" if language == "directory" else LANGUAGES[language]
    console.print(f"{email} reads Rapport in {shown} now.")
