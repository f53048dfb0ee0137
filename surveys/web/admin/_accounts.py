"""The console's accounts: who may sign in, with which grants; an invitation to sign in
(an expiring one-time link by e-mail); grants given and taken; accounts deactivated; any
API token revoked. The same functions as `rapport admin` and `rapport accounts`."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from surveys.accounts.administration import (
    account_detail,
    accounts_page,
    give_grant,
    invite_to_sign_in,
    revoke_any_token,
    set_account_active,
    take_grant,
)
from surveys.accounts.credentials import Account, AccountError, GrantRole
from surveys.accounts.policy import Viewer
from surveys.directory.listing import choices, person_record
from surveys.directory.organisations import OrgKind, organisation_with_slug
from surveys.infra.i18n import N_, Text
from surveys.infra.mail import Mailer
from surveys.web.admin._common import (
    PageNumber,
    acting,
    done,
    form_of,
    listing,
    notice_of,
    optional_int,
    page,
)
from surveys.web.auth import RecordId
from surveys.web.contexts._forms import refusal
from surveys.web.reach import administrators_only

Any_Request = Request[Any, Any, Any]
Status = Literal["active", "inactive", "all"]
ACTIVE: dict[str, bool | None] = {"active": True, "inactive": False, "all": None}
ROLE_NAMES = {
    GrantRole.site_user: N_("site user (a site's or a network's results)"),
    GrantRole.sponsor_user: N_("sponsor user (a sponsor's or a CRO's portfolio)"),
    GrantRole.relationship_manager: N_("relationship manager (trends and tier review)"),
    GrantRole.administrator: N_("administrator (everything, this console included)"),
}


async def _organisations() -> dict[str, Any]:
    """What a grant form offers: sponsors, CROs and networks by name; sites by short name."""
    return {
        "roles": ROLE_NAMES,
        "groups": {
            N_("Sponsors"): await choices(OrgKind.sponsor),
            N_("CROs"): await choices(OrgKind.cro),
            N_("Site networks"): await choices(OrgKind.network),
        },
    }


async def _grant_from(form: dict[str, Any]) -> tuple[GrantRole, int | None]:
    """The role and organisation a grant form names; AccountError says what is missing."""
    try:
        role = GrantRole(form.get("role", ""))
    except ValueError:
        raise AccountError(N_("choose the role to give")) from None
    if role == GrantRole.administrator:
        return role, None
    site = form.get("site", "").strip()
    if site:
        found = await organisation_with_slug(site, OrgKind.site)
        if found is None:
            raise AccountError(N_("no site has the short name %(slug)r"), slug=site)
        return role, found
    organisation = optional_int(form.get("organisation"))
    if organisation is None:
        raise AccountError(
            N_("choose the organisation the grant is over, or type a site's short name")
        )
    return role, organisation


class AccountsConsole(Controller):
    """Accounts and grants (administrators only; others get 404)."""

    path = "/admin"
    guards = (administrators_only,)

    @get("/accounts", name="admin-accounts")
    async def accounts(
        self,
        request: Any_Request,
        viewer: NamedDependency[Viewer],
        search: FromQuery[str] = "",
        role: FromQuery[GrantRole | None] = None,
        status: FromQuery[Status] = "active",
        page_number: PageNumber = 1,
    ) -> Template:
        """Everyone who may sign in, with their grants and last sign-in."""
        query = {"search": search, "role": role.value if role else "", "status": status}

        async def read(number: int, per_page: int) -> Any:
            return await accounts_page(search, role, ACTIVE[status], number, per_page)

        found = await listing(read, query, page_number)
        return page(
            "accounts",
            viewer,
            "accounts",
            N_("Accounts"),
            data={"list": found, "roles": ROLE_NAMES},
            form=query,
            notice=notice_of(request),
        )

    @get("/accounts/{account_id:int}", name="admin-account")
    async def account(
        self, request: Any_Request, account_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template:
        return await _account_page(viewer, account_id, notice=notice_of(request))

    @post("/accounts/{account_id:int}/grants", name="admin-account-grant")
    async def grant(
        self, request: Any_Request, account_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        form = await form_of(request)
        try:
            role, organisation = await _grant_from(form)
            await give_grant(account_id, role, organisation, acting(viewer))
        except AccountError as error:
            return await _account_page(viewer, account_id, error=refusal(error), form=form)
        return done(f"/admin/accounts/{account_id}", "granted")

    @post("/accounts/{account_id:int}/grants/{grant_id:int}/take", name="admin-account-take")
    async def take(
        self, account_id: RecordId, grant_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        try:
            await take_grant(grant_id, acting(viewer))
        except AccountError as error:
            return await _account_page(viewer, account_id, error=refusal(error))
        return done(f"/admin/accounts/{account_id}", "revoked")

    @post("/accounts/{account_id:int}/active", name="admin-account-active")
    async def active(
        self, request: Any_Request, account_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        active = (await form_of(request)).get("active") == "1"
        try:
            await set_account_active(account_id, active, acting(viewer))
        except AccountError as error:
            return await _account_page(viewer, account_id, error=refusal(error))
        return done(f"/admin/accounts/{account_id}", "reactivated" if active else "deactivated")

    @post("/accounts/{account_id:int}/tokens/{token_id:int}/revoke", name="admin-token-revoke")
    async def revoke_token(
        self, account_id: RecordId, token_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        try:
            await revoke_any_token(token_id, acting(viewer))
        except AccountError as error:
            return await _account_page(viewer, account_id, error=refusal(error))
        return done(f"/admin/accounts/{account_id}", "revoked")

    @get("/people/{person_id:int}/account", name="admin-person-account")
    async def person_account(
        self, person_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        """A person's account, or the form that invites them to sign in."""
        record = await person_record(person_id)
        if record is None:
            raise NotFoundException("no such person")
        held = await Account.select(Account.id).where(Account.person == person_id).first()
        if held is not None:
            return Redirect(f"/admin/accounts/{held['id']}", status_code=303)
        return await _invite_page(viewer, record)

    @post("/people/{person_id:int}/invite", name="admin-person-invite")
    async def invite(
        self, request: Any_Request, person_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        """Give the person an account with one grant and e-mail them a sign-in link."""
        record = await person_record(person_id)
        if record is None:
            raise NotFoundException("no such person")
        form = await form_of(request)
        mailer = Mailer.from_settings(request.app.state.settings)
        try:
            grants = [await _grant_from(form)] if form.get("role") else []
            sent = await invite_to_sign_in(person_id, grants, acting(viewer), mailer)
        except AccountError as error:
            return await _invite_page(viewer, record, error=refusal(error), form=form)
        if not sent.mailed:
            # the link itself is never shown: whoever holds it signs in as that person
            problem = Text(
                N_(
                    "The account is ready, but the e-mail could not be sent (%(problem)s). "
                    "Check the address in the directory, then invite again"
                ),
                {"problem": sent.problem},
            )
            return await _account_page(viewer, sent.account_id, error=problem, status=200)
        return done(f"/admin/accounts/{sent.account_id}", "invited")


async def _invite_page(
    viewer: Viewer,
    record: dict[str, Any],
    error: str | Text | None = None,
    form: dict[str, Any] | None = None,
) -> Template:
    return page(
        "invite",
        viewer,
        "accounts",
        Text(N_("Invite %(name)s to sign in"), {"name": record["name"]}),
        400 if error else 200,
        data={**await _organisations(), "record": record},
        form=form or {},
        error=error,
    )


async def _account_page(
    viewer: Viewer,
    account_id: int,
    notice: str | None = None,
    error: str | Text | None = None,
    form: dict[str, Any] | None = None,
    status: int | None = None,
) -> Template:
    try:
        detail = await account_detail(account_id)
    except AccountError:
        raise NotFoundException("no such account") from None
    return page(
        "account",
        viewer,
        "accounts",
        detail.account.name,
        status or (400 if error else 200),
        data={**await _organisations(), "detail": detail},
        form=form or {},
        error=error,
        notice=notice,
    )
