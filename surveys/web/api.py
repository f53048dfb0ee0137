"""The administrators' JSON API for cycles: what `rapport cycle …` does, over HTTP.

Authenticated by an administrator's personal API token (`Authorization: Bearer rpt_…`,
made at /account/tokens/). The header, never a cookie, authenticates, so these routes
need no CSRF token. Documented in the OpenAPI schema at /schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, JSONBody

from surveys.cycles.cycle import (
    CYCLE_KEY,
    CYCLE_KEY_RULE,
    CycleError,
    CycleRecord,
    CycleTransitionError,
    UnknownCycleError,
    cycle_by_key,
    cycles_newest_first,
)
from surveys.cycles.letters import SendReport, send_reminders
from surveys.cycles.life_cycle import close_cycle, create_cycle, open_cycle
from surveys.cycles.progress import cycle_status
from surveys.infra.mail import Mailer
from surveys.infra.settings import Settings
from surveys.web.auth import token_viewer
from surveys.web.reach import NoSuchPage


class ConflictException(HTTPException):
    """The cycle is not in a state that allows this (409)."""

    status_code = 409


async def administrator(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Let through only requests bearing an administrator's personal token (401 without a
    valid token, 403 for anyone else's); the administrator is kept for the audit log."""
    viewer = await token_viewer(connection)
    if not viewer.reach.administrator:
        raise PermissionDeniedException("cycles are run by administrators only")
    connection.state["actor"] = viewer.who.email


def _actor(request: Request[Any, Any, Any]) -> str:
    """Who acts, for the audit log: the administrator whose token was given."""
    return str(request.state.get("actor", "api"))


class NewCycle(msgspec.Struct, forbid_unknown_fields=True):
    """A cycle to create."""

    key: Annotated[
        str,
        msgspec.Meta(pattern=f"^{CYCLE_KEY.pattern}$", description=f"The key: {CYCLE_KEY_RULE}."),
    ]
    closes_on: dt.date
    title: str = ""


class CycleOut(msgspec.Struct):
    """A cycle, as listed."""

    key: str
    title: str
    status: str
    opens_at: dt.datetime | None
    closes_at: dt.datetime | None


class Progress(msgspec.Struct):
    """How far one organisation's people got in one direction."""

    organisation: str
    direction: str
    invited: int
    opened: int
    in_progress: int
    submitted: int
    response_rate: float
    undeliverable: int = 0
    """Invitations whose address the mail server refused for good."""


class CycleStatusOut(msgspec.Struct):
    """A cycle and how far everyone got."""

    cycle: CycleOut
    progress: list[Progress]


class MailOut(msgspec.Struct):
    """What a round of e-mails did."""

    sent: int
    """E-mails delivered, one per person."""
    failed: list[str]
    skipped: int
    """Invitations whose link was issued once and cannot go in an e-mail."""
    invitations: int = 0
    """Invitations the e-mails carried."""
    held: dict[str, int] = msgspec.field(default_factory=dict)
    """Invitations given no e-mail, by reason (not_due, at_limit, expired, undeliverable…)."""
    summary: str = ""
    """The round in one sentence, reasons spelled out."""


def _mail_out(report: SendReport) -> MailOut:
    """A round of e-mails as the API reports it."""
    return MailOut(
        report.sent,
        list(report.failed),
        report.skipped,
        report.invitations,
        {reason.value: n for reason, n in report.held.items()},
        report.summary(),
    )


def _cycle_out(cycle: CycleRecord) -> CycleOut:
    """A stored cycle as the API lists it."""
    return CycleOut(cycle.key, cycle.title, cycle.status, cycle.opens_at, cycle.closes_at)


async def _checked(coroutine: Any) -> Any:
    """Run a cycle operation, turning its refusals into 404 (the one answer every route
    gives for what is not there) or 409 with the reason."""
    try:
        return await coroutine
    except UnknownCycleError:
        raise NoSuchPage() from None
    except (CycleError, CycleTransitionError) as error:
        raise ConflictException(str(error)) from None


def _mailer(request: Request[Any, Any, Any]) -> Mailer:
    """The mailer the settings configure (SMTP, or the outbox folder)."""
    return Mailer.from_settings(request.app.state.settings)


class CyclesAPI(Controller):
    """Survey cycles: list, create, open, remind, close, status."""

    path = "/api/cycles"
    guards = [administrator]  # noqa: RUF012  (Litestar reads it as a class attribute)
    opt = {"exclude_from_csrf": True}  # noqa: RUF012
    tags = ["cycles"]  # noqa: RUF012

    @get("/", summary="List cycles")
    async def list_cycles(self) -> list[CycleOut]:
        """Every cycle, newest first."""
        return [_cycle_out(row) for row in await cycles_newest_first()]

    @post("/", summary="Create a draft cycle", status_code=201)
    async def create(self, data: JSONBody[NewCycle], request: Request[Any, Any, Any]) -> CycleOut:
        """Create a draft cycle with the newest loaded instruments; it closes at the end of
        `closes_on` (UTC)."""
        now = dt.datetime.now(dt.UTC)
        closes = dt.datetime.combine(data.closes_on, dt.time(23, 59, 59), tzinfo=dt.UTC)
        await _checked(create_cycle(data.key, data.title, closes, now, _actor(request)))
        return _cycle_out(await _checked(cycle_by_key(data.key, UnknownCycleError)))

    @get("/{key:str}", summary="A cycle and how far everyone got")
    async def status(self, key: FromPath[str]) -> CycleStatusOut:
        """Invited, opened, in progress, submitted and undeliverable, per organisation (with
        the direction its people answer in), furthest behind first."""
        report = await _checked(cycle_status(key, "organisation"))
        progress = [
            Progress(
                r.label,
                r.direction or "",
                r.invited,
                r.opened,
                r.in_progress,
                r.submitted,
                r.response_rate,
                r.undeliverable,
            )
            for r in report.rows
        ]
        return CycleStatusOut(_cycle_out(report.cycle), progress)

    @post("/{key:str}/open", summary="Open: invite everyone and e-mail them", status_code=200)
    async def open(self, key: FromPath[str], request: Request[Any, Any, Any]) -> MailOut:
        """Invite both sides of every active relationship and e-mail each person once."""
        now = dt.datetime.now(dt.UTC)
        summary = await _checked(open_cycle(key, now, _mailer(request), _actor(request)))
        return _mail_out(summary.mail)

    @post("/{key:str}/remind", summary="Remind who has not submitted", status_code=200)
    async def remind(self, key: FromPath[str], request: Request[Any, Any, Any]) -> MailOut:
        """Remind, at most RAPPORT_REMINDERS times, RAPPORT_REMINDER_DAYS apart."""
        settings: Settings = request.app.state.settings
        report = await _checked(
            send_reminders(
                key,
                dt.datetime.now(dt.UTC),
                _mailer(request),
                settings.reminders,
                settings.reminder_days,
            )
        )
        return _mail_out(report)

    @post("/{key:str}/close", summary="Close: links stop taking answers", status_code=200)
    async def close(self, key: FromPath[str], request: Request[Any, Any, Any]) -> CycleOut:
        """Close an open cycle."""
        await _checked(close_cycle(key, dt.datetime.now(dt.UTC), _actor(request)))
        return _cycle_out(await _checked(cycle_by_key(key, UnknownCycleError)))
