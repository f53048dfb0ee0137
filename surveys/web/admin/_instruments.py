"""The console's instruments: the loaded versions, each questionnaire previewed exactly as
a respondent sees it, and a new version loaded from a TOML file (the same check and load
as `rapport instruments load`: every problem named by line and field, nothing written)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.infra.errors import FileError
from surveys.infra.i18n import LANGUAGES, N_, Text, choose_language
from surveys.instruments import load_instruments, parse_instrument
from surveys.instruments.catalogue import loaded_instruments
from surveys.web.admin._common import done, notice_of, page
from surveys.web.auth import RecordId
from surveys.web.reach import administrators_only
from surveys.web.survey import preview_page

Any_Request = Request[Any, Any, Any]
INSTRUMENT_FILE_LIMIT = 512 * 1024
"""Bytes an instrument file may have (the bundled ones are under 40 kB)."""


class InstrumentsConsole(Controller):
    """Questionnaires (administrators only; others get 404)."""

    path = "/admin/instruments"
    guards = (administrators_only,)

    @get("/", name="admin-instruments")
    async def instruments(self, request: Any_Request, viewer: NamedDependency[Viewer]) -> Template:
        return await _listing(viewer, notice=notice_of(request))

    @get("/{instrument_id:int}/preview", name="admin-instrument-preview")
    async def preview(
        self, request: Any_Request, instrument_id: RecordId, lang: FromQuery[str] = "en"
    ) -> Template:
        """The questionnaire in `lang`, about an example partner, with nothing to post to."""
        found = {i.id: i for i in await loaded_instruments()}.get(instrument_id)
        if found is None:
            raise NotFoundException("no such instrument")
        language = choose_language(lang) if lang in found.languages else "en"
        cycle = f"{found.key} v{found.version}"
        return await preview_page(instrument_id, cycle, language, request)

    @post("/", name="admin-instrument-load")
    async def load(
        self, request: Any_Request, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        """Check an uploaded instrument file whole, then load it (or say why not)."""
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _listing(
                viewer, error=Text(N_("Choose an instrument file (.toml) to load."))
            )
        content = await upload.read(INSTRUMENT_FILE_LIMIT + 1)
        if len(content) > INSTRUMENT_FILE_LIMIT:
            return await _listing(
                viewer, error=Text(N_("That file is too large for an instrument."))
            )
        name = Path(upload.filename).name or "instrument.toml"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(content)
            try:
                parse_instrument(path)
                outcomes = await load_instruments([path], actor=viewer.who.email)
            except FileError as error:
                said = {"file": name, "field": error.field, "problem": error.problem}
                message = (
                    Text(
                        N_("%(file)s: line %(line)s, %(field)s: %(problem)s. Nothing was loaded."),
                        {**said, "line": error.line},
                    )
                    if error.line
                    else Text(N_("%(file)s: %(field)s: %(problem)s. Nothing was loaded."), said)
                )
                return await _listing(viewer, error=message)
        if all(o.status == "unchanged" for o in outcomes):
            return await _listing(
                viewer, notice=Text(N_("That version was already loaded: no change."))
            )
        return done("/admin/instruments/", "loaded")


async def _listing(
    viewer: Viewer, notice: str | Text | None = None, error: str | Text | None = None
) -> Template:
    return page(
        "instruments",
        viewer,
        "instruments",
        N_("Instruments"),
        400 if error else 200,
        data={"instruments": await loaded_instruments(), "languages": LANGUAGES},
        notice=notice,
        error=error,
    )
