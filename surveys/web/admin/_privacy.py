"""A person's own data in the console (GDPR articles 15 and 17): everything held on them as
a JSON download, and their erasure behind a confirmation. The same functions as
`rapport person export` and `rapport person erase`."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.directory.listing import person_record
from surveys.infra.i18n import N_, Text
from surveys.privacy import ErasureError, UnknownPersonError, erase_person, personal_data
from surveys.privacy.personal_data import RECORD_KINDS
from surveys.web.admin._common import acting, done, form_of, notice_of, page
from surveys.web.auth import RecordId
from surveys.web.contexts._forms import refusal
from surveys.web.reach import administrators_only

Any_Request = Request[Any, Any, Any]


class PrivacyConsole(Controller):
    """A person's data: export and erasure (administrators only; others get 404)."""

    path = "/admin/people/{person_id:int}"
    guards = (administrators_only,)

    @get("/data", name="admin-person-data")
    async def data(
        self, request: Any_Request, person_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template:
        return await _data_page(viewer, person_id, notice=notice_of(request))

    @get("/data.json", name="admin-person-data-json")
    async def download(self, person_id: RecordId) -> Response[str]:
        """Everything held on the person, as one JSON file (article 15)."""
        try:
            held = await personal_data(person_id)
        except UnknownPersonError:
            raise NotFoundException("no such person") from None
        return Response(
            json.dumps(held, ensure_ascii=False, indent=2, sort_keys=True),
            media_type="application/json; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="rapport-person-{person_id}.json"',
                "Cache-Control": "no-store",
            },
        )

    @post("/erase", name="admin-person-erase")
    async def erase(
        self, request: Any_Request, person_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        """Erase the person once their e-mail address is typed again (article 17)."""
        record = await person_record(person_id)
        if record is None:
            raise NotFoundException("no such person")
        typed = str((await form_of(request)).get("confirm", "")).strip().lower()
        if typed != record["email"]:
            error = Text(N_("Type the person's e-mail address exactly to confirm the erasure."))
            return await _data_page(viewer, person_id, error=error)
        try:
            await erase_person(person_id, acting(viewer))
        except ErasureError as error:
            return await _data_page(viewer, person_id, error=refusal(error))
        return done(f"/admin/people/{person_id}/data", "erased")


async def _data_page(
    viewer: Viewer, person_id: int, notice: str | None = None, error: str | Text | None = None
) -> Template:
    record = await person_record(person_id)
    if record is None:
        raise NotFoundException("no such person")
    held = await personal_data(person_id)
    counts = {key: len(value) for key, value in held.items() if isinstance(value, list)}
    return page(
        "person_data",
        viewer,
        "directory",
        Text(N_("%(name)s: their data"), {"name": record["name"]}),
        400 if error else 200,
        data={"record": record, "counts": counts, "kinds": RECORD_KINDS},
        notice=notice,
        error=error,
    )
