"""The console's response import: upload a file of responses collected with another tool
(plain CSV or XLSX, a Qualtrics or REDCap export) and its mapping, pick the cycle, see what
the import would do or every problem by line, then confirm; the same function as
`rapport import responses` (`--check` is the preview).

Between the check and the confirmation the files wait in the server's var folder under a
random name, as the directory import's do (same size limit, same hour), so the file
imported is the file checked, byte for byte. The import reads them from there; its
messages, which name a file by its path, are shown with the name it was uploaded under.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path, PureWindowsPath
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from surveys.accounts.policy import Viewer
from surveys.infra.i18n import N_, Text
from surveys.responses.imports import (
    FORMATS,
    ImportFileError,
    ImportSummary,
    cycles_taking_responses,
    format_for,
    import_responses,
    load_mapping,
    said_text,
)
from surveys.web.admin._common import acting, page
from surveys.web.admin._import import PENDING_SECONDS, UPLOAD_LIMIT
from surveys.web.reach import administrators_only

Any_Request = Request[Any, Any, Any]
MAPPING_LIMIT = 1024 * 1024
"""Bytes a mapping file may have (the directory import's limit too)."""
TITLE = N_("Import responses")
_KEY = re.compile(r"[A-Za-z0-9_-]{20,64}")
_FORMAT_NAMES = {
    "csv": N_("Plain CSV"),
    "xlsx": N_("Plain XLSX workbook"),
    "qualtrics": N_("Qualtrics export"),
    "redcap": N_("REDCap export"),
}
"""How the form names each of FORMATS (marked, shown with `| translate`)."""


@dataclass(frozen=True)
class ResponseUpload:
    """A response file as uploaded, with its mapping and what the form chose."""

    filename: str
    content: bytes
    mapping: bytes | None
    mapping_name: str
    cycle_key: str
    file_format: str
    """As chosen, or from the file's name when the form left it to that."""


@dataclass(frozen=True)
class Unusable:
    """Why a posted form cannot be checked, and the field to mark."""

    field: str
    message: Text


@dataclass(frozen=True)
class KeptUpload:
    """An upload waiting in the var folder: where its files are, and what they are for."""

    key: str
    file: Path
    filename: str
    mapping: Path | None
    mapping_name: str
    cycle_key: str
    file_format: str

    def told(self, error: ImportFileError) -> Told:
        """The import's problems as the page lists them, in the reader's language, naming
        the files as they were uploaded."""
        names = {str(self.file): self.filename}
        if self.mapping is not None:
            names[str(self.mapping)] = self.mapping_name
        problems = error.problems
        if not problems:  # a message with no marked problem: the English, files renamed
            text = str(error)
            for path, name in names.items():
                text = text.replace(path, name)
            problems = tuple(
                (0, Text(line.strip().replace("%", "%%"))) for line in text.splitlines()
            )
        # the response file is named by the headline; another (the mapping) by its own name
        other = names.get(error.file or "", error.file) if error.file != str(self.file) else None
        return Told(
            count=error.count if error.counted else None,
            more=error.more,
            lines=[
                ToldLine(line, text, text.message.startswith("column "), other)
                for line, text in problems
            ],
        )


@dataclass(frozen=True)
class ToldLine:
    """One problem of a refused file: on a line (0: the file as a whole), in a column when
    its text starts "column …", in a file other than the responses (the mapping) if named."""

    line: int
    text: Text
    in_column: bool
    file: str | None


@dataclass(frozen=True)
class Told:
    """A refused file's problems: how many (None when the import named only one), the
    lines listed, and how many more there are."""

    count: int | None
    more: int
    lines: list[ToldLine]


class PendingResponseFiles:
    """Response files checked and waiting for their confirmation, one folder each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def keep(self, upload: ResponseUpload) -> KeptUpload:
        """Keep an upload, each file under the name it was uploaded with."""
        self._forget_old()
        key = secrets.token_urlsafe(24)
        here = self.folder / key
        (here / "file").mkdir(parents=True)
        (here / "file" / upload.filename).write_bytes(upload.content)
        if upload.mapping is not None:
            (here / "mapping").mkdir()
            (here / "mapping" / upload.mapping_name).write_bytes(upload.mapping)
        about = {
            "filename": upload.filename,
            "mapping": upload.mapping_name if upload.mapping is not None else None,
            "cycle": upload.cycle_key,
            "format": upload.file_format,
        }
        (here / "about.json").write_text(json.dumps(about), encoding="utf-8")
        return _kept(key, here, about)

    def take(self, key: str) -> KeptUpload | None:
        """The upload kept under `key`, if it is there and not too old."""
        if not _KEY.fullmatch(key):
            return None
        here = self.folder / key
        about_path = here / "about.json"
        if not about_path.is_file() or time.time() - about_path.stat().st_mtime > PENDING_SECONDS:
            return None
        return _kept(key, here, json.loads(about_path.read_text(encoding="utf-8")))

    def forget(self, key: str) -> None:
        """Throw an upload away (imported, or refused); twice is harmless (a double click)."""
        if _KEY.fullmatch(key):
            shutil.rmtree(self.folder / key, ignore_errors=True)

    def _forget_old(self) -> None:
        if not self.folder.is_dir():
            return
        for here in self.folder.iterdir():
            about = here / "about.json"
            if not about.is_file() or time.time() - about.stat().st_mtime > PENDING_SECONDS:
                shutil.rmtree(here, ignore_errors=True)


def _kept(key: str, here: Path, about: dict[str, Any]) -> KeptUpload:
    """The upload in folder `here`, as its about.json describes it."""
    return KeptUpload(
        key=key,
        file=here / "file" / about["filename"],
        filename=about["filename"],
        mapping=here / "mapping" / about["mapping"] if about["mapping"] else None,
        mapping_name=about["mapping"] or "",
        cycle_key=about["cycle"],
        file_format=about["format"],
    )


def _pending(request: Any_Request) -> PendingResponseFiles:
    return PendingResponseFiles(request.app.state.settings.var_dir / "pending-responses")


def _uploaded_name(raw: str, fallback: str) -> str:
    """A file name as a browser sent it, safe to write in the upload's own folder: no
    folders (Windows' or others'), no control characters, not too long."""
    name = "".join(c for c in PureWindowsPath(raw).name if c.isprintable() and c != "/")
    return name[-150:] if name not in {"", ".", ".."} else fallback


async def _upload_of(request: Any_Request) -> tuple[ResponseUpload | Unusable, dict[str, str]]:
    """The upload a form posted (or why it cannot be used), and the choices to show again."""
    form = await request.form()
    chosen = {"cycle": str(form.get("cycle") or ""), "format": str(form.get("format") or "")}
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return Unusable(
            "file", Text(N_("Choose the file of responses (CSV or XLSX) to import."))
        ), chosen
    if not chosen["cycle"]:
        return Unusable("cycle", Text(N_("Choose the cycle the responses belong to."))), chosen
    content = await file.read(UPLOAD_LIMIT + 1)
    if len(content) > UPLOAD_LIMIT:
        too_big = Text(
            N_("That file is larger than 50 MB; split it, or import it with the command.")
        )
        return Unusable("file", too_big), chosen
    mapping = form.get("mapping")
    mapping_bytes, mapping_name = None, ""
    if isinstance(mapping, UploadFile) and mapping.filename:
        mapping_bytes = await mapping.read(MAPPING_LIMIT + 1)
        if len(mapping_bytes) > MAPPING_LIMIT:
            return Unusable(
                "mapping", Text(N_("That mapping is larger than 1 MB: is it the right file?"))
            ), chosen
        mapping_name = _uploaded_name(mapping.filename, "mapping.toml")
    filename = _uploaded_name(file.filename, "responses.csv")
    upload = ResponseUpload(
        filename=filename,
        content=content,
        mapping=mapping_bytes,
        mapping_name=mapping_name,
        cycle_key=chosen["cycle"],
        file_format=chosen["format"] or format_for(filename),
    )
    return upload, chosen


async def _imported(kept: KeptUpload, actor: str, check_only: bool) -> ImportSummary:
    """Check (or import) a kept upload with its mapping, as the command does."""
    mapping = load_mapping(kept.mapping, kept.file_format)
    now = dt.datetime.now(dt.UTC)
    return await import_responses(
        kept.file,
        kept.cycle_key,
        kept.file_format,
        mapping,
        now,
        actor,
        check_only,
        source=kept.filename,
    )


async def _form(viewer: Viewer, status: int = 200, **parts: Any) -> Template:
    """The upload form (again, after a refusal, with the cycle and format chosen)."""
    data = {
        "cycles": await cycles_taking_responses(),
        "formats": [(f, _FORMAT_NAMES[f]) for f in FORMATS],
        **parts.pop("data", {}),
    }
    return page("responses_import", viewer, "responses", TITLE, status, data=data, **parts)


async def _refused(
    viewer: Viewer, kept: KeptUpload, error: ImportFileError, chosen: dict[str, str], when: str
) -> Template:
    """The form again with every problem the import named, as it listed them (`when`: a
    marked sentence with the file's name as `%(file)s`)."""
    told = kept.told(error)
    problems = {
        "headline": Text(when, {"file": kept.filename}),
        "told": told,
        "file": kept.filename,
    }
    return await _form(viewer, 400, form=chosen, data={"problems": problems})


def _read(summary: ImportSummary) -> dict[str, Any]:
    """The summary's notes (as sentences) and kinds of rows left out, as marked texts the
    page shows in its reader's language (an unmarked one stays as written)."""
    notes = [
        replace(text, sentence=True)
        if isinstance(text := said_text(note), Text)
        else Text(text.replace("%", "%%"), sentence=True)
        for note in summary.notes
    ]
    ordered = sorted(summary.left_out_by_kind.items(), key=lambda pair: pair[0].casefold())
    kinds = [(said_text(kind), n) for kind, n in ordered]
    return {"notes": notes, "kinds": kinds}


class ResponseImportConsole(Controller):
    """Response files from other survey tools (administrators only; others get 404)."""

    path = "/admin/responses/import"
    guards = (administrators_only,)

    @get("/", name="admin-responses-import")
    async def form(self, viewer: NamedDependency[Viewer]) -> Template:
        return await _form(viewer)

    @post("/", name="admin-responses-import-check")
    async def check(self, request: Any_Request, viewer: NamedDependency[Viewer]) -> Template:
        """Check the whole file against the cycle as the import would (writing nothing);
        show every problem, or what the import would do with a button that imports
        exactly this file."""
        upload, chosen = await _upload_of(request)
        if isinstance(upload, Unusable):
            return await _form(
                viewer, 400, form=chosen, error=upload.message, error_field=upload.field
            )
        pending = _pending(request)
        kept = pending.keep(upload)
        try:
            summary = await _imported(kept, acting(viewer).actor, check_only=True)
        except ImportFileError as error:
            pending.forget(kept.key)
            return await _refused(
                viewer,
                kept,
                error,
                chosen,
                N_("%(file)s cannot be imported as it is: nothing was written."),
            )
        title = Text(
            N_("Import %(file)s into %(cycle)s?"), {"file": kept.filename, "cycle": kept.cycle_key}
        )
        return page(
            "responses_import_preview",
            viewer,
            "responses",
            title,
            data={"summary": summary, "kept": kept, "key": kept.key, **_read(summary)},
        )

    @post("/{key:str}", name="admin-responses-import-confirm")
    async def confirm(
        self, request: Any_Request, key: FromPath[str], viewer: NamedDependency[Viewer]
    ) -> Template:
        """Import the checked file, all of it or (if the cycle's responses changed
        meanwhile and it no longer fits) nothing."""
        pending = _pending(request)
        kept = pending.take(key)
        if kept is None:
            raise NotFoundException("this check has expired: upload the file again")
        try:
            summary = await _imported(kept, acting(viewer).actor, check_only=False)
        except ImportFileError as error:
            pending.forget(key)
            chosen = {"cycle": kept.cycle_key, "format": kept.file_format}
            return await _refused(
                viewer,
                kept,
                error,
                chosen,
                N_("%(file)s no longer fits the cycle: nothing was written."),
            )
        pending.forget(key)
        return page(
            "responses_import_preview",
            viewer,
            "responses",
            Text(
                N_("Imported %(file)s into %(cycle)s"),
                {"file": kept.filename, "cycle": kept.cycle_key},
            ),
            data={"summary": summary, "kept": kept, "key": None, **_read(summary)},
            notice=N_("Imported.") if summary.imported else N_("Nothing needed to change."),
        )
