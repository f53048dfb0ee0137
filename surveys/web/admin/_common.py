"""What every console page shares: the guard, the page helper, the posted form, and the
notices a redirect after a change may show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.directory.audit import Act
from surveys.infra.i18n import N_, Text
from surveys.infra.numbers import whole_number
from surveys.infra.pagination import Page, PastLastPageError
from surveys.web.contexts._console import ConsolePage, Listing
from surveys.web.contexts._forms import refusal

PageNumber = Annotated[
    int, QueryParameter(name="page", ge=1, le=1_000_000, description="A page of the list.")
]
PER_PAGE = 50

NOTICES = {
    "created": N_("Created."),
    "saved": N_("Saved."),
    "deactivated": N_("Deactivated: no longer invited or sent results; what is stored stays."),
    "reactivated": N_("Reactivated."),
    "imported": N_("The directory file was imported."),
    "invited": N_("The invitation to sign in was sent."),
    "granted": N_("The grant was given."),
    "revoked": N_("Revoked."),
    "loaded": N_("The instrument version was loaded."),
    "closed": N_("The cycle is closed."),
    "reopened": N_("The cycle is open again."),
    "published": N_("The cycle is published: its tiers are frozen."),
    "erased": N_("The person's data was erased."),
    "paused": N_("The programme is paused: nothing is opened, sent, closed or published."),
    "resumed": N_("The programme runs again."),
}
"""What a redirect's `done` code says once (codes, not text, so a link cannot make the
console say anything else)."""


def acting(viewer: Viewer) -> Act:
    """The administrator doing something now, as the audit log records it."""
    return viewer.who.acting(dt.datetime.now(dt.UTC))


def page(
    name: str,
    viewer: Viewer,
    section: str,
    title: str | Text,
    status: int = 200,
    **parts: Any,
) -> Template:
    """Render console template `name` with a ConsolePage context."""
    context = ConsolePage(viewer=viewer, section=section, title=title, **parts)
    return Template(f"pages/admin/{name}.html", context={"page": context}, status_code=status)


def refused(
    name: str, viewer: Viewer, section: str, title: str | Text, error: Exception, **parts: Any
) -> Template:
    """A form's page again (400) with what was typed, saying why it was refused and marking
    the field the refusal names (`error.field`, when it has one)."""
    return page(
        name,
        viewer,
        section,
        title,
        400,
        error=refusal(error),
        error_field=getattr(error, "field", None),
        **parts,
    )


async def switched(
    request: Request[Any, Any, Any],
    viewer: Viewer,
    target: str,
    switch: Callable[[bool, Act], Awaitable[object]],
    missing: type[Exception],
    what: str,
) -> Redirect:
    """Deactivate or reactivate a record as the posted `active` field says, then back to its
    page; a record that is not there (`missing` raised) is a 404 saying `what`."""
    active = (await form_of(request)).get("active") == "1"
    try:
        await switch(active, acting(viewer))
    except missing:
        raise NotFoundException(f"no such {what}") from None
    return done(target, "reactivated" if active else "deactivated")


def notice_of(request: Request[Any, Any, Any]) -> str | None:
    """The notice a redirect asked for with `?done=`, if it is one the console knows."""
    return NOTICES.get(request.query_params.get("done", ""))


def done(target: str, code: str) -> Redirect:
    """Go to `target` after a change, saying `code`'s notice there once."""
    joiner = "&" if "?" in target else "?"
    return Redirect(f"{target}{joiner}done={code}", status_code=303)


async def form_of(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """A posted form as a dict of stripped texts; a field sent many times (check boxes)
    becomes a list under its name."""
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        if key == "_csrf_token":
            continue
        many = [v.strip() for v in form.getall(key) if isinstance(v, str)]
        values[key] = many if len(many) > 1 or key.endswith("[]") else (many[0] if many else "")
    return values


def many(form: Mapping[str, Any], key: str) -> list[str]:
    """A check-box field's values, whether it was sent once, many times or not at all."""
    value = form.get(key, form.get(f"{key}[]", []))
    return [value] if isinstance(value, str) else list(value)


async def listing(read: Any, query: Mapping[str, str], number: int, **filters: Any) -> Listing:
    """Read one page of a list; a page past the end shows the first and says so."""
    shown = {k: v for k, v in query.items() if v and k != "page"}
    try:
        found: Page[Any] = await read(number=number, per_page=PER_PAGE, **filters)
        return Listing(found, shown)
    except PastLastPageError:
        return Listing(await read(number=1, per_page=PER_PAGE, **filters), shown, number)


def optional_int(text: str | None) -> int | None:
    """An id chosen in a form's list ('' for none); anything else is None, which the
    domain then refuses by name."""
    return whole_number(text)
