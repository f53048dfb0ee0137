"""The administrator's console (`/admin`): one context per page, each with the section it
belongs to (for the console's menu) and the signed-in administrator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from surveys.accounts.policy import Viewer
from surveys.infra.pagination import Page

SECTIONS = (
    ("directory", "Directory", "/admin/organisations"),
    ("accounts", "Accounts", "/admin/accounts"),
    ("instruments", "Instruments", "/admin/instruments"),
    ("cycles", "Cycles", "/admin/cycles"),
    ("responses", "Import responses", "/admin/responses/import/"),
    ("audit", "Audit log", "/admin/audit"),
)
"""The console's menu: section, label, address."""


@dataclass(frozen=True)
class Listing:
    """A searched, filtered list in pages, and the query that made it (for page links)."""

    page: Page[Any]
    query: Mapping[str, str]
    """The filters as typed (empty ones left out), kept in every page link."""
    past_end: int | None = None
    """A page number asked for beyond the last page (the first page is shown instead)."""

    @property
    def filters(self) -> str:
        """The filters as a query string (for a download of the same list)."""
        return urlencode(self.query)

    def link(self, number: int) -> str:
        """The address of page `number` of the same list."""
        return "?" + urlencode({**self.query, "page": str(number)})


@dataclass(frozen=True)
class ConsolePage:
    """Any console page: who is signed in, the section, and what the page shows."""

    viewer: Viewer
    section: str
    title: str
    data: Mapping[str, Any] = field(default_factory=dict)
    """What the page's template places (lists, records, choices)."""
    form: Mapping[str, Any] = field(default_factory=dict)
    """A form's values as typed (after a refusal) or as stored (to edit)."""
    error: str | None = None
    """Why the form was refused, as a sentence."""
    error_field: str | None = None
    """The field the refusal is about, to mark and focus it."""
    notice: str | None = None
    """What the last action did, said once."""

    @property
    def sections(self) -> tuple[tuple[str, str, str], ...]:
        """The console's menu."""
        return SECTIONS
