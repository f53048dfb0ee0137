"""The directory import's three steps, as the command and the console call them:
read a file, preview its changes, apply them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from surveys.directory import audit
from surveys.directory.audit import Act
from surveys.directory.directory_import._changes import ChangeSet
from surveys.directory.directory_import._check import DirectoryFile, checked_file
from surveys.directory.directory_import._mapping import CANONICAL, DirectoryMapping
from surveys.directory.directory_import._plan import plan
from surveys.directory.directory_import._problems import DirectoryFileError, refused
from surveys.directory.directory_import._read import format_for, read_sheet
from surveys.directory.directory_import._records import Writes
from surveys.directory.directory_import._store import EXPLICIT_IDS, stored_directory, write
from surveys.directory.organisations import Organisation
from surveys.infra.database import lock_for_explicit_ids, writing_transaction


def read_directory(
    data: bytes | Path,
    filename: str | None = None,
    file_format: str | None = None,
    mapping: DirectoryMapping = CANONICAL,
) -> DirectoryFile:
    """Read a directory file (a path, or an upload's bytes and name) and check it on its own.

    The format is `csv` or `xlsx`; by default the name's suffix decides. Raises
    DirectoryFileError when the file cannot be read as a table (not text, no headings,
    merged or repeated headings, a column the mapping names missing). Problems in its
    rows are kept in `problems` and raised by `plan_directory` with the database's own,
    so that one attempt lists them all.
    """
    if isinstance(data, Path):
        filename = filename or str(data)
        try:
            data = data.read_bytes()
        except OSError as error:
            raise DirectoryFileError(filename, [refused(0, "", error)]) from None
    name = filename or "upload"
    sheet = read_sheet(data, name, format_for(name, file_format))
    return checked_file(sheet, mapping, name)


async def plan_directory(file: DirectoryFile, sync: bool = False) -> ChangeSet:
    """What importing the file would change, written nowhere (the preview, `--dry-run`).

    Raises DirectoryFileError listing every problem of the file and against the database.
    """
    changes, _ = await _planned(file, sync, dt.datetime.now(dt.UTC))
    return changes


async def apply_directory(file: DirectoryFile, sync: bool, act: Act) -> ChangeSet:
    """Import the file: all of it in one transaction with one audit entry, or nothing.

    With `sync`, stored organisations, people and relationships the file does not list
    are deactivated (never deleted: past answers keep what they point at), and people no
    longer listed on a relationship are taken off it.
    """
    async with writing_transaction(Organisation._meta.db):
        # read under the write lock, so the plan is of the directory the writes change
        await lock_for_explicit_ids(list(EXPLICIT_IDS))
        changes, writes = await _planned(file, sync, act.at)
        await write(writes)
        await audit.record(
            act.actor,
            "directory.import",
            "directory",
            Path(file.filename).name[:60],  # the record id's column holds 60; the detail the rest
            changes.counts(),
            act.person_id,
        )
    return changes


async def _planned(file: DirectoryFile, sync: bool, now: dt.datetime) -> tuple[ChangeSet, Writes]:
    changes, writes, problems = plan(file, await stored_directory(), sync, now)
    if problems:
        raise DirectoryFileError(file.filename, problems)
    return changes, writes
