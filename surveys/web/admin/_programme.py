"""The console's programme: its rules, set or changed; its timeline, each planned cycle
with every stage and where it stands; a cycle's dates moved, a cycle skipped, the whole
programme paused. The same functions as `rapport programme`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_
from surveys.infra.numbers import whole_number
from surveys.instruments import Direction
from surveys.instruments.catalogue import loaded_instruments
from surveys.programme import (
    Cadence,
    Rules,
    move_cycle,
    pause_programme,
    planned_cycles,
    set_programme,
    skip_cycle,
    the_programme,
)
from surveys.programme.schedule import STAGE_NAMES, stages
from surveys.web.admin._common import acting, done, form_of, notice_of, page
from surveys.web.contexts._forms import refusal
from surveys.web.reach import administrators_only

Any_Request = Request[Any, Any, Any]


class ProgrammeConsole(Controller):
    """The programme (administrators only; others get 404)."""

    path = "/admin/programme"
    guards = (administrators_only,)

    @get("/", name="admin-programme")
    async def programme(self, request: Any_Request, viewer: NamedDependency[Viewer]) -> Template:
        return await _programme_page(viewer, notice=notice_of(request))

    @post("/", name="admin-programme-set")
    async def set_rules(
        self, request: Any_Request, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        form = await form_of(request)
        try:
            rules = rules_of(form)
            pinned = {
                direction: whole_number(str(form.get(f"instrument_{direction.value}", "")))
                for direction in Direction
            }
            await set_programme(
                rules,
                acting(viewer),
                pinned[Direction.site_rates_sponsor],
                pinned[Direction.sponsor_rates_site],
            )
        except RapportError as error:
            return await _programme_page(viewer, error=refusal(error), form=form)
        return done("/admin/programme/", "saved")

    @post("/pause", name="admin-programme-pause")
    async def pause(
        self, request: Any_Request, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        paused = (await form_of(request)).get("paused") == "1"
        try:
            await pause_programme(paused, acting(viewer))
        except RapportError as error:
            return await _programme_page(viewer, error=refusal(error))
        return done("/admin/programme/", "paused" if paused else "resumed")

    @post("/{key:str}/move", name="admin-programme-move")
    async def move(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        form = await form_of(request)
        try:
            await move_cycle(
                key,
                acting(viewer),
                _day(form, "opens"),
                _day(form, "closes"),
                _day(form, "review_ends"),
            )
        except RapportError as error:
            return await _programme_page(viewer, error=refusal(error), moving=key, form=form)
        return done(f"/admin/programme/#cycle-{key}", "saved")

    @post("/{key:str}/skip", name="admin-programme-skip")
    async def skip(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        skipped = (await form_of(request)).get("skipped") == "1"
        try:
            await skip_cycle(key, skipped, acting(viewer))
        except RapportError as error:
            return await _programme_page(viewer, error=refusal(error))
        return done(f"/admin/programme/#cycle-{key}", "saved")


def rules_of(form: dict[str, Any]) -> Rules:
    """The programme's rules as the form gives them, or a RapportError saying which field
    is not understood."""
    try:
        cadence = Cadence(str(form.get("cadence", "")))
    except ValueError:
        raise RapportError(N_("choose how often a cycle runs")) from None
    listed = tuple(
        _date(line, N_("%(text)s is not a date such as 2027-03-15"))
        for line in str(form.get("dates", "")).replace(",", "\n").splitlines()
        if line.strip()
    )
    first = str(form.get("first_opens", "")).strip()
    if cadence != Cadence.dates and not first:
        raise RapportError(N_("give the first cycle's opening day"))
    if cadence == Cadence.dates and not first and not listed:
        raise RapportError(N_("list at least one opening date"))
    return Rules(
        cadence,
        _date(first, N_("%(text)s is not a date such as 2027-03-15")) if first else min(listed),
        open_days=_count(form, "open_days"),
        review_days=_count(form, "review_days"),
        listed=listed,
        reminder_days=tuple(
            _whole(part, "reminder_days")
            for part in str(form.get("reminder_days", "")).split(",")
            if part.strip()
        ),
        most_reminders=_count(form, "most_reminders"),
        review_reminder_days=_count(form, "review_reminder_days"),
        publish_when_window_ends=form.get("publish_when_window_ends") == "1",
    )


NOT_A_NUMBER = {
    "open_days": N_("days a cycle takes answers: %(text)s is not a whole number"),
    "review_days": N_("days of the tier-review window: %(text)s is not a whole number"),
    "reminder_days": N_("reminder days before closing: %(text)s is not a whole number"),
    "most_reminders": N_("reminders a person gets at most: %(text)s is not a whole number"),
    "review_reminder_days": N_(
        "days before the window ends that reviewers are reminded: %(text)s is not a whole number"
    ),
}
"""Why each number field of the form is refused (one message per field, so a page says
the field's name in its reader's language)."""


def _count(form: dict[str, Any], name: str) -> int:
    return _whole(str(form.get(name, "")), name)


def _whole(text: str, name: str) -> int:
    number = whole_number(text.strip())
    if number is None:
        raise RapportError(NOT_A_NUMBER[name], text=repr(text.strip()))
    return number


def _date(text: str, message: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise RapportError(message, text=repr(text.strip())) from None


def _day(form: dict[str, Any], name: str) -> dt.date | None:
    text = str(form.get(name, "")).strip()
    return _date(text, N_("%(text)s is not a date such as 2027-03-15")) if text else None


async def _programme_page(
    viewer: Viewer,
    notice: str | None = None,
    error: Any = None,
    form: dict[str, Any] | None = None,
    moving: str | None = None,
) -> Template:
    """The programme's page: its rules (a form), then its timeline."""
    found = await the_programme()
    now = dt.datetime.now(dt.UTC)
    timeline = (
        [
            (planned, stages(found.rules, planned.dates, planned.done, now))
            for planned in await planned_cycles()
        ]
        if found is not None
        else []
    )
    return page(
        "programme",
        viewer,
        "programme",
        N_("Programme"),
        400 if error else 200,
        data={
            "programme": found,
            "timeline": timeline,
            "stage_names": STAGE_NAMES,
            "instruments": await loaded_instruments(),
            "moving": moving,
        },
        form=form if form is not None else _form_of(found),
        error=error,
        notice=notice,
    )


def _form_of(found: Any) -> dict[str, Any]:
    """The rules form filled with the programme's rules (or a quarterly default)."""
    if found is None:
        return {
            "cadence": "quarterly",
            "open_days": "28",
            "reminder_days": "14, 7, 2",
            "most_reminders": "3",
            "review_days": "14",
            "review_reminder_days": "3",
        }
    rules = found.rules
    return {
        "cadence": rules.cadence.value,
        "first_opens": rules.first_opens_on.isoformat(),
        "dates": "\n".join(d.isoformat() for d in rules.listed),
        "open_days": str(rules.open_days),
        "reminder_days": ", ".join(str(d) for d in rules.reminder_days),
        "most_reminders": str(rules.most_reminders),
        "review_days": str(rules.review_days),
        "review_reminder_days": str(rules.review_reminder_days),
        "publish_when_window_ends": "1" if rules.publish_when_window_ends else "",
        "instrument_site_rates_sponsor": str(found.site_instrument or ""),
        "instrument_sponsor_rates_site": str(found.sponsor_instrument or ""),
    }
