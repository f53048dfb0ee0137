"""The console's cycles: create one; open it behind a confirmation that says who gets
what; watch it live; remind; close (or reopen); score in the background; go to the
tier reviews; publish behind a confirmation; render and e-mail the scorecards in the
background. The same functions as `rapport cycle`, `score` and `scorecards`.

Long work (opening, which e-mails everyone; reminding; scoring; the scorecards) runs as
a background job (`surveys.jobs`), whose progress the cycle's page shows: a refresh
shows where it got to, with no script needed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.cycles.cycle import UnknownCycleError, cycle_by_key, cycles_newest_first
from surveys.cycles.letters import reminder_preview
from surveys.cycles.life_cycle import close_cycle, create_cycle, reopen_cycle
from surveys.cycles.preview import opening_preview
from surveys.cycles.progress import GROUPINGS, Grouping, cycle_status, not_answered
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_, Text
from surveys.infra.mail import Mailer
from surveys.infra.numbers import whole_number
from surveys.infra.pagination import PastLastPageError
from surveys.infra.settings import Settings
from surveys.instruments import Direction
from surveys.instruments.catalogue import loaded_instruments
from surveys.jobs import JobBusyError, latest_jobs
from surveys.results.tier_review import publication_preview, publish_cycle
from surveys.web.admin._common import PageNumber, acting, done, form_of, notice_of, page
from surveys.web.contexts._forms import refusal
from surveys.web.reach import administrators_only
from surveys.worker import Background

Any_Request = Request[Any, Any, Any]


def _settings(request: Any_Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _day_end(text: str) -> dt.datetime | None:
    """The end of a day typed as YYYY-MM-DD (UTC), or None if it is not a date."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


class CyclesConsole(Controller):
    """Survey cycles, from draft to scorecards (administrators only; others get 404)."""

    path = "/admin/cycles"
    guards = (administrators_only,)

    @get("/", name="admin-cycles")
    async def cycles(self, request: Any_Request, viewer: NamedDependency[Viewer]) -> Template:
        return await _cycles_page(viewer, notice=notice_of(request))

    @post("/", name="admin-cycle-create")
    async def create(
        self, request: Any_Request, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        form = await form_of(request)
        key = str(form.get("key", "")).strip()
        closes = _day_end(str(form.get("closes", "")))
        act = acting(viewer)
        try:
            if not key:
                raise RapportError(N_("give the cycle a key, such as 2027-Q1"))
            if closes is None:
                raise RapportError(N_("give the closing day as a date"))
            chosen = {
                direction: picked
                for direction in Direction
                if (picked := whole_number(str(form.get(f"instrument_{direction.value}", ""))))
                is not None
            }
            title = str(form.get("title", ""))
            await create_cycle(key, title, closes, act.at, act.actor, chosen)
        except RapportError as error:
            return await _cycles_page(viewer, error=refusal(error), form=form)
        return done(f"/admin/cycles/{key}", "created")

    @get("/{key:str}", name="admin-cycle")
    async def cycle(
        self,
        request: Any_Request,
        key: FromPath[str],
        viewer: NamedDependency[Viewer],
        by: FromQuery[Grouping] = "organisation",
        search: FromQuery[str] = "",
        page_number: PageNumber = 1,
    ) -> Template:
        """The cycle's state, its live status, who has not answered, and its next steps."""
        return await _cycle_page(viewer, key, by, search, page_number, notice_of(request))

    @get("/{key:str}/open", name="admin-cycle-open-confirm")
    async def open_confirm(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Template:
        """What opening will do: invitations, people, organisations, languages, samples."""
        try:
            preview = await opening_preview(
                key, _settings(request).public_url, dt.datetime.now(dt.UTC)
            )
        except RapportError:
            raise NotFoundException("no such cycle") from None
        return page(
            "cycle_open",
            viewer,
            "cycles",
            Text(N_("Open %(cycle)s?"), {"cycle": key}),
            data={"preview": preview},
        )

    @post("/{key:str}/open", name="admin-cycle-open")
    async def open(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Redirect | Template:
        return await _started(request, viewer, "open", key)

    @get("/{key:str}/remind", name="admin-cycle-remind-confirm")
    async def remind_confirm(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Template:
        """Who a reminder would go to now, and who is held back and why."""
        settings = _settings(request)
        try:
            preview = await reminder_preview(
                key,
                dt.datetime.now(dt.UTC),
                Mailer.from_settings(settings),
                settings.reminders,
                settings.reminder_days,
            )
        except UnknownCycleError:
            raise NotFoundException("no such cycle") from None
        except RapportError as error:
            return await _refused(viewer, key, error)
        return page(
            "cycle_remind",
            viewer,
            "cycles",
            Text(N_("Remind now in %(cycle)s?"), {"cycle": key}),
            data={"preview": preview, "key": key},
        )

    @post("/{key:str}/remind", name="admin-cycle-remind")
    async def remind(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Redirect | Template:
        return await _started(request, viewer, "remind", key)

    @get("/{key:str}/close", name="admin-cycle-close-confirm")
    async def close_confirm(self, key: FromPath[str], viewer: NamedDependency[Viewer]) -> Template:
        report = await _status_or_404(key)
        return page(
            "cycle_confirm",
            viewer,
            "cycles",
            Text(N_("Close %(cycle)s?"), {"cycle": key}),
            data={"report": report, "step": "close"},
        )

    @post("/{key:str}/close", name="admin-cycle-close")
    async def close(
        self, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Redirect | Template:
        act = acting(viewer)
        try:
            await close_cycle(key, act.at, act.actor)
        except RapportError as error:
            return await _refused(viewer, key, error)
        return done(f"/admin/cycles/{key}", "closed")

    @post("/{key:str}/reopen", name="admin-cycle-reopen")
    async def reopen(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Redirect | Template:
        closes = _day_end(str((await form_of(request)).get("closes", "")))
        act = acting(viewer)
        try:
            if closes is None:
                raise RapportError(N_("give the new closing day as a date"))
            await reopen_cycle(key, closes, act.actor, act.at)
        except RapportError as error:
            return await _refused(viewer, key, error)
        return done(f"/admin/cycles/{key}", "reopened")

    @post("/{key:str}/score", name="admin-cycle-score")
    async def score(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Redirect | Template:
        return await _started(request, viewer, "score", key)

    @get("/{key:str}/publish", name="admin-cycle-publish-confirm")
    async def publish_confirm(
        self, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Template:
        """What publishing freezes, and for whom."""
        try:
            preview = await publication_preview(key)
        except RapportError:
            raise NotFoundException("no such cycle") from None
        return page(
            "cycle_publish",
            viewer,
            "cycles",
            Text(N_("Publish %(cycle)s?"), {"cycle": key}),
            data={"preview": preview},
        )

    @post("/{key:str}/publish", name="admin-cycle-publish")
    async def publish(
        self, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Redirect | Template:
        try:
            await publish_cycle(key, acting(viewer))
        except RapportError as error:
            return await _refused(viewer, key, error)
        return done(f"/admin/cycles/{key}", "published")

    @post("/{key:str}/scorecards", name="admin-cycle-scorecards")
    async def scorecards(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Redirect | Template:
        """Render every scorecard of the cycle, then e-mail each to its audience."""
        return await _started(request, viewer, "scorecards", key)


async def _status_or_404(key: str, by: Grouping = "organisation") -> Any:
    try:
        return await cycle_status(key, by)
    except RapportError:
        raise NotFoundException("no such cycle") from None


async def _cycle_page(
    viewer: Viewer,
    key: str,
    by: Grouping = "organisation",
    search: str = "",
    page_number: int = 1,
    notice: str | None = None,
    error: str | Text | None = None,
) -> Template:
    report = await _status_or_404(key, by)
    try:
        waiting = await not_answered(key, search, page_number)
    except PastLastPageError:
        waiting = await not_answered(key, search, 1)
    return page(
        "cycle",
        viewer,
        "cycles",
        Text(N_("Cycle %(cycle)s"), {"cycle": key}),
        400 if error else 200,
        data={
            "report": report,
            "groupings": GROUPINGS,
            "waiting": waiting,
            "jobs": await latest_jobs(key, limit=10),
            "reviews": await publication_preview(key),
        },
        form={"by": by, "search": search},
        notice=notice,
        error=error,
    )


async def _refused(viewer: Viewer, key: str, error: RapportError) -> Template:
    """The cycle's page, saying why the step was refused."""
    return await _cycle_page(viewer, key, error=refusal(error))


async def _started(
    request: Any_Request, viewer: Viewer, kind: str, key: str
) -> Redirect | Template:
    """Start a step as background work on cycle `key` (here, or on the job queue); back to
    the cycle's page."""
    try:
        await cycle_by_key(key)
    except RapportError:
        raise NotFoundException("no such cycle") from None
    background: Background = request.app.state.background
    try:
        await background.start(kind, key, acting(viewer))
    except JobBusyError as error:
        return await _refused(viewer, key, error)
    # no notice in the address: the jobs list says it is running, and a refresh says more
    return Redirect(f"/admin/cycles/{key}#jobs", status_code=303)


async def _cycles_page(
    viewer: Viewer, notice: str | None = None, error: str | Text | None = None, form: Any = None
) -> Template:
    return page(
        "cycles",
        viewer,
        "cycles",
        N_("Cycles"),
        400 if error else 200,
        data={
            "cycles": await cycles_newest_first(),
            "instruments": await loaded_instruments(),
        },
        form=form or {},
        error=error,
        notice=notice,
    )
