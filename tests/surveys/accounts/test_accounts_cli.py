"""`rapport admin create` on an empty database, and `rapport accounts …` after it.

The commands run through click's CliRunner against the test's database (DATABASE_URL),
with the outbox in the test's own folder; what they did is then read from the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from piccolo.engine.base import Engine

from surveys.accounts.credentials import (
    AccessGrant,
    Account,
    ApiToken,
    LinkPurpose,
    new_api_token,
    token_account,
    use_link,
)
from surveys.cli._run import console
from surveys.cli.accounts import accounts, admin
from surveys.directory.audit import AuditEntry
from surveys.directory.organisations import Organisation, OrgKind, Person
from tests.conftest import url_of


@pytest.fixture
def invoke(db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run a command of a group against the test's database, outbox under tmp_path/var,
    its tables printed wide enough that no address is cut (as in a real terminal)."""
    monkeypatch.setattr(console, "width", 200)
    env = {
        "DATABASE_URL": url_of(db),
        "RAPPORT_VAR_DIR": str(tmp_path / "var"),
        "RAPPORT_PUBLIC_URL": None,
        "RAPPORT_SMTP_URL": None,
        "COLUMNS": "200",  # the console's width: tables and sentences stay on their lines
    }

    def invoke(group: click.Group, *args: str, **more_env: str) -> Result:
        return CliRunner().invoke(group, list(args), env={**env, **more_env})

    return invoke


def outbox(tmp_path: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted((tmp_path / "var" / "outbox").glob("*.eml"))
    ]


def sign_in(token: str) -> int | None:
    return asyncio.run(use_link(token, LinkPurpose.sign_in, dt.datetime.now(dt.UTC)))


def one_line(result: Result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.output


def test_admin_create_on_an_empty_database_mails_a_link_that_signs_in(
    invoke: Any, tmp_path: Path
) -> None:
    result = invoke(
        admin,
        "create",
        "Root@Example.org",
        "--name",
        "Rita Root",
        "--organisation",
        "Acme Pharma",
    )
    assert result.exit_code == 0, result.output
    assert "Added the organisation Acme Pharma (sponsor)." in result.output
    assert "Root@Example.org is an administrator now." in result.output
    assert "No mail server is set (RAPPORT_SMTP_URL)" in result.output
    assert "point at http://127.0.0.1:8000, the default address" in " ".join(result.output.split())
    (letter,) = outbox(tmp_path)
    assert letter["To"] == "Rita Root <root@example.org>"
    found = re.search(r"http://127\.0\.0\.1:8000/sign-in/link/(\S+)", letter.get_content())
    assert found, letter.get_content()
    assert found.group(0) in result.output.split()  # the printed link is the mailed one
    account = sign_in(found.group(1))
    assert account is not None
    grants = AccessGrant.select().where(AccessGrant.account == account).run_sync()
    assert [(g["role"], g["organisation"]) for g in grants] == [("administrator", None)]
    actors = {e["actor"] for e in AuditEntry.select(AuditEntry.actor).run_sync()}
    assert len(actors) == 1 and actors.pop().startswith("cli")


def test_admin_create_asks_for_an_organisation_on_an_empty_database(invoke: Any) -> None:
    result = invoke(admin, "create", "root@example.org", "--name", "Rita Root")
    one_line(result, "pass --organisation")
    assert Person.count().run_sync() == 0


def test_admin_create_with_a_public_url_gives_no_warning(invoke: Any) -> None:
    result = invoke(
        admin,
        "create",
        "root@example.org",
        "--name",
        "Rita Root",
        "--organisation",
        "St Mary's",
        "--kind",
        "site",
        RAPPORT_PUBLIC_URL="https://rapport.example.org",
    )
    assert result.exit_code == 0, result.output
    assert "https://rapport.example.org/sign-in/link/" in result.output
    assert "warning" not in result.output
    org = Organisation.select().first().run_sync()
    assert (org["slug"], org["kind"]) == ("st-mary-s", OrgKind.site.value)


def test_accounts_are_invited_granted_revoked_and_deactivated(invoke: Any, tmp_path: Path) -> None:
    made = invoke(admin, "create", "root@example.org", "--name", "R", "--organisation", "Acme")
    assert made.exit_code == 0, made.output
    asyncio.run(_add_people())
    invited = invoke(
        accounts,
        "invite",
        "bob@example.org",
        "--grant",
        "sponsor_user:acme",
        "--grant",
        "site_user:acme",
    )
    one_line(invited, "a site user's grant is over a network or a site, and Acme is a sponsor")
    invited = invoke(accounts, "invite", "carol@example.org", "--grant", "site_user:st-marys")
    assert invited.exit_code == 0, invited.output
    assert len(outbox(tmp_path)) == 2
    assert (
        invoke(accounts, "grant", "carol@example.org", "relationship_manager", "acme").exit_code
        == 0
    )
    assert _grants("carol@example.org") == {
        ("site_user", "st-marys"),
        ("relationship_manager", "acme"),
    }
    assert invoke(accounts, "revoke", "carol@example.org", "site_user", "st-marys").exit_code == 0
    assert _grants("carol@example.org") == {("relationship_manager", "acme")}
    one_line(
        invoke(accounts, "revoke", "carol@example.org", "site_user", "st-marys"), "no such grant"
    )
    one_line(
        invoke(accounts, "grant", "bob@example.org", "sponsor_user", "acme"), "invite them first"
    )
    one_line(
        invoke(accounts, "revoke", "root@example.org", "administrator"), "last active administrator"
    )
    one_line(invoke(accounts, "deactivate", "root@example.org"), "last active administrator")
    deactivated = invoke(accounts, "deactivate", "carol@example.org")
    assert "The account of carol@example.org is deactivated." in deactivated.output
    listed = invoke(accounts, "list", "--search", "CAROL")
    assert "carol@example.org" in listed.output and "(deactivated)" in listed.output
    assert "Page 1 of 1: 1 account." in listed.output
    assert invoke(accounts, "reactivate", "carol@example.org").exit_code == 0
    every = invoke(accounts, "list")
    assert "Page 1 of 1: 2 accounts." in every.output
    one_line(invoke(accounts, "list", "--page", "2"), "page 2 is past the last page")


def test_an_administrator_revokes_a_token_from_the_command_line(invoke: Any) -> None:
    made = invoke(admin, "create", "root@example.org", "--name", "R", "--organisation", "Acme")
    assert made.exit_code == 0, made.output
    account = Account.select(Account.id).first().run_sync()["id"]
    token = asyncio.run(new_api_token(account, "script", dt.datetime.now(dt.UTC)))
    token_id = ApiToken.select(ApiToken.id).first().run_sync()["id"]
    result = invoke(accounts, "revoke-token", str(token_id))
    assert f"API token {token_id} is revoked." in result.output
    assert asyncio.run(token_account(token, dt.datetime.now(dt.UTC))) is None
    one_line(invoke(accounts, "revoke-token", str(token_id)), "no live API token")


def test_a_role_that_does_not_exist_is_a_usage_error(invoke: Any) -> None:
    result = invoke(accounts, "invite", "bob@example.org", "--grant", "superuser:acme")
    assert result.exit_code == 2
    assert "'superuser' is not a role" in result.output


@pytest.mark.parametrize(
    "command",
    [[], ["create"]],
    ids=lambda c: " ".join(["admin", *c]),
)
def test_admin_commands_describe_themselves(command: list[str]) -> None:
    result = CliRunner().invoke(admin, [*command, "--help"])
    assert result.exit_code == 0 and len(result.output.split("\n\n")[1].strip()) > 20


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["list"],
        ["invite"],
        ["grant"],
        ["revoke"],
        ["deactivate"],
        ["reactivate"],
        ["revoke-token"],
    ],
    ids=lambda c: " ".join(["accounts", *c]),
)
def test_accounts_commands_describe_themselves(command: list[str]) -> None:
    result = CliRunner().invoke(accounts, [*command, "--help"])
    assert result.exit_code == 0 and len(result.output.split("\n\n")[1].strip()) > 20


async def _add_people() -> None:
    now = dt.datetime.now(dt.UTC)
    acme = (await Organisation.select(Organisation.id).where(Organisation.slug == "acme"))[0]
    made = await Organisation.insert(
        Organisation(slug="st-marys", name="St Mary's", kind="site", created_at=now)
    )
    for name, org, role in (("bob", acme["id"], "study_manager"), ("carol", made[0]["id"], "pi")):
        await Person.insert(
            Person(
                organisation=org,
                name=name.title(),
                email=f"{name}@example.org",
                role=role,
                created_at=now,
            )
        )


def _grants(address: str) -> set[tuple[str, str | None]]:
    rows = (
        AccessGrant.select(AccessGrant.role, AccessGrant.organisation._.slug.as_alias("slug"))
        .where(AccessGrant.account._.person._.email == address)
        .run_sync()
    )
    return {(r["role"], r["slug"]) for r in rows}


def test_an_accounts_language_is_chosen_and_given_back_to_the_directory(invoke: Any) -> None:
    made = invoke(admin, "create", "root@example.org", "--name", "R", "--organisation", "Acme")
    assert made.exit_code == 0, made.output

    def chosen() -> Any:
        return Account.select(Account.language).first().run_sync()["language"]

    result = invoke(accounts, "language", "root@example.org", "ja")
    assert result.exit_code == 0 and "reads Rapport in 日本語 now" in result.output
    assert chosen() == "ja"
    assert invoke(accounts, "language", "root@example.org", "directory").exit_code == 0
    assert chosen() is None
    refused = invoke(accounts, "language", "root@example.org", "tlh")
    assert refused.exit_code == 2 and "'tlh' is not one of" in refused.output
    one_line(invoke(accounts, "language", "nobody@example.org", "fr"), "nobody@example.org")
