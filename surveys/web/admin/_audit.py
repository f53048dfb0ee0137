"""The console's home and its audit log (filtered, in pages, and as a CSV download)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Stream, Template

from surveys.accounts.policy import Viewer
from surveys.directory.audit_log import AuditFilter, audit_actions, audit_csv, audit_page
from surveys.directory.listing import organisations_page, people_page, relationships_page
from surveys.infra.i18n import N_
from surveys.jobs import latest_jobs
from surveys.web.admin._common import PageNumber, listing, page
from surveys.web.reach import administrators_only


class ConsoleHome(Controller):
    """The console's first page and its audit log (administrators only; others get 404)."""

    path = "/admin"
    guards = (administrators_only,)

    @get("/", name="admin")
    async def home(self, viewer: NamedDependency[Viewer]) -> Template:
        """What the directory holds, and the latest background work."""
        counts = {
            "organisations": (await organisations_page(per_page=1)).total,
            "people": (await people_page(per_page=1)).total,
            "relationships": (await relationships_page(per_page=1)).total,
        }
        return page(
            "home",
            viewer,
            "home",
            N_("Console"),
            data={"counts": counts, "jobs": await latest_jobs(limit=5)},
        )

    @get("/audit", name="admin-audit")
    async def audit(
        self,
        viewer: NamedDependency[Viewer],
        who: FromQuery[str] = "",
        action: FromQuery[str] = "",
        record_table: FromQuery[str] = "",
        record_id: FromQuery[str] = "",
        since: FromQuery[dt.date | None] = None,
        until: FromQuery[dt.date | None] = None,
        page_number: PageNumber = 1,
    ) -> Template:
        """Who did what to which record and when, newest first."""
        filter_ = AuditFilter(who, action, record_table, record_id, since, until)
        query = _query(filter_)
        found = await listing(_read(filter_), query, page_number)
        return page(
            "audit",
            viewer,
            "audit",
            N_("Audit log"),
            data={"list": found, "actions": await audit_actions()},
            form=query,
        )

    @get("/audit.csv", name="admin-audit-csv")
    async def audit_download(
        self,
        request: Request[Any, Any, Any],
        who: FromQuery[str] = "",
        action: FromQuery[str] = "",
        record_table: FromQuery[str] = "",
        record_id: FromQuery[str] = "",
        since: FromQuery[dt.date | None] = None,
        until: FromQuery[dt.date | None] = None,
    ) -> Stream:
        """The entries the filter keeps, as CSV, streamed (the log can be long)."""
        filter_ = AuditFilter(who, action, record_table, record_id, since, until)
        return Stream(
            audit_csv(filter_),
            media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
            headers={"Content-Disposition": 'attachment; filename="rapport-audit.csv"'},
        )


def _query(filter_: AuditFilter) -> dict[str, str]:
    """The filter as typed, for the form and the page and download links."""
    return {
        "who": filter_.who,
        "action": filter_.action,
        "record_table": filter_.record_table,
        "record_id": filter_.record_id,
        "since": filter_.since.isoformat() if filter_.since else "",
        "until": filter_.until.isoformat() if filter_.until else "",
    }


def _read(filter_: AuditFilter) -> Any:
    async def read(number: int, per_page: int) -> Any:
        return await audit_page(filter_, number, per_page)

    return read
