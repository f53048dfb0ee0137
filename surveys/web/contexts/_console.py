"""The administrator's console (`/admin`): one context per page, each with the section it
belongs to (for the console's menu) and the signed-in administrator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from surveys.accounts.policy import Viewer
from surveys.infra.i18n import N_, Text
from surveys.infra.pagination import Page

SECTIONS = (
    ("directory", N_("Directory"), "/admin/organisations"),
    ("accounts", N_("Accounts"), "/admin/accounts"),
    ("instruments", N_("Instruments"), "/admin/instruments"),
    ("programme", N_("Programme"), "/admin/programme/"),
    ("cycles", N_("Cycles"), "/admin/cycles"),
    ("responses", N_("Import responses"), "/admin/responses/import/"),
    ("audit", N_("Audit log"), "/admin/audit"),
)
"""The console's menu: section, label (marked, shown with `| translate`), address."""

WORDS = {
    # a cycle's status
    "draft": N_("draft"),
    "open": N_("open"),
    "closed": N_("closed"),
    "scored": N_("scored"),
    "published": N_("published"),
    # an organisation's kind
    "site": N_("site"),
    "sponsor": N_("sponsor"),
    "cro": N_("cro"),
    "network": N_("network"),
    # a person's role
    "pi": N_("pi"),
    "coordinator": N_("coordinator"),
    "site_director": N_("site director"),
    "cra": N_("cra"),
    "study_manager": N_("study manager"),
    "relationship_manager": N_("relationship manager"),
    "executive": N_("executive"),
    # a grant's role
    "site_user": N_("site user"),
    "sponsor_user": N_("sponsor user"),
    "administrator": N_("administrator"),
    # a list's status filter
    "active": N_("active"),
    "inactive": N_("inactive"),
    "all": N_("all"),
    # a background job's state and kind
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
    "remind": N_("remind"),
    "score": N_("score"),
    "scorecards": N_("scorecards"),
    "invite": N_("invite"),
    "close": N_("close"),
    "publish": N_("publish"),
    "tell_reviewers": N_("tell reviewers"),
    "remind_reviewers": N_("remind reviewers"),
    # where a stage of the programme's timeline stands
    "late": N_("late"),
    "missed": N_("missed"),
    "planned": N_("planned"),
    "skipped": N_("skipped"),
    # how the cycle's status is grouped
    "organisation": N_("organisation"),
    "direction": N_("direction"),
    "country": N_("country"),
    "role": N_("role"),
}
"""The words of stored codes (statuses, kinds, roles, states) as the console shows them,
marked for translation; a code not here is shown as it is, underscores as spaces."""


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
    title: str | Text
    """The page's title: a marked text (shown with `| translate`) or a record's name."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """What the page's template places (lists, records, choices)."""
    form: Mapping[str, Any] = field(default_factory=dict)
    """A form's values as typed (after a refusal) or as stored (to edit)."""
    error: str | Text | None = None
    """Why the form was refused, as a sentence (a domain's own English, or a marked text)."""
    error_field: str | None = None
    """The field the refusal is about, to mark and focus it."""
    notice: str | Text | None = None
    """What the last action did, said once."""

    @property
    def sections(self) -> tuple[tuple[str, str, str], ...]:
        """The console's menu."""
        return SECTIONS

    @staticmethod
    def word(code: object) -> str:
        """A stored code (status, kind, role, state) as a marked word, for `| translate`."""
        text = str(getattr(code, "value", code))
        return WORDS.get(text, text.replace("_", " "))
