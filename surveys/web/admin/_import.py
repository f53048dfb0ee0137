"""The console's directory import: upload a CTMS or CRM export (and its mapping), see the
change set or every problem by line and column, then confirm; the same functions as
`rapport directory import` (`--dry-run` is the preview).

Between the preview and the confirmation the upload waits in the server's var folder
under a random name (`surveys.web.admin._pending`), so the file confirmed is the file previewed,
byte for byte; a pending upload not confirmed within an hour is thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.directory.directory_import import (
    ChangeSet,
    DirectoryFileError,
    apply_directory,
    directory_mapping,
    plan_directory,
    read_directory,
)
from surveys.infra.errors import FileError
from surveys.infra.i18n import N_, Text
from surveys.web.admin._common import acting, page
from surveys.web.admin._pending import Pending, PendingUploads
from surveys.web.reach import administrators_only

Any_Request = Request[Any, Any, Any]
TITLE = N_("Import a directory file")
UPLOAD_LIMIT = 50 * 1024 * 1024
"""Bytes a directory file may have (a 50,000-row export is about 7 MB)."""


@dataclass(frozen=True)
class Upload:
    """A directory file as uploaded, with its mapping and whether to sync."""

    filename: str
    content: bytes
    mapping: bytes | None
    mapping_name: str
    sync: bool


def _pending(request: Any_Request) -> PendingUploads:
    return PendingUploads(request.app.state.settings.var_dir / "pending-imports")


def _kept(upload: Upload, request: Any_Request) -> str:
    """Keep a previewed upload for its confirmation; the key it is kept under."""
    files = {"file": (upload.filename, upload.content)}
    if upload.mapping is not None:
        files["mapping"] = (upload.mapping_name, upload.mapping)
    return _pending(request).keep(files, {"sync": upload.sync}).key


def _taken(pending: Pending) -> Upload:
    """The upload as it was previewed."""
    mapping = pending.files.get("mapping")
    return Upload(
        filename=pending.name("file"),
        content=pending.files["file"].read_bytes(),
        mapping=mapping.read_bytes() if mapping else None,
        mapping_name=pending.name("mapping"),
        sync=bool(pending.about["sync"]),
    )


async def _upload_of(request: Any_Request) -> Upload | Text:
    """The upload a form posted, or why it cannot be used."""
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return Text(N_("Choose the directory file (CSV or XLSX) to import."))
    content = await file.read(UPLOAD_LIMIT + 1)
    if len(content) > UPLOAD_LIMIT:
        return Text(N_("That file is larger than 50 MB; split it, or import it with the command."))
    mapping = form.get("mapping")
    mapping_bytes, mapping_name = None, ""
    if isinstance(mapping, UploadFile) and mapping.filename:
        mapping_bytes = await mapping.read(1024 * 1024)
        mapping_name = Path(mapping.filename).name
    return Upload(
        filename=Path(file.filename).name,
        content=content,
        mapping=mapping_bytes,
        mapping_name=mapping_name,
        sync=form.get("sync") == "1",
    )


async def _changes(upload: Upload, act: Any = None) -> ChangeSet:
    """Read, check and plan (or, given an act, apply) an upload."""
    mapping = directory_mapping(upload.mapping, upload.mapping_name)
    found = read_directory(upload.content, upload.filename, None, mapping)
    if act is None:
        return await plan_directory(found, upload.sync)
    return await apply_directory(found, upload.sync, act)


class DirectoryImportConsole(Controller):
    """Directory files (administrators only; others get 404)."""

    path = "/admin/directory/import"
    guards = (administrators_only,)

    @get("/", name="admin-import")
    async def form(self, viewer: NamedDependency[Viewer]) -> Template:
        return page("import", viewer, "directory", TITLE)

    @post("/", name="admin-import-preview")
    async def preview(self, request: Any_Request, viewer: NamedDependency[Viewer]) -> Template:
        """Check the whole file against the directory; show every problem, or the change set
        with a button that imports exactly this file."""
        upload = await _upload_of(request)
        if isinstance(upload, Text):
            return page("import", viewer, "directory", TITLE, 400, error=upload)
        try:
            changes = await _changes(upload)
        except DirectoryFileError as error:
            return page(
                "import",
                viewer,
                "directory",
                TITLE,
                400,
                data={"problems": error.problems, "filename": error.filename},
                error=Text(
                    N_("%(file)s cannot be imported as it is: nothing was written."),
                    {"file": upload.filename},
                ),
            )
        except FileError as error:
            return page("import", viewer, "directory", TITLE, 400, error=str(error))
        key = _kept(upload, request)
        return page(
            "import_preview",
            viewer,
            "directory",
            Text(N_("Import %(file)s?"), {"file": upload.filename}),
            data={"changes": changes, "key": key},
        )

    @post("/{key:str}", name="admin-import-confirm")
    async def confirm(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        """Import the previewed file, all of it or (if the directory changed meanwhile and
        it no longer fits) nothing."""
        pending = _pending(request)
        kept = pending.take(key)
        if kept is None:
            raise NotFoundException("this preview has expired: upload the file again")
        upload = _taken(kept)
        try:
            changes = await _changes(upload, acting(viewer))
        except DirectoryFileError as error:
            return page(
                "import",
                viewer,
                "directory",
                TITLE,
                400,
                data={"problems": error.problems, "filename": error.filename},
                error=Text(
                    N_("%(file)s no longer fits the directory: nothing was written."),
                    {"file": upload.filename},
                ),
            )
        pending.forget(key)
        return page(
            "import_preview",
            viewer,
            "directory",
            Text(N_("Imported %(file)s"), {"file": upload.filename}),
            data={"changes": changes, "key": None},
            notice=N_("Imported.")
            if not changes.changes_nothing
            else N_("Nothing needed to change."),
        )
