"""Anonymity across views (DESIGN.md §4): no page, CSV or API response shows a cell the score
run hid, nor anything computed from one, and no two figures side by side leave fewer than k
raters to be found by difference.

The first test is differential: every hidden cell of every run is given one set of values,
every character opens every workspace page, API route and CSV (and the earlier cycles of
those that take one); then the hidden cells are given other values and everything is opened
again. A view that shows a hidden cell, or folds one into a median, a roll-up, a chart or a
mover, changes between the two rounds; a view that honours the thresholds cannot.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from scoring.anonymity import minimum_raters
from scoring.config import ScoringConfig
from surveys.directory.organisations import Organisation, Relationship
from surveys.results.score_runs import (
    DimensionScore,
    EscalationFlag,
    PerceptionGap,
    TargetIndex,
    scored_cycles,
)
from surveys.results.tier_review import publish_all_but_latest
from surveys.workspaces.meeting_pack import meeting_pack
from tests.web.test_survey_form import in_browser
from tests.web.test_workspaces import characters, organisation_of, sign_in, workspace_pages

pytestmark = pytest.mark.anyio

VOLATILE = re.compile(r'(name="_csrf_token" value=")[^"]+|(csrftoken=)[^;"]+')
"""What differs between two identical requests: the CSRF token."""


async def hide_in_hidden_cells(value: float) -> None:
    """Give every cell the runs hid, and every figure that hangs on one, this value (0–100)."""
    share, spread = value / 100, min(value, 100 - value, 5.0)
    figures = {
        "reliability_index": value,
        "raw_index": value,
        "plain_score": value,
        "quality": value,
        "dependability": value,
        "speed": value,
        "cost": value,
        "shrinkage": share,
        "predictability": value,
        "trend_slope": value / 10,
        "trend_p": share,
        "nps": value,
        "ri_low": value - spread,
        "ri_high": value + spread,
    }
    await TargetIndex.update(
        {getattr(TargetIndex, k): v for k, v in figures.items()}
        | {TargetIndex.n_raters: TargetIndex.n_raters + (1 if value > 50 else 0)}
    ).where(TargetIndex.shown.eq(False))
    await TargetIndex.update(
        {
            TargetIndex.trend_slope: value / 10,
            TargetIndex.trend_p: share,
            TargetIndex.predictability: value,
        }
    ).where(TargetIndex.trend_shown.eq(False))
    await DimensionScore.update(
        {
            DimensionScore.mean: value,
            DimensionScore.shrunk: value,
            DimensionScore.top_box: share,
            DimensionScore.low: value - spread,
            DimensionScore.high: value + spread,
            DimensionScore.rwg: share,
            DimensionScore.n_raters: DimensionScore.n_raters + (1 if value > 50 else 0),
        }
    ).where(DimensionScore.shown.eq(False))
    await DimensionScore.update(
        {
            DimensionScore.stated_importance: value,
            DimensionScore.derived_importance: share,
            DimensionScore.importance: value,
            DimensionScore.quadrant: "fix first" if value > 50 else "keep up",
        }
    ).where(DimensionScore.importance_shown.eq(False))
    await PerceptionGap.update(
        {
            PerceptionGap.site_view: value,
            PerceptionGap.partner_view: 100 - value,
            PerceptionGap.gap: 2 * value - 100,
        }
    ).where(PerceptionGap.shown.eq(False))
    await EscalationFlag.update({EscalationFlag.detail: f"hidden detail {value:.0f}"}).where(
        EscalationFlag.shown.eq(False)
    )


async def every_view(people: dict[str, str], pages: dict[str, str]) -> Any:
    """Steps for `in_browser`: each character opens every page; what each got, normalised."""

    async def steps(client: AsyncTestClient[Any]) -> dict[tuple[str, str], tuple[int, str]]:
        seen = {}
        for who, email in people.items():
            client.cookies.clear()
            await sign_in(client, email)
            for path in pages:
                response = await client.get(path, follow_redirects=False)
                seen[(who, path)] = (response.status_code, VOLATILE.sub(r"\1\2", response.text))
        return seen

    return steps


@pytest.mark.slow
async def test_no_view_depends_on_a_cell_the_run_hid(scored_world_db: Engine) -> None:
    await publish_all_but_latest("test", dt.datetime.now(dt.UTC))
    people = await characters()
    pages = await workspace_pages(people)
    earlier = (await scored_cycles())[-1]["key"]  # the oldest scored cycle, beside the latest
    for path in list(pages):
        if path.startswith(("/w/sponsors/", "/w/trends/", "/api/portfolios/", "/api/trends/")):
            pages[f"{path}?cycle={earlier}"] = pages[path] + f" in {earlier}"
    hidden = await TargetIndex.count().where(TargetIndex.shown.eq(False))
    assert hidden > 0, "the small world has cells with too few raters"

    await hide_in_hidden_cells(10.0)
    first = await in_browser(scored_world_db, await every_view(people, pages))
    await hide_in_hidden_cells(90.0)
    second = await in_browser(scored_world_db, await every_view(people, pages))

    opened = [key for key, (status, _) in first.items() if status == 200]
    assert len(opened) > 100, "the characters opened their pages"
    changed = sorted(
        f"{who} on {pages[path]} ({path})"
        for (who, path) in first
        if first[(who, path)] != second[(who, path)]
    )
    assert changed == [], "these views show (or use) a hidden cell"


async def test_what_a_sponsor_reads_of_its_sites_views_hides_every_small_group(
    scored_world_db: Engine,
) -> None:
    """Disclosure by difference: each site's view of the sponsor that a meeting pack quotes
    has k raters, and the pooled view beside it leaves at least k others (or none)."""
    await publish_all_but_latest("test", dt.datetime.now(dt.UTC))
    k = minimum_raters("site_rates_sponsor", ScoringConfig())
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    run = int((await scored_cycles(("published",)))[0]["run"])
    sites = [
        r["site"]
        for r in await Relationship.select(Relationship.site).where(
            Relationship.sponsor == sponsor["id"]
        )
    ]
    scores = (
        await DimensionScore.select(
            DimensionScore.rater_organisation,
            DimensionScore.dimension.name.as_alias("name"),
            DimensionScore.n_raters,
            DimensionScore.shown,
            DimensionScore.mean,
        )
        .where((DimensionScore.run == run) & (DimensionScore.target == sponsor["id"]))
        .output(load_json=True)
    )
    pooled = {r["name"]["en"]: r["n_raters"] for r in scores if r["rater_organisation"] is None}
    by_site = {
        (r["rater_organisation"], r["name"]["en"]): r
        for r in scores
        if r["rater_organisation"] is not None
    }

    quoted = []
    for site in sites:
        pack = await meeting_pack(sponsor["id"], site, dt.date.today())
        for point in pack.agenda:
            if point.kind == "fix first" and point.text.startswith(pack.sponsor):
                name = point.text.removeprefix(f"{pack.sponsor}: ").split(" matters most")[0]
                quoted.append(by_site[(site, name)] | {"group": pooled[name]})
    assert quoted, "some pack quotes a site's view of the sponsor"
    for cell in quoted:
        assert cell["shown"] and cell["n_raters"] >= k, "a quoted cell has k raters"
        left = cell["group"] - cell["n_raters"]
        assert left == 0 or left >= k, "beside the pooled view, the rest still has k raters"


async def test_the_shown_views_of_a_sponsor_leave_no_rater_to_be_found_by_difference(
    scored_world_db: Engine,
) -> None:
    """Over every run and every sponsor or CRO: the raters outside its shown site views are
    none or at least k, for the index and for each dimension, so no shown view, nor the
    pooled one beside them, isolates fewer than k raters."""
    k = minimum_raters("site_rates_sponsor", ScoringConfig())
    partners = [
        r["id"]
        for r in await Organisation.select(Organisation.id).where(
            Organisation.kind.is_in(["sponsor", "cro"])
        )
    ]
    rows: list[dict[str, Any]] = []
    for table in (TargetIndex, DimensionScore):
        extra = (DimensionScore.dimension,) if table is DimensionScore else ()
        found = await table.select(
            table.run,
            table.target,
            table.rater_organisation,
            table.n_raters,
            table.shown,
            *extra,
        ).where(table.target.is_in(partners))
        rows += [dict(r, table=table.__name__) for r in found]
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["table"], row["run"], row["target"], row.get("dimension"))
        group = groups.setdefault(key, {"pooled": None, "shown": 0, "views": 0})
        if row["rater_organisation"] is None:
            group["pooled"] = row
        elif row["shown"]:
            group["shown"] += row["n_raters"]
            group["views"] += 1
    checked = 0
    for key, group in groups.items():
        if group["pooled"] is None or not group["views"]:
            continue
        left = group["pooled"]["n_raters"] - group["shown"]
        assert left == 0 or left >= k, f"{key}: {left} raters could be found by difference"
        checked += 1
    assert checked > 20, "many groups have shown views beside the pooled one"
