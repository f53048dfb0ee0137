"""Uploads checked and waiting for their confirmation (the directory file, a response file).

A preview and its confirmation are two requests: the upload is kept in the var folder
under a random key, so the file confirmed is the file previewed, and a confirmation names
it by key only. Each upload has a folder: its files, each under the name it was uploaded
with and the role it plays (`file`, `mapping`), and `about.json`, what the form said of it.
Uploads older than PENDING_SECONDS are thrown away at the next upload.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

PENDING_SECONDS = 3600
"""How long an upload waits for its confirmation."""
_KEY = re.compile(r"[A-Za-z0-9_-]{20,64}")
"""What a key looks like (secrets.token_urlsafe(24)); anything else names no upload."""


def uploaded_name(raw: str, fallback: str) -> str:
    """A file name as a browser sent it, safe to write in the upload's own folder: no
    folders (Windows' or others'), no control characters, not too long."""
    name = "".join(c for c in PureWindowsPath(raw).name if c.isprintable() and c != "/")
    return name[-150:] if name not in {"", ".", ".."} else fallback


@dataclass(frozen=True)
class Pending:
    """An upload waiting in the var folder."""

    key: str
    files: dict[str, Path]
    """Role → the file, under the name it was uploaded with."""
    about: dict[str, Any]
    """What the form said of it (the cycle, the format, whether to sync…)."""

    def name(self, role: str) -> str:
        """The name a file was uploaded with ("" when there is no file in that role)."""
        return self.files[role].name if role in self.files else ""


class PendingUploads:
    """Uploads kept for their confirmation, one folder each under `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def keep(self, files: Mapping[str, tuple[str, bytes]], about: dict[str, Any]) -> Pending:
        """Keep an upload's files (role → (name, content)) and what the form said of it."""
        self._forget_old()
        key = secrets.token_urlsafe(24)
        here = self.folder / key
        kept = {}
        for role, (name, content) in files.items():
            (here / role).mkdir(parents=True)
            kept[role] = here / role / uploaded_name(name, role)
            kept[role].write_bytes(content)
        here.mkdir(parents=True, exist_ok=True)
        names = {role: path.name for role, path in kept.items()}
        (here / "about.json").write_text(json.dumps({**about, "_files": names}), "utf-8")
        return Pending(key, kept, about)

    def take(self, key: str) -> Pending | None:
        """The upload kept under `key`, if it is there and not too old."""
        if not _KEY.fullmatch(key):
            return None
        here = self.folder / key
        if not self._fresh(here):
            return None
        about = json.loads((here / "about.json").read_text(encoding="utf-8"))
        names = about.pop("_files")
        return Pending(key, {role: here / role / name for role, name in names.items()}, about)

    def forget(self, key: str) -> None:
        """Throw an upload away (imported, or refused); twice is harmless (a double click)."""
        if _KEY.fullmatch(key):
            shutil.rmtree(self.folder / key, ignore_errors=True)

    def _forget_old(self) -> None:
        if self.folder.is_dir():
            for here in self.folder.iterdir():
                if not self._fresh(here):
                    shutil.rmtree(here, ignore_errors=True)

    @staticmethod
    def _fresh(here: Path) -> bool:
        about = here / "about.json"
        return about.is_file() and time.time() - about.stat().st_mtime <= PENDING_SECONDS
