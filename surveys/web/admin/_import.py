"""The console's directory import: upload a CTMS or CRM export (and its mapping), see the
change set or every problem by line and column, then confirm; the same functions as
`rapport directory import` (`--dry-run` is the preview).

Between the preview and the confirmation the upload waits in the server's var folder
under a random name (`PendingImports`), so the file confirmed is the file previewed,
byte for byte; a pending upload not confirmed within an hour is thrown away.
"""

from __future__ import annotations

import json
import secrets
import time
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
from surveys.web.reach import administrators_only

Any_Request = Request[Any, Any, Any]
TITLE = N_("Import a directory file")
UPLOAD_LIMIT = 50 * 1024 * 1024
"""Bytes a directory file may have (a 50,000-row export is about 7 MB)."""
PENDING_SECONDS = 3600
"""How long an upload waits for its confirmation."""


@dataclass(frozen=True)
class Upload:
    """A directory file as uploaded, with its mapping and whether to sync."""

    filename: str
    content: bytes
    mapping: bytes | None
    mapping_name: str
    sync: bool


class PendingImports:
    """Uploads previewed and waiting for their confirmation, one folder each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def keep(self, upload: Upload) -> str:
        """Keep an upload; return the key its confirmation names."""
        self._forget_old()
        key = secrets.token_urlsafe(24)
        here = self.folder / key
        here.mkdir(parents=True)
        (here / "file").write_bytes(upload.content)
        if upload.mapping is not None:
            (here / "mapping").write_bytes(upload.mapping)
        about = {"filename": upload.filename, "mapping": upload.mapping_name, "sync": upload.sync}
        (here / "about.json").write_text(json.dumps(about), encoding="utf-8")
        return key

    def take(self, key: str) -> Upload | None:
        """The upload kept under `key`, if it is there and not too old."""
        if not key.replace("-", "").replace("_", "").isalnum():
            return None
        here = self.folder / key
        about_path = here / "about.json"
        if not about_path.is_file() or time.time() - about_path.stat().st_mtime > PENDING_SECONDS:
            return None
        about = json.loads(about_path.read_text(encoding="utf-8"))
        mapping = here / "mapping"
        return Upload(
            filename=about["filename"],
            content=(here / "file").read_bytes(),
            mapping=mapping.read_bytes() if mapping.is_file() else None,
            mapping_name=about["mapping"],
            sync=bool(about["sync"]),
        )

    def forget(self, key: str) -> None:
        """Throw an upload away (once imported)."""
        here = self.folder / key
        for part in here.glob("*"):
            part.unlink()
        here.rmdir()

    def _forget_old(self) -> None:
        if not self.folder.is_dir():
            return
        for here in self.folder.iterdir():
            about = here / "about.json"
            if not about.is_file() or time.time() - about.stat().st_mtime > PENDING_SECONDS:
                for part in here.glob("*"):
                    part.unlink()
                here.rmdir()


def _pending(request: Any_Request) -> PendingImports:
    return PendingImports(request.app.state.settings.var_dir / "pending-imports")


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
        key = _pending(request).keep(upload)
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
        upload = pending.take(key)
        if upload is None:
            raise NotFoundException("this preview has expired: upload the file again")
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
