"""Anonymity across views (DESIGN.md §4): whatever a sponsor's people can read of how sites
see their organisation comes from at least k raters, and no two such figures side by side
leave fewer than k raters to be found by difference."""

from __future__ import annotations

import datetime as dt

import pytest
from piccolo.engine.base import Engine

from scoring.anonymity import minimum_raters
from scoring.config import ScoringConfig
from surveys.cycle_scoring import score_closed_cycles
from surveys.meetings import meeting_pack
from surveys.organisations import Relationship
from surveys.portfolio import scored_cycles
from surveys.score_runs import DimensionScore
from surveys.tier_review import publish_all_but_latest
from tests.web.test_workspaces import characters, organisation_of

pytestmark = pytest.mark.anyio


async def test_what_a_sponsor_reads_of_its_sites_views_hides_every_small_group(
    world_db: Engine,
) -> None:
    await score_closed_cycles(ScoringConfig(), "test", "test")
    await publish_all_but_latest("test", dt.datetime.now(dt.UTC))
    k = minimum_raters("site_rates_sponsor", ScoringConfig())
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    run = int((await scored_cycles(("published",)))[0]["run"])
    sites = [r["site"] for r in await Relationship.select(Relationship.site).where(
        Relationship.sponsor == sponsor["id"])]  # fmt: skip
    scores = await DimensionScore.select(
        DimensionScore.rater_organisation, DimensionScore.dimension.name.as_alias("name"),
        DimensionScore.n_raters, DimensionScore.shown, DimensionScore.mean,
    ).where((DimensionScore.run == run) & (DimensionScore.target == sponsor["id"])).output(
        load_json=True
    )  # fmt: skip
    pooled = {r["name"]["en"]: r["n_raters"] for r in scores if r["rater_organisation"] is None}
    by_site = {(r["rater_organisation"], r["name"]["en"]): r for r in scores
               if r["rater_organisation"] is not None}  # fmt: skip

    # every figure about the sponsor that a meeting pack quotes from one site's raters
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
    # and every hidden cell stays out of every pack
    hidden = [c for c in by_site.values() if not c["shown"] and c["mean"] is not None]
    assert hidden, "the small world has sites with too few raters of this sponsor"
