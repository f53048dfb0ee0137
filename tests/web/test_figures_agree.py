"""One relationship's figures read the same on every surface: the portfolio page, trends,
the site page, the meeting pack, the scorecards on screen and in PDF, the CSV and the API.

A reader who meets two numbers for one thing stops trusting both: the probe found a site
whose index change read +4 on the portfolio and +5 on the trends page and in the PDF."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine
from pypdf import PdfReader

from scoring.trends import shown_change
from surveys.accounts.credentials import Account, new_api_token
from surveys.cycles.cycle import Cycle
from surveys.directory.audit import Act
from surveys.directory.organisations import Organisation
from surveys.infra.templating import signed
from surveys.results.score_runs import DimensionScore, TargetIndex
from surveys.results.tier_review import publish_cycle
from tests.web.test_survey_form import in_browser
from tests.web.test_workspaces import characters, organisation_of, sign_in

pytestmark = pytest.mark.anyio


def words(markup: str) -> str:
    """The text a reader sees, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def row_of(page: str, name: str) -> str:
    """The text of the first table row naming `name`."""
    for row in re.findall(r"<tr\b.*?</tr>", page, flags=re.S):
        if html.escape(name) in row or name in html.unescape(row):
            return words(row)
    raise AssertionError(f"no row names {name}")


async def _latest_two() -> tuple[str, str]:
    scored = sorted(r["key"] for r in await Cycle.select(Cycle.key).where(Cycle.status == "scored"))
    return scored[-2], scored[-1]


async def _views(cycle: str, sponsor_id: int) -> dict[int, dict[str, Any]]:
    """The sponsor's shown view of each site in a cycle's run."""
    rows = await TargetIndex.select(
        TargetIndex.target,
        TargetIndex.reliability_index,
        TargetIndex.ri_low,
        TargetIndex.ri_high,
        TargetIndex.n_raters,
    ).where(
        (TargetIndex.cycle._.key == cycle)
        & (TargetIndex.rater_organisation == sponsor_id)
        & TargetIndex.shown.eq(True)
        & TargetIndex.reliability_index.is_not_null()
    )
    return {r["target"]: r for r in rows}


async def test_one_relationships_figures_read_the_same_everywhere(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    sponsor = await organisation_of(people["relationship manager"])
    before_cycle, cycle = await _latest_two()
    await publish_cycle(cycle, Act("test", dt.datetime.now(dt.UTC)))  # the site page shows it
    now, then = await _views(cycle, sponsor["id"]), await _views(before_cycle, sponsor["id"])
    both = [s for s in now if s in then]
    changes = {s: now[s]["reliability_index"] - then[s]["reliability_index"] for s in both}
    # the biggest mover is on the trends page's list; the probe's case is one whose
    # rounded figures' difference (76 − 72) is not the rounded difference (4.8 → 5)
    site_id = max(both, key=lambda s: abs(changes[s]))
    split = [
        s
        for s in both
        if round(now[s]["reliability_index"]) - round(then[s]["reliability_index"])
        != shown_change(now[s]["reliability_index"], then[s]["reliability_index"])
    ]
    assert split, "the small world has a change that the two roundings disagree on"
    site = (
        await Organisation.select(Organisation.slug, Organisation.name)
        .where(Organisation.id == site_id)
        .first()
    )
    figure, before = now[site_id], then[site_id]
    index, low, high = (round(figure[c]) for c in ("reliability_index", "ri_low", "ri_high"))
    change = signed(shown_change(figure["reliability_index"], before["reliability_index"]))
    account = (
        await Account.select(Account.id)
        .where(Account.person._.email == people["relationship manager"])
        .first()
    )
    token = await new_api_token(account["id"], "figures", dt.datetime.now(dt.UTC))
    # also the probe's case, on the portfolio's own surfaces
    odd = await Organisation.select(Organisation.name).where(Organisation.id == split[0]).first()
    odd_change = signed(
        shown_change(now[split[0]]["reliability_index"], then[split[0]]["reliability_index"])
    )
    card = f"/w/scorecards/{cycle}/partners/{site['slug']}/by/{sponsor['slug']}"
    folio = f"/w/scorecards/{cycle}/portfolios/{sponsor['slug']}"

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        bearer = {"Authorization": f"Bearer {token}"}
        api = await client.get(
            f"/api/portfolios/{sponsor['slug']}", headers=bearer, params={"per_page": 1000}
        )
        csv_text = await client.get(f"/api/portfolios/{sponsor['slug']}/csv", headers=bearer)
        trends_api = await client.get(f"/api/trends/{sponsor['slug']}", headers=bearer)
        await sign_in(client, people["relationship manager"])
        seen = {
            "portfolio": (await client.get(f"/w/sponsors/{sponsor['slug']}")).text,
            "trends": (await client.get(f"/w/trends/{sponsor['slug']}")).text,
            "card": (await client.get(card)).text,
            "card pdf": (await client.get(f"{card}/pdf")).content,
            "folio": (await client.get(folio)).text,
            "folio pdf": (await client.get(f"{folio}/pdf")).content,
            "meeting": (
                await client.get(f"/w/relationships/{sponsor['slug']}/{site['slug']}")
            ).text,
        }
        client.cookies.clear()
        await sign_in(client, people["administrator"])
        seen["site"] = (await client.get(f"/w/sites/{site['slug']}")).text
        return seen | {"api": api.json(), "csv": csv_text.text, "trends api": trends_api.json()}

    seen = await in_browser(scored_world_db, steps)
    interval = f"{index} [{low}–{high}]"
    # the portfolio page, its scorecard (HTML and PDF) and the trends page: index and change
    for page in ("portfolio", "folio"):
        row = row_of(seen[page], site["name"]).split()
        assert str(index) in row and change in row, (page, row, index, change)
        assert odd_change in row_of(seen[page], odd["name"]).split(), page
    mover = row_of(seen["trends"], site["name"]).split()
    assert {str(round(before["reliability_index"])), str(index), change} <= set(mover), mover
    # the site page and the partner scorecard (HTML and PDF): index, interval, raters
    assert interval in row_of(seen["site"], sponsor_name := await _name(sponsor["id"]))
    assert str(figure["n_raters"]) in row_of(seen["site"], sponsor_name).split()
    assert interval in words(seen["card"])
    for pdf in ("card pdf", "folio pdf"):
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(seen[pdf])).pages)
        flat = re.sub(r"\s+", " ", text)
        assert re.search(rf"\b{index} ?\[{low}\s?[–-]\s?{high}\]", flat), (pdf, interval)
    folio_text = re.sub(
        r"\s+",
        " ",
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(seen["folio pdf"])).pages),
    )
    assert re.search(
        rf"{re.escape(site['name'])}.*?\b{index} ?\[.*?\] .*?{re.escape(change)}", folio_text
    ), "the PDF's row reads the same change"
    # the API and the CSV give the stored figures and the same change
    [listed] = [s for s in seen["api"]["sites"] if s["slug"] == site["slug"]]
    assert round(listed["reliability_index"]) == index
    assert (round(listed["ri_low"]), round(listed["ri_high"])) == (low, high)
    assert signed(listed["index_change"]) == change
    [line] = [r for r in csv.DictReader(io.StringIO(seen["csv"])) if r["slug"] == site["slug"]]
    assert signed(int(line["index_change"])) == change
    assert round(float(line["reliability_index"])) == index
    movers = [*seen["trends api"]["improved"], *seen["trends api"]["declined"]]
    [moved] = [m for m in movers if m["slug"] == site["slug"]]
    assert signed(shown_change(moved["now"], moved["before"])) == change
    # the meeting pack states every "fix first" of the scorecard in the scorecard's words
    reasons = re.findall(
        r"scores \d+, below (?:the peers' median|its floor) of \d+", words(seen["card"])
    )
    meeting = words(seen["meeting"])
    assert all(reason in meeting for reason in reasons), (reasons, meeting)


async def _name(org_id: int) -> str:
    row = await Organisation.select(Organisation.name).where(Organisation.id == org_id).first()
    return str(row["name"])


async def test_fix_first_is_judged_against_a_standard_the_scorecard_names(
    scored_world_db: Engine,
) -> None:
    """Every stored "fix first" is important and below its standard as printed, and the
    scorecard names that standard; a partner strong everywhere has nothing to fix."""
    rows = await DimensionScore.select(
        DimensionScore.mean,
        DimensionScore.standard,
        DimensionScore.standard_kind,
        DimensionScore.quadrant,
        DimensionScore.importance,
    ).where(DimensionScore.shown.eq(True) & DimensionScore.importance.is_not_null())
    assert rows
    fixes = [r for r in rows if r["quadrant"] == "fix first"]
    assert fixes, "the small world has something to fix first"
    for r in fixes:
        assert r["standard"] is not None and r["standard_kind"] in {"peers", "floor"}
        assert round(r["mean"]) < r["standard"]
    above = [r for r in rows if r["standard"] is not None and round(r["mean"]) >= r["standard"]]
    assert above and all(r["quadrant"] != "fix first" for r in above)
    assert {r["standard_kind"] for r in rows} >= {"peers"}


async def test_a_provisional_index_gets_no_percentile_and_the_rate_is_shown(
    scored_world_db: Engine,
) -> None:
    """ "Percentile 100 (of 32)" from a single rater, and "Raters · response rate: 1" with no
    rate, were the probe's findings on a sponsor's scorecard of a site."""
    people = await characters()
    sponsor = await organisation_of(people["relationship manager"])
    _, cycle = await _latest_two()
    views = await TargetIndex.select(
        TargetIndex.target._.slug.as_alias("site"),
        TargetIndex.n_raters,
        TargetIndex.response_rate,
    ).where(
        (TargetIndex.cycle._.key == cycle)
        & (TargetIndex.rater_organisation == sponsor["id"])
        & TargetIndex.shown.eq(True)
    )
    assert views and all(v["response_rate"] is not None for v in views), "every view has a rate"
    thin = next((v for v in views if v["n_raters"] < 3), None)
    # a site its sponsor sees through enough raters to be ranked among that sponsor's sites
    thick = (
        await TargetIndex.select(
            TargetIndex.target._.slug.as_alias("site"),
            TargetIndex.rater_organisation._.slug.as_alias("rater"),
        )
        .where(
            (TargetIndex.cycle._.key == cycle)
            & (TargetIndex.target._.kind == "site")
            & TargetIndex.rater_organisation.is_not_null()
            & TargetIndex.shown.eq(True)
            & (TargetIndex.n_raters >= 3)
        )
        .first()
    )
    base = f"/w/scorecards/{cycle}/partners"

    async def steps(client: AsyncTestClient[Any]) -> dict[str, str]:
        await sign_in(client, people["administrator"])
        pages = {
            "thick": (await client.get(f"{base}/{thick['site']}/by/{thick['rater']}?lang=en")).text
        }
        if thin:
            pages["thin"] = (
                await client.get(f"{base}/{thin['site']}/by/{sponsor['slug']}?lang=en")
            ).text
        return pages

    pages = await in_browser(scored_world_db, steps)
    assert thin, "the small world has a site its sponsor rated through one or two people"
    thin_text = words(pages["thin"])
    assert "not given while the index is provisional" in thin_text
    assert not re.search(r"Percentile among peers \d+", thin_text)
    rate = round(100 * thin["response_rate"])
    assert re.search(rf"Raters · response rate {thin['n_raters']} · {rate}\s?%", thin_text)
    thick_text = words(pages["thick"])
    ranked = thick_text[thick_text.index("Percentile among peers") :][:80]
    # three raters are not provisional: a missing rank there has the other reason
    assert "provisional" not in ranked and (
        re.match(r"Percentile among peers \d+ \(of \d+\)", ranked)
        or ranked.startswith("Percentile among peers too few peers or responses")
    ), ranked
