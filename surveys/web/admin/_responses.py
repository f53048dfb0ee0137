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
from dataclasses import dataclass, replace
from pathlib import Path
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
from surveys.web.admin._import import UPLOAD_LIMIT
from surveys.web.admin._pending import Pending, PendingUploads, uploaded_name
from surveys.web.reach import administrators_only

Any_Request = Request[Any, Any, Any]
MAPPING_LIMIT = 1024 * 1024
"""Bytes a mapping file may have (the directory import's limit too)."""
TITLE = N_("Import responses")
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


def _kept(pending: Pending) -> KeptUpload:
    """A response file kept for its confirmation, as the pages name it."""
    mapping = pending.files.get("mapping")
    return KeptUpload(
        key=pending.key,
        file=pending.files["file"],
        filename=pending.name("file"),
        mapping=mapping,
        mapping_name=pending.name("mapping"),
        cycle_key=pending.about["cycle"],
        file_format=pending.about["format"],
    )


def _pending(request: Any_Request) -> PendingUploads:
    return PendingUploads(request.app.state.settings.var_dir / "pending-responses")


def _keep(request: Any_Request, upload: ResponseUpload) -> KeptUpload:
    """Keep a checked upload for its confirmation."""
    files = {"file": (upload.filename, upload.content)}
    if upload.mapping is not None:
        files["mapping"] = (upload.mapping_name, upload.mapping)
    about = {"cycle": upload.cycle_key, "format": upload.file_format}
    return _kept(_pending(request).keep(files, about))


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
        mapping_name = uploaded_name(mapping.filename, "mapping.toml")
    filename = uploaded_name(file.filename, "responses.csv")
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
        kept = _keep(request, upload)
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
        waiting = pending.take(key)
        if waiting is None:
            raise NotFoundException("this check has expired: upload the file again")
        kept = _kept(waiting)
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
