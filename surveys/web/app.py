"""The Litestar application: pages, health check, and the database's lifespan."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from asyncpg.exceptions import CharacterNotInRepertoireError
from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from litestar.types import Logger, Scope

from surveys.attempts import AttemptLimit
from surveys.infra.database import close_pool, configured_engine, prepare, start_pool, use_engine
from surveys.infra.settings import Settings, load_settings
from surveys.infra.templating import TEMPLATES, prepared
from surveys.jobs import interrupted_jobs
from surveys.programme import Tools, tick_forever
from surveys.scorecards import close_web_pool, inline_styles
from surveys.web.admin import CONSOLE
from surveys.web.api import CyclesAPI
from surveys.web.auth import (
    VIEWER,
    SignInController,
    SignInRequired,
    sign_in_redirect,
    unstorable_text,
)
from surveys.web.headers import SecurityHeaders, redacted
from surveys.web.health import healthz, metrics
from surveys.web.languages import LanguageController, note_reader_language, page_language
from surveys.web.meetings import MeetingsController
from surveys.web.opened_marks import OpenedMarks
from surveys.web.pages import PagesController, error_page
from surveys.web.schema_page import SchemaPage
from surveys.web.scorecards import ScorecardsController
from surveys.web.survey import SurveyController
from surveys.web.tokens import TokensController
from surveys.web.workspace_api import WorkspaceAPI
from surveys.web.workspaces import WorkspacesController
from surveys.worker import InThisProcess, OnTheQueue, queue_app

SIGN_IN_ATTEMPTS = 10
"""Failed sign-ins a minute, per address and per e-mail, before a pause."""


class RedactSecretPaths(logging.Filter):
    """Keep link tokens (survey, sign-in, reset) out of access logs: a token in a log file
    is a working key."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redacted(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redacted(str(record.msg))
        return True


def log_exception(logger: Logger, scope: Scope, traceback: list[str]) -> None:
    """Log an unexpected error with survey tokens redacted; expected refusals are not errors.

    A 403 (a missing CSRF token), 404 or 429 is an answer the app chose to give, and
    the path of a link is a working key: neither belongs in the error log.
    """
    error = sys.exc_info()[1]
    if isinstance(error, HTTPException) and error.status_code < 500:
        return
    if isinstance(error, CharacterNotInRepertoireError):  # a NUL refused: answered with a 400
        return
    path = redacted(str(scope.get("path", "")))
    lines = redacted("".join(traceback))
    logger.error("Uncaught exception (%s %s):\n%s", scope.get("type"), path, lines)


def redact_access_logs() -> None:
    """Attach the token filter to the server's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecretPaths) for f in access.filters):
        access.addFilter(RedactSecretPaths())


def configure_templates(jinja: JinjaTemplateEngine) -> None:
    """Translations and contained direction controls in the templates; templates read once
    per process.

    Jinja otherwise checks every template file's time stamp on every render: a restart
    picks up changed templates.
    """
    prepared(jinja.engine, page_language)
    jinja.engine.auto_reload = False


def _programme_ticks(settings: Settings) -> tuple[asyncio.Event, asyncio.Task[None]] | None:
    """On the embedded SQLite default, run the programme in this process (no worker to
    start); on PostgreSQL `rapport worker` processes run it. The stop signal and the task."""
    if not settings.serves_programme():
        return None
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        tick_forever(Tools.from_settings(settings), stop), name="programme"
    )
    return stop, task


def create_app(settings: Settings | None = None) -> Litestar:
    """Return the application for `settings` (read from the environment by default)."""
    settings = settings or load_settings()
    engine = configured_engine(settings)
    redact_access_logs()

    opened = OpenedMarks()

    @asynccontextmanager
    async def database(_app: Litestar) -> AsyncIterator[None]:
        use_engine(engine)
        await prepare(engine)
        await start_pool(engine, max_size=settings.db_pool_size)
        stopped = await interrupted_jobs(dt.datetime.now(dt.UTC))
        if stopped:
            logging.getLogger(__name__).warning("%d background job(s) were interrupted", stopped)
        opened.start()
        ticking = _programme_ticks(settings)
        queue = None
        if settings.serves_programme():
            _app.state.background = InThisProcess(Tools.from_settings(settings))
        else:  # `rapport worker` processes run the work: the console queues it for them
            queue = await queue_app(settings).open_async()
            _app.state.background = OnTheQueue(queue)
        # what start-up built (modules, templates, caches) lives as long as the process: kept
        # out of the collector, a full collection stops a request for ~10 ms instead of ~80
        gc.freeze()
        try:
            yield
        finally:
            if ticking is not None:
                ticking[0].set()
                with suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(ticking[1], 30)
            if queue is not None:
                await queue.close_async()
            try:  # a database that stopped answering must not hold the shutdown
                await asyncio.wait_for(opened.stop(), 10)
            except TimeoutError:
                logging.getLogger(__name__).warning("opened links not recorded at shutdown")
            await close_pool(engine)

    return Litestar(
        route_handlers=[
            # the pages and their forms are for people, not programs: the API reference
            # (/schema) lists the JSON API and the health check only
            Router(
                "/",
                route_handlers=[
                    SignInController,
                    LanguageController,
                    WorkspacesController,
                    MeetingsController,
                    TokensController,
                    ScorecardsController,
                    PagesController,
                    SurveyController,
                    *CONSOLE,
                ],
                include_in_schema=False,
            ),
            WorkspaceAPI,
            CyclesAPI,
            healthz,
            metrics,
            create_static_files_router(path="/static", directories=[TEMPLATES / "static"]),
        ],
        # every page's `viewer`, from the session cookie; the workspace API provides its own
        dependencies={"viewer": VIEWER},
        before_request=note_reader_language,
        lifespan=[database],
        on_shutdown=[close_web_pool],
        before_send=[SecurityHeaders(inline_styles())],
        exception_handlers={
            SignInRequired: sign_in_redirect,
            CharacterNotInRepertoireError: unstorable_text,
            HTTPException: error_page,
        },
        state=State(
            {
                "settings": settings,
                "guesses": AttemptLimit("link", settings.link_rate),
                "sign_in_guesses": AttemptLimit("sign_in", SIGN_IN_ATTEMPTS),
                "opened": opened,
            }
        ),
        template_config=TemplateConfig(
            directory=TEMPLATES,
            engine=JinjaTemplateEngine,
            engine_callback=configure_templates,
        ),
        # the survey form has no account behind it: a double-submit cookie guards its POSTs
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.public_url.startswith("https://"),
            cookie_samesite="strict",
        ),
        openapi_config=OpenAPIConfig(
            title="Rapport", version="0.1.0", path="/schema", render_plugins=[SchemaPage()]
        ),
        logging_config=LoggingConfig(
            log_exceptions="always", exception_logging_handler=log_exception
        ),
    )
