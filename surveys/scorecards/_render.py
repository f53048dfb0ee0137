"""One rendering path: a scorecard's context → its template → HTML → PDF.

The browser is served the HTML; the PDF is WeasyPrint's rendering of that same HTML. Names
and comments are untrusted: Jinja escapes them, and WeasyPrint may fetch nothing but
`data:` URLs (the stylesheet is inlined, charts are inline SVG), so a comment holding
`<img src="http://…">` shows as text and reaches no server, not even on this machine.

WeasyPrint takes about a tenth of a second a page and holds the GIL, so PDFs are made in
worker processes, never in the event loop. Workers are started fresh ("spawn"), import
WeasyPrint themselves (forking after its import has crashed, weasyprint #167) and keep
one cache across the documents they render.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import cache
from typing import Any, Protocol

from markupsafe import Markup

from surveys.infra.i18n import translated
from surveys.infra.templating import TEMPLATES, environment

PAPERS = {"a4": "A4", "letter": "letter"}
"""Paper sizes a scorecard is printed on, as CSS @page names them."""
DOCUMENTS_PER_WORKER = 200
"""A worker is replaced after this many documents, so its memory cannot creep up."""


class ScorecardContext(Protocol):
    """What rendering needs of any scorecard's context: the paper it is printed on (the
    template reads the rest)."""

    @property
    def paper(self) -> str:
        """a4 or letter: a key of PAPERS."""
        ...


def scorecard_html(template: str, context: ScorecardContext, language: str) -> str:
    """The scorecard's HTML, as the browser shows it and the PDF is made from."""
    if context.paper not in PAPERS:
        raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {context.paper!r}")
    page = environment().get_template(f"scorecards/{template}.html")
    return page.render(
        translated({"card": context, "style": inline_style(context.paper)}, language)
    )


def content_hash(html: str) -> str:
    """SHA-256 of a scorecard's HTML: the same HTML makes the same PDF, so it is not redone."""
    return hashlib.sha256(html.encode()).hexdigest()


@cache
def inline_style(paper: str) -> Markup:
    """The scorecard's stylesheet for a paper size, inlined so that the PDF needs no file
    fetched. On screen the page's security policy allows exactly these texts (by hash)."""
    css = (TEMPLATES / "scorecards" / "scorecard.css").read_text(encoding="utf-8")
    text = f"@page {{ size: {PAPERS[paper]}; }} " + css.replace("</", "<\\/")
    return Markup(text)  # noqa: S704  (our own file, kept inside <style>)


def inline_styles() -> tuple[str, ...]:
    """Every `<style>` text a scorecard may carry: one per paper size."""
    return tuple(str(inline_style(paper)) for paper in PAPERS)


def pdf_of(html: str) -> bytes:
    """Render HTML to a tagged PDF (PDF/UA-1); runs in a worker process.

    What every scorecard shares is made once per process: the fonts' configuration and
    the stylesheet, parsed once and given to WeasyPrint in place of the page's own inlined
    copy (the same text, so the same PDF). The collector is paused while a document is laid
    out (WeasyPrint makes millions of short-lived objects, and a collection mid-layout
    walks them all) and runs once after.
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=2)
    fonts, styles = _shared()
    stylesheets = []
    for inlined, parsed in styles.values():
        if inlined in html:
            html = html.replace(inlined, "<style></style>", 1)
            stylesheets = [parsed]
            break
    document = HTML(string=html, url_fetcher=fetcher, base_url=None)
    collecting = gc.isenabled()
    gc.disable()
    try:
        pdf: bytes = document.write_pdf(
            pdf_variant="pdf/ua-1",
            cache=_weasyprint_cache(),
            stylesheets=stylesheets,
            font_config=fonts,
        )
    finally:
        if collecting:
            gc.enable()
            gc.collect()
    return pdf


@cache
def _shared() -> tuple[Any, dict[str, tuple[str, Any]]]:
    """This process's font configuration, and each paper's stylesheet: the `<style>`
    element as scorecards carry it, and its rules parsed once."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    styles = {
        paper: (
            f"<style>{inline_style(paper)}</style>",
            CSS(string=str(inline_style(paper)).replace("<\\/", "</"), font_config=fonts),
        )
        for paper in PAPERS
    }
    return fonts, styles


@cache
def _weasyprint_cache() -> dict[str, Any]:
    """One cache per worker, shared by every document it renders (WeasyPrint's advice)."""
    return {}


def pdf_workers(processes: int) -> Executor:
    """A pool of `processes` fresh worker processes for `pdf_of`."""
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        max_tasks_per_child=DOCUMENTS_PER_WORKER,
    )


_web_pool: Executor | None = None


async def pdf_in_worker(html: str) -> bytes:
    """Render a PDF for a web request in this server process's one worker, off the loop."""
    global _web_pool  # one pool per server process, made on first use
    if _web_pool is None:
        _web_pool = pdf_workers(1)
    return await asyncio.get_running_loop().run_in_executor(_web_pool, pdf_of, html)


def close_web_pool() -> None:
    """Stop the server's PDF worker at shutdown."""
    global _web_pool
    if _web_pool is not None:
        _web_pool.shutdown(wait=False, cancel_futures=True)
        _web_pool = None
