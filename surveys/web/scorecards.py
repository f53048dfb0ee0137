"""Scorecards on screen and as PDF, behind the workspaces' rules, and the partner's reply.

The page is the scorecard's own HTML; its PDF twin is WeasyPrint's rendering of the same
HTML, made in a worker process. Links to the PDF and to the reply form are hidden in print.
Who may read which scorecard is decided in surveys.web.reach, as for every page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, Parameter, URLEncodedBody
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.infra.i18n import LANGUAGES, N_, Text
from surveys.scorecards import (
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
from surveys.web.contexts import ReplyContext
from surveys.web.contexts._forms import refusal
from surveys.web.reach import (
    Collection,
    collection_in_reach,
    reply_in_reach,
    scorecard_in_reach,
)
from surveys.web.render_slots import PAGE_RENDERS, PDF_RENDERS
from surveys.workspaces.places import Place

Language = Annotated[
    Literal["en", "fr", "de", "es", "ja"] | None,
    Parameter(
        description="The language to write it in; on screen the reader's by default, "
        "as a PDF the audience's."
    ),
]
Paper = Annotated[Literal["a4", "letter"], Parameter(description="Paper size of the PDF.")]


class ScorecardsController(Controller):
    """Partner scorecards of a scored cycle: HTML, PDF, and the partner's reply."""

    path = "/w/scorecards/{cycle:str}"

    @get("/partners/{subject:str}", name="scorecard")
    async def pooled(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        viewer: NamedDependency[Viewer],
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[str]:
        """How every site sees a sponsor or CRO, as a scorecard (in the reader's language
        unless `lang` asks for another)."""
        with PAGE_RENDERS.held(viewer.who.account_id):
            html, _ = await _partner_html(
                viewer, cycle, subject, None, lang or viewer.who.language, paper
            )
        return Response(html, media_type="text/html")

    @get("/partners/{subject:str}/pdf", name="scorecard-pdf")
    async def pooled_pdf(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        viewer: NamedDependency[Viewer],
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[bytes]:
        with PDF_RENDERS.held(viewer.who.account_id):
            html, name = await _partner_html(viewer, cycle, subject, None, lang, paper)
            return _pdf(await pdf_in_worker(html), name)

    @get("/partners/{subject:str}/by/{rater:str}", name="scorecard-view")
    async def view(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        rater: FromPath[str],
        viewer: NamedDependency[Viewer],
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[str]:
        """How one sponsor's raters see a site, as a scorecard (in the reader's language
        unless `lang` asks for another)."""
        with PAGE_RENDERS.held(viewer.who.account_id):
            html, _ = await _partner_html(
                viewer, cycle, subject, rater, lang or viewer.who.language, paper
            )
        return Response(html, media_type="text/html")

    @get("/partners/{subject:str}/by/{rater:str}/pdf", name="scorecard-view-pdf")
    async def view_pdf(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        rater: FromPath[str],
        viewer: NamedDependency[Viewer],
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[bytes]:
        with PDF_RENDERS.held(viewer.who.account_id):
            html, name = await _partner_html(viewer, cycle, subject, rater, lang, paper)
            return _pdf(await pdf_in_worker(html), name)

    @get("/partners/{subject:str}/reply", name="reply-form")
    async def reply_form(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        viewer: NamedDependency[Viewer],
        by: Annotated[str | None, Parameter(description="The rater's slug")] = None,
    ) -> Template:
        """The partner's reply form, before the cycle is published."""
        partner, view = await reply_in_reach(viewer, subject, by)
        return _reply_page(viewer, cycle, partner, view, "", None)

    @post("/partners/{subject:str}/reply", name="reply")
    async def reply(
        self,
        cycle: FromPath[str],
        subject: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
        viewer: NamedDependency[Viewer],
    ) -> Any:
        """Keep the partner's reply; back to the scorecard, or the form with the reason."""
        by = data.get("by") or None
        partner, view = await reply_in_reach(viewer, subject, by)
        text = data.get("text", "")
        try:
            await write_reply(
                cycle,
                partner.id,
                view.id if view else None,
                text,
                viewer.who.acting(dt.datetime.now(dt.UTC)),
            )
        except ReplyError as error:
            return _reply_page(viewer, cycle, partner, view, text, refusal(error))
        return Redirect(_card_path(cycle, subject, by), status_code=303)

    @get("/{kind:str}/{slug:str}", name="collection-scorecard")
    async def collection(
        self,
        cycle: FromPath[str],
        kind: FromPath[Collection],
        slug: FromPath[str],
        viewer: NamedDependency[Viewer],
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[str]:
        """A sponsor's portfolio scorecard (its own people and relationship managers) or a
        network's (whoever opens the network's page), in the reader's language unless `lang`
        asks for another."""
        with PAGE_RENDERS.held(viewer.who.account_id):
            html, _ = await _collection_html(
                viewer, cycle, kind, slug, lang or viewer.who.language, paper
            )
        return Response(html, media_type="text/html")

    @get("/{kind:str}/{slug:str}/pdf", name="collection-scorecard-pdf")
    async def collection_pdf(
        self,
        cycle: FromPath[str],
        kind: FromPath[Collection],
        slug: FromPath[str],
        viewer: NamedDependency[Viewer],
        lang: Language = None,
        paper: Paper = "a4",
    ) -> Response[bytes]:
        with PDF_RENDERS.held(viewer.who.account_id):
            html, name = await _collection_html(viewer, cycle, kind, slug, lang, paper)
            return _pdf(await pdf_in_worker(html), name)


async def _collection_html(
    viewer: Viewer, cycle: str, kind: Collection, slug: str, lang: str | None, paper: str
) -> tuple[str, str]:
    """A portfolio or network scorecard's HTML, if the policy lets this viewer read it, in
    `lang` (the audience's if None: a PDF's default)."""
    found = await collection_in_reach(viewer, kind, slug)
    results = await _results(cycle)
    language = lang or results.orgs[found.id].language
    if kind == "portfolios":
        card: Any = portfolio_scorecard(results, found.id, language, paper)
    else:
        card = network_scorecard(results, found.id, found.id, language, paper)
    links = _links(f"/w/scorecards/{cycle}/{kind}/{slug}", language)
    template = "portfolio" if kind == "portfolios" else "network"
    html = scorecard_html(template, replace(card, links=tuple(links)), language)
    return html, f"{template}-scorecard-{cycle}-{slug}"


def _links(base: str, language: str) -> list[tuple[str, str]]:
    """On-screen links of a scorecard: its PDF on either paper (in the language shown), and
    its other languages; their words in the language shown."""
    links = [
        (_said(N_("PDF (A4)"), language), f"{base}/pdf?paper=a4&lang={language}"),
        (_said(N_("PDF (US Letter)"), language), f"{base}/pdf?paper=letter&lang={language}"),
    ]
    return links + [
        (name, f"{base}?lang={code}") for code, name in LANGUAGES.items() if code != language
    ]


def _said(message: str, language: str) -> str:
    """A marked text in `language`."""
    return Text(message).render(language)


def _card_path(cycle: str, subject: str, rater: str | None) -> str:
    """The address of a partner scorecard (one sponsor's view of a site, with `rater`)."""
    return f"/w/scorecards/{cycle}/partners/{subject}" + (f"/by/{rater}" if rater else "")


async def _partner_html(
    viewer: Viewer,
    cycle: str,
    subject: str,
    rater: str | None,
    lang: str | None,
    paper: str,
) -> tuple[str, str]:
    """The scorecard's HTML for this viewer (with on-screen links), in `lang` (the
    audience's if None: a PDF's default), and a file name."""
    partner, view = await scorecard_in_reach(viewer, subject, rater)
    results = await _results(cycle)
    view_id = view.id if view else None
    audience = _audience(viewer, partner, view_id)
    language = lang or results.orgs[audience].language
    card = partner_scorecard(results, partner.id, view_id, audience, language, paper)
    links = _links(_card_path(cycle, subject, rater), language)
    if card.draft and viewer.reach.may_reply_to_scorecard(partner.id):
        by = f"?by={rater}" if rater else ""
        reply = f"{_card_path(cycle, subject, None)}/reply{by}"
        links.append((_said(N_("Write or change the reply"), language), reply))
    html = scorecard_html("partner", replace(card, links=tuple(links)), language)
    return html, f"scorecard-{cycle}-{subject}" + (f"-by-{rater}" if rater else "")


async def _results(cycle: str) -> CycleResults:
    """A scored cycle's results; 404 for a cycle with none (unknown, or not scored yet)."""
    try:
        return await cycle_results(cycle)
    except ScorecardError as error:
        raise NotFoundException(str(error)) from None


def _audience(viewer: Viewer, partner: Place, view_id: int | None) -> int:
    """Whom the viewer reads the scorecard as: the site itself, or the organisation that
    rated it (a site's sponsor; a sponsor itself for its pooled view)."""
    if partner.kind == "site" and partner.id in viewer.reach.sites:
        return partner.id
    return view_id if view_id is not None else partner.id


def _pdf(pdf: bytes, name: str) -> Response[bytes]:
    """A PDF shown in the browser, saved under a name that says what it is."""
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


def _reply_page(
    viewer: Viewer,
    cycle: str,
    partner: Place,
    view: Place | None,
    text: str,
    error: str | Text | None,
) -> Template:
    """The reply form; after a refusal, its reason and the text as typed."""
    page = ReplyContext(cycle=cycle, subject=partner, view=view, text=text, error=error)
    return Template(
        "pages/reply.html",
        context={"page": page, "viewer": viewer},
        status_code=400 if error else 200,
    )
