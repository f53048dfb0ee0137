"""Partner scorecards from a stored run: the right figures, hidden cells hidden, the PDF read
back (text, metadata, structure tree), untrusted text inert, and the partner's reply."""

from __future__ import annotations

import datetime as dt
import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from piccolo.engine.base import Engine
from pypdf import PdfReader

from surveys.cycles.cycle import Cycle
from surveys.directory.audit import Act, AuditEntry
from surveys.directory.organisations import Organisation
from surveys.responses.answers import Answer
from surveys.results.score_runs import DimensionScore, EscalationFlag, TargetIndex
from surveys.results.tier_assignments import Tier, TierAssignment
from surveys.results.tier_review import publish_all_but_latest
from surveys.scorecards import (
    CycleResults,
    PartnerReply,
    PartnerScorecard,
    ReplyError,
    ScorecardError,
    cycle_results,
    partner_scorecard,
    pdf_of,
    scorecard_html,
    write_reply,
)

pytestmark = pytest.mark.anyio
NOW = dt.datetime.now(dt.UTC)


async def latest_scored() -> str:
    row = (
        await Cycle.select(Cycle.key)
        .where(Cycle.status == "scored")
        .order_by(Cycle.opens_at, ascending=False)
        .first()
    )
    return str(row["key"])


async def a_rated_site(run: int) -> tuple[int, int]:
    """A site and the sponsor whose shown view of it carries a tier this cycle."""
    tier = (
        await TierAssignment.select(TierAssignment.target, TierAssignment.assessor)
        .where(TierAssignment.run == run)
        .first()
    )
    return int(tier["target"]), int(tier["assessor"])


async def a_scored_site() -> tuple[str, CycleResults, int, int]:
    """The scored world's latest scored cycle, that cycle's results, and a site with the
    sponsor whose shown view of it carries a tier."""
    key = await latest_scored()
    results = await cycle_results(key)
    site, sponsor = await a_rated_site(results.run)
    return key, results, site, sponsor


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_a_site_scorecard_carries_the_stored_index_and_the_sponsors_tier(
    scored_world_db: Engine,
) -> None:
    _, results, site, sponsor = await a_scored_site()
    card = partner_scorecard(results, site, sponsor, sponsor, "en")

    stored = (
        await TargetIndex.select()
        .where(
            (TargetIndex.run == results.run)
            & (TargetIndex.target == site)
            & (TargetIndex.rater_organisation == sponsor)
        )
        .first()
    )
    tier = (
        await TierAssignment.select()
        .where(
            (TierAssignment.run == results.run)
            & (TierAssignment.target == site)
            & (TierAssignment.assessor == sponsor)
        )
        .first()
    )
    assert card.index.value == stored["reliability_index"]
    assert (card.index.low, card.index.high) == (stored["ri_low"], stored["ri_high"])
    assert card.tier == Tier(tier["override_tier"] or tier["computed_tier"])
    assert card.rule_trace == tier["rule_trace"]
    assert card.draft, "the latest cycle is scored, not published"
    assert len(card.dimensions) == 13, "every dimension of the sponsors' instrument"
    assert next(r.layer for r in card.dimensions) == "Quality", "quality first (Sand Cone)"
    layers = [layer.text for layer in card.cone.layers]
    assert layers[-1].startswith("Quality"), "quality is the cone's base"

    pdf = pdf_of(scorecard_html("partner", card, "en"))
    text = text_of(pdf)
    subject = results.orgs[site].name
    assert subject in text and card.tier.label in text
    figure = f"{stored['reliability_index']:.0f} [{stored['ri_low']:.0f}–{stored['ri_high']:.0f}]"
    assert figure in text, f"the index with its interval, {figure}, is printed"
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None and reader.metadata.title == card.title
    assert reader.metadata.author == "Rapport"
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"], "a tagged PDF"
    assert root["/Lang"] == "en"
    assert 1 <= len(reader.pages) <= 3


async def test_a_hidden_cell_reads_fewer_than_k_and_never_its_number(
    scored_world_db: Engine,
) -> None:
    key = await latest_scored()
    results = await cycle_results(key)
    sponsor = next(o.id for o in results.orgs.values() if o.kind == "sponsor")
    stored = (
        await TargetIndex.select()
        .where(
            (TargetIndex.run == results.run)
            & (TargetIndex.target == sponsor)
            & TargetIndex.rater_organisation.is_null()
        )
        .first()
    )
    shown = text_of(
        pdf_of(
            scorecard_html(
                "partner", partner_scorecard(results, sponsor, None, sponsor, "en"), "en"
            )
        )
    )
    figure = f"{stored['reliability_index']:.0f} [{stored['ri_low']:.0f}–"
    assert figure in shown

    # the run hides the pooled cell (as it would with too few site raters)
    await TargetIndex.update({TargetIndex.shown: False}).where(TargetIndex.id == stored["id"])
    hidden = partner_scorecard(await cycle_results(key), sponsor, None, sponsor, "en")
    assert hidden.index.value is None and hidden.raters is None
    html = scorecard_html("partner", hidden, "en")
    assert "fewer than 3 responses" in text_of(pdf_of(html))
    key_figure = html.split('<span class="value">', 1)[1].split("</span></div>", 1)[0]
    assert "fewer than 3 responses" in key_figure and figure not in key_figure, (
        "the index's own box says why it has no number, and shows none"
    )


async def test_sentences_written_from_the_figures_are_in_the_audiences_language(
    scored_world_db: Engine,
) -> None:
    """Reliability notes, escalations, meeting points and action movement are composed in
    code from the figures: each must come out in French for a French reader, decimals
    written the French way, and never as the English sentence."""
    results = await cycle_results(await latest_scored())
    views = [(t, v) for (run, t, v) in results.indices if run == results.run]
    seen: dict[str, int] = {"footnotes": 0, "flags": 0, "points": 0}
    for subject, view in views:
        english = partner_scorecard(results, subject, view, subject, "en")
        french = partner_scorecard(results, subject, view, subject, "fr")
        pairs = {
            "footnotes": zip(
                [n.text for n in english.footnotes], [n.text for n in french.footnotes], strict=True
            ),
            "flags": zip(english.flags, french.flags, strict=True),
            "points": zip(english.next_meeting, french.next_meeting, strict=True),
        }
        for part, texts in pairs.items():
            for en, fr in texts:
                seen[part] += 1
                assert en != fr, f"{part} left in English for a French reader: {fr!r}"
        for note in french.footnotes:
            assert "alpha de Cronbach" in note.text or "Cronbach" not in note.text
            assert not any(f"0.{d}" in note.text for d in range(10)), (
                f"French writes 0,85, not 0.85: {note.text!r}"
            )
    assert all(seen.values()), f"the world has notes, flags and meeting points to check: {seen}"


async def test_a_zero_width_interval_is_explained_where_one_is_printed(
    scored_world_db: Engine,
) -> None:
    key, results, site, sponsor = await a_scored_site()
    cells = DimensionScore.select().where(
        (DimensionScore.run == results.run)
        & (DimensionScore.target == site)
        & (DimensionScore.rater_organisation == sponsor)
        & DimensionScore.shown.eq(True)
    )
    rows = await cells
    note = "means every rater gave that dimension the same answers"

    def notes(card: PartnerScorecard) -> str:
        return " ".join(n.text for n in card.footnotes)

    for row in rows:  # every interval wide: no note
        await DimensionScore.update(
            {DimensionScore.low: row["mean"] - 5, DimensionScore.high: row["mean"] + 5}
        ).where(DimensionScore.id == row["id"])
    assert note not in notes(partner_scorecard(await cycle_results(key), site, sponsor, site, "en"))
    one = rows[0]
    await DimensionScore.update(
        {DimensionScore.low: one["mean"], DimensionScore.high: one["mean"]}
    ).where(DimensionScore.id == one["id"])
    card = partner_scorecard(await cycle_results(key), site, sponsor, site, "en")
    assert note in notes(card)
    assert any(r.score.low == r.score.high for r in card.dimensions)


async def test_a_partner_not_rated_this_cycle_gets_no_praise_and_no_numbers(
    scored_world_db: Engine,
) -> None:
    key, results, site, sponsor = await a_scored_site()
    for table in (TargetIndex, DimensionScore, EscalationFlag):  # as if no one had answered
        await table.delete().where(
            (table.run == results.run)
            & (table.target == site)
            & (table.rater_organisation == sponsor)
        )
    card = partner_scorecard(await cycle_results(key), site, sponsor, site, "en")
    assert not card.rated and card.index.value is None
    html = scorecard_html("partner", card, "en")
    assert "keep up the good work" not in html, "silence is not praise"
    assert "Comments are shown only when" not in html, "no one answered: no threshold to explain"
    assert html.count("not rated this cycle") >= 4, "index, layers, comments, meeting points"


def fonts_of(pdf: bytes) -> set[str]:
    """The names of the fonts a PDF's pages use."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"].get("/Font", {})
        names |= {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    return names


async def test_a_japanese_scorecard_is_set_in_a_font_with_japanese_glyphs(
    scored_world_db: Engine,
) -> None:
    _, results, site, sponsor = await a_scored_site()
    pdf = pdf_of(
        scorecard_html("partner", partner_scorecard(results, site, sponsor, site, "ja"), "ja")
    )
    assert "信頼性指数" in text_of(pdf), "the Japanese headings are in the PDF's text"
    assert any("CJK" in name for name in fonts_of(pdf)), (
        f"Japanese needs Noto Sans CJK (make installs fonts-noto-cjk), not {fonts_of(pdf)}"
    )


class Recorder(BaseHTTPRequestHandler):
    """A local server that notes every request made to it."""

    seen: list[str] = []  # noqa: RUF012

    def do_GET(self) -> None:
        Recorder.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args: Any) -> None:
        return


async def test_html_in_a_comment_or_name_is_shown_as_text_and_fetches_nothing(
    scored_world_db: Engine,
) -> None:
    key = await latest_scored()
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    Recorder.seen.clear()
    injected = (
        f'<img src="http://127.0.0.1:{port}/img.png"> '
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"> '
        f"<style>@import url(http://127.0.0.1:{port}/y.css);</style>"
    )
    results = await cycle_results(key)
    site, sponsor = await a_rated_site(results.run)
    await Organisation.update({Organisation.name: "Pharma <b>" + injected}).where(
        Organisation.id == sponsor
    )
    comment = (
        await Answer.select(Answer.id)
        .where(
            (Answer.item.kind == "text")
            & (Answer.response.invitation.target == site)
            & (Answer.response.invitation.relationship.sponsor == sponsor)
            & (Answer.response.status == "submitted")
            & (Answer.response.invitation.cycle.key == key)
        )
        .first()
    )
    if comment:
        await Answer.update({Answer.text: "See " + injected}).where(Answer.id == comment["id"])
    await TargetIndex.update({TargetIndex.comments_shown: True}).where(
        (TargetIndex.run == results.run) & (TargetIndex.target == site)
    )
    results = await cycle_results(key)
    card = partner_scorecard(results, site, sponsor, sponsor, "en")
    html = scorecard_html("partner", card, "en")
    assert "<img" not in html and "&lt;img src=" in html, "escaped, never markup"
    try:
        text = text_of(pdf_of(html))
    finally:
        server.shutdown()
    assert Recorder.seen == [], "the PDF fetched nothing"
    assert f"127.0.0.1:{port}/img.png" in text.replace("\n", ""), "the injection reads as text"


async def test_a_very_long_word_right_to_left_text_and_emoji_keep_the_pdf_whole(
    scored_world_db: Engine,
) -> None:
    key, results, site, sponsor = await a_scored_site()
    name = "مركز الأبحاث السريرية 🧪 " + "ب" * 150  # a name may hold 200 characters
    await Organisation.update({Organisation.name: name}).where(Organisation.id == site)
    comment = (
        await Answer.select(Answer.id)
        .where(
            (Answer.item.kind == "text")
            & (Answer.response.invitation.target == site)
            & (Answer.response.status == "submitted")
            & (Answer.response.invitation.cycle.key == key)
        )
        .first()
    )
    await Answer.update({Answer.text: "x" * 5000}).where(Answer.id == comment["id"])
    await TargetIndex.update({TargetIndex.comments_shown: True}).where(
        (TargetIndex.run == results.run) & (TargetIndex.target == site)
    )
    card = partner_scorecard(await cycle_results(key), site, sponsor, sponsor, "en")
    assert card.comments and max(len(c) for c in card.comments) > 5000, "the word is there"
    html = scorecard_html("partner", card, "en")
    assert "🧪" in html and "x" * 30 + "\u200b" in html, "shown whole, breakable"
    reader = PdfReader(io.BytesIO(pdf_of(html)))
    assert 2 <= len(reader.pages) <= 4, "the word wraps instead of running off the page"


async def test_an_unscored_cycle_has_no_scorecard(world_db: Engine) -> None:
    with pytest.raises(ScorecardError, match="not scored"):
        await cycle_results("2026-Q4")
    with pytest.raises(ScorecardError, match="no cycle"):
        await cycle_results("1999-Q1")


async def test_the_partner_replies_before_publication_and_the_reply_is_printed(
    scored_world_db: Engine,
) -> None:
    await publish_all_but_latest("test", NOW)
    key = await latest_scored()
    results = await cycle_results(key)
    site, sponsor = await a_rated_site(results.run)
    with pytest.raises(ReplyError, match="empty"):
        await write_reply(key, site, sponsor, "   ", Act("site@example.org", NOW))
    with pytest.raises(ReplyError, match="2,000 characters at most"):
        await write_reply(key, site, sponsor, "x" * 2001, Act("site@example.org", NOW))
    await write_reply(key, site, sponsor, "First draft", Act("site@example.org", NOW))
    await write_reply(
        key, site, sponsor, "We hired two coordinators in March.", Act("site@example.org", NOW)
    )
    assert await PartnerReply.count() == 1, "one reply per scorecard, replaced"
    card = partner_scorecard(await cycle_results(key), site, sponsor, site, "en")
    assert card.reply and card.reply["text"] == "We hired two coordinators in March."
    assert "We hired two coordinators in March." in text_of(
        pdf_of(scorecard_html("partner", card, "en"))
    )
    logged = (
        await AuditEntry.select(AuditEntry.detail)
        .where(AuditEntry.action == "scorecard.reply")
        .output(load_json=True)
    )
    assert [e["detail"]["text"] for e in logged] == [
        "First draft",
        "We hired two coordinators in March.",
    ]
    published = (await Cycle.select(Cycle.key).where(Cycle.status == "published").first())["key"]
    with pytest.raises(ReplyError, match="is published"):
        await write_reply(published, site, sponsor, "Too late", Act("site@example.org", NOW))


async def test_an_index_without_an_interval_is_printed_without_one_on_every_scorecard(
    scored_world_db: Engine,
) -> None:
    """A view with one rater has an index and no interval (a sponsor's k is 1): the
    portfolio and network scorecards print the index alone instead of failing."""
    from surveys.scorecards._batch import cycle_jobs, rendered_html

    key, results, site, _ = await a_scored_site()
    await TargetIndex.update({TargetIndex.ri_low: None, TargetIndex.ri_high: None}).where(
        (TargetIndex.run == results.run) & (TargetIndex.target == site)
    )
    results = await cycle_results(key)
    jobs = cycle_jobs(results, "a4", None)
    pages = {job.key: rendered_html(results, job) for job in jobs}
    kinds = {job.key.split("/")[0] for job in jobs}
    assert len(pages) == len(jobs) and len(kinds) >= 2, kinds
    name = results.orgs[site].name
    portfolio = next(html for k, html in pages.items() if "portfolio" in k and name in html)
    row = portfolio[portfolio.index(name) :].split("</tr>")[0]
    assert "[" not in row.split('class="num"')[1].split("</td>")[0], "no interval printed"
