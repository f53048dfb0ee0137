"""Scorecards on screen and as PDF, behind the workspaces' rules, and the partner's reply.

The page is the scorecard's own HTML; its PDF twin is WeasyPrint's rendering of the same
HTML, made in a worker process. Links to the PDF and to the reply form are hidden in print.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, Parameter, URLEncodedBody
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.directory.organisations import Organisation
from surveys.infra.i18n import LANGUAGES
from surveys.scorecards import (
    REPLY_LIMIT,
    ReplyError,
    ScorecardError,
    cycle_results,
    network_scorecard,
    partner_scorecard,
    pdf_in_worker,
    portfolio_scorecard,
    scorecard_html,
    write_reply,
)
from surveys.scorecards._results import CycleResults
from surveys.web.auth import OutOfReach, required_viewer

Any_Request = Request[Any, Any, Any]
Language = Annotated[
    Literal["en", "fr", "de", "es", "ja"] | None,
    Parameter(description="The language to write it in; the audience's by default."),
]
Paper = Annotated[Literal["a4", "letter"], Parameter(description="Paper size of the PDF.")]
Collection = Literal["portfolios", "networks"]
"""A scorecard of many sites: a sponsor's portfolio, or a network."""


class ScorecardsController(Controller):
    """Partner scorecards of a scored cycle: HTML, PDF, and the partner's reply."""

    path = "/w/scorecards/{cycle:str}"

    @get("/partners/{subject:str}", name="scorecard")
    async def pooled(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        request: Any_Request,
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[str]:
        """How every site sees a sponsor or CRO, as a scorecard."""
        html, _ = await _partner_html(request, cycle, subject, None, lang, paper)
        return Response(html, media_type="text/html")

    @get("/partners/{subject:str}/pdf", name="scorecard-pdf")
    async def pooled_pdf(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        request: Any_Request,
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[bytes]:
        html, name = await _partner_html(request, cycle, subject, None, lang, paper)
        return _pdf(await pdf_in_worker(html), name)

    @get("/partners/{subject:str}/by/{rater:str}", name="scorecard-view")
    async def view(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        rater: FromPath[str],
        request: Any_Request,
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[str]:
        """How one sponsor's raters see a site, as a scorecard."""
        html, _ = await _partner_html(request, cycle, subject, rater, lang, paper)
        return Response(html, media_type="text/html")

    @get("/partners/{subject:str}/by/{rater:str}/pdf", name="scorecard-view-pdf")
    async def view_pdf(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        rater: FromPath[str],
        request: Any_Request,
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[bytes]:
        html, name = await _partner_html(request, cycle, subject, rater, lang, paper)
        return _pdf(await pdf_in_worker(html), name)

    @get("/partners/{subject:str}/reply", name="reply-form")
    async def reply_form(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        request: Any_Request,
        by: Annotated[str | None, Parameter(description="The rater's slug")] = None,
    ) -> Template:
        """The partner's reply form, before the cycle is published."""
        viewer, subject_row, view_row = await _reply_in_reach(request, subject, by)
        return _reply_page(viewer, cycle, subject_row, view_row, "", None)

    @post("/partners/{subject:str}/reply", name="reply")
    async def reply(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        request: Any_Request,
    ) -> Any:
        """Keep the partner's reply; back to the scorecard, or the form with the reason."""
        by = data.get("by") or None
        viewer, subject_row, view_row = await _reply_in_reach(request, subject, by)
        text = data.get("text", "")
        try:
            await write_reply(
                cycle,
                subject_row["id"],
                view_row["id"] if view_row else None,
                text,
                viewer.who.person_id,
                viewer.who.email,
                dt.datetime.now(dt.UTC),
            )
        except ReplyError as error:
            return _reply_page(viewer, cycle, subject_row, view_row, text, str(error))
        return Redirect(_card_path(cycle, subject, by), status_code=303)

    @get("/{kind:str}/{slug:str}", name="collection-scorecard")
    async def collection(
        self,
        cycle: FromPath[str],
        kind: FromPath[Collection],
        slug: FromPath[str],
        request: Any_Request,
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[str]:
        """A sponsor's portfolio scorecard (its own people and relationship managers) or a
        network's (whoever opens the network's page)."""
        html, _ = await _collection_html(request, cycle, kind, slug, lang, paper)
        return Response(html, media_type="text/html")

    @get("/{kind:str}/{slug:str}/pdf", name="collection-scorecard-pdf")
    async def collection_pdf(
        self,
        cycle: FromPath[str],
        kind: FromPath[Collection],
        slug: FromPath[str],
        request: Any_Request,
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[bytes]:
        html, name = await _collection_html(request, cycle, kind, slug, lang, paper)
        return _pdf(await pdf_in_worker(html), name)


async def _collection_html(
    request: Any_Request, cycle: str, kind: str, slug: str, lang: str | None, paper: str
) -> tuple[str, str]:
    """A portfolio or network scorecard's HTML, if the policy lets this viewer read it."""
    viewer = await required_viewer(request)
    row = await _organisation(slug)
    wanted, allowed = (
        ("sponsor", viewer.reach.may_review_tiers)
        if kind == "portfolios"
        else ("network", viewer.reach.may_see_network)
    )
    if row is None or row["kind"] != wanted or not allowed(row["id"]):
        raise OutOfReach(viewer, f"{kind} scorecard of {slug}")
    results = await _results(cycle)
    language = lang or results.orgs[row["id"]].language
    if kind == "portfolios":
        card: Any = portfolio_scorecard(results, row["id"], language, paper)
    else:
        card = network_scorecard(results, row["id"], row["id"], language, paper)
    links = _links(f"/w/scorecards/{cycle}/{kind}/{slug}", language)
    template = "portfolio" if kind == "portfolios" else "network"
    html = scorecard_html(template, replace(card, links=tuple(links)), language)
    return html, f"{template}-scorecard-{cycle}-{slug}"


def _links(base: str, language: str) -> list[tuple[str, str]]:
    """On-screen links of a scorecard: its PDF on either paper, and its other languages."""
    links = [
        ("PDF (A4)", f"{base}/pdf?paper=a4&lang={language}"),
        ("PDF (US Letter)", f"{base}/pdf?paper=letter&lang={language}"),
    ]
    return links + [
        (name, f"{base}?lang={code}") for code, name in LANGUAGES.items() if code != language
    ]


def _card_path(cycle: str, subject: str, rater: str | None) -> str:
    return f"/w/scorecards/{cycle}/partners/{subject}" + (f"/by/{rater}" if rater else "")


async def _organisation(slug: str) -> dict[str, Any] | None:
    row = (
        await Organisation.select(
            Organisation.id, Organisation.kind, Organisation.name, Organisation.slug
        )
        .where(Organisation.slug == slug)
        .first()
    )
    return dict(row) if row else None


async def _in_reach(
    viewer: Viewer, subject: str, rater: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The scorecard's partner and view, if the policy lets this viewer read it."""
    subject_row = await _organisation(subject)
    view_row = await _organisation(rater) if rater else None
    if (
        subject_row is None
        or (rater and view_row is None)
        or (view_row is not None and view_row["kind"] != "sponsor")
        or not viewer.reach.may_see_partner_scorecard(
            subject_row["id"], subject_row["kind"], view_row["id"] if view_row else None
        )
    ):
        raise OutOfReach(viewer, f"scorecard of {subject}" + (f" by {rater}" if rater else ""))
    return subject_row, view_row


async def _partner_html(
    request: Any_Request,
    cycle: str,
    subject: str,
    rater: str | None,
    lang: str | None,
    paper: str,
) -> tuple[str, str]:
    """The scorecard's HTML for this viewer (with on-screen links), and a file name."""
    viewer = await required_viewer(request)
    subject_row, view_row = await _in_reach(viewer, subject, rater)
    results = await _results(cycle)
    view_id = view_row["id"] if view_row else None
    audience = _audience(viewer, results, subject_row, view_id)
    language = lang or results.orgs[audience].language
    card = partner_scorecard(results, subject_row["id"], view_id, audience, language, paper)
    links = _links(_card_path(cycle, subject, rater), language)
    if card.draft and viewer.reach.may_reply_to_scorecard(subject_row["id"], subject_row["kind"]):
        by = f"?by={rater}" if rater else ""
        links.append(("Write or change the reply", f"{_card_path(cycle, subject, None)}/reply{by}"))
    html = scorecard_html("partner", replace(card, links=tuple(links)), language)
    return html, f"scorecard-{cycle}-{subject}" + (f"-by-{rater}" if rater else "")


async def _results(cycle: str) -> CycleResults:
    try:
        return await cycle_results(cycle)
    except ScorecardError as error:
        raise NotFoundException(str(error)) from None


def _audience(
    viewer: Viewer, results: CycleResults, subject: dict[str, Any], view_id: int | None
) -> int:
    """Whom the viewer reads the scorecard as: the site itself, or the organisation that
    rated it (a site's sponsor; a sponsor itself for its pooled view)."""
    if subject["kind"] == "site" and subject["id"] in viewer.reach.sites:
        return int(subject["id"])
    return int(view_id if view_id is not None else subject["id"])


def _pdf(pdf: bytes, name: str) -> Response[bytes]:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


async def _reply_in_reach(
    request: Any_Request, subject: str, rater: str | None
) -> tuple[Viewer, dict[str, Any], dict[str, Any] | None]:
    viewer = await required_viewer(request)
    subject_row, view_row = await _in_reach(viewer, subject, rater)
    if not viewer.reach.may_reply_to_scorecard(subject_row["id"], subject_row["kind"]):
        raise OutOfReach(viewer, f"reply to the scorecard of {subject}")
    return viewer, subject_row, view_row


def _reply_page(
    viewer: Viewer,
    cycle: str,
    subject: dict[str, Any],
    view: dict[str, Any] | None,
    text: str,
    error: str | None,
) -> Template:
    page = {
        "cycle": cycle,
        "subject": subject,
        "view": view,
        "text": text,
        "error": error,
        "limit": REPLY_LIMIT,
    }
    return Template(
        "pages/reply.html",
        context={"page": page, "viewer": viewer},
        status_code=400 if error else 200,
    )
