"""Words a reader understands: pages name dimensions and therapeutic areas, never codes, and
speak to the reader they are shown to."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from scoring.config import ScoringConfig
from surveys.cycles.cycle import Cycle
from surveys.directory.audit import Act
from surveys.directory.rules import area_name
from surveys.instruments.catalogue import mirror_names
from surveys.results.score_runs import PerceptionGap
from surveys.results.tier_review import publish_cycle
from tests.web.test_survey_form import in_browser
from tests.web.test_workspaces import characters, organisation_of, sign_in

pytestmark = pytest.mark.anyio


def test_an_area_reads_as_its_name_and_an_unknown_one_as_words() -> None:
    assert area_name("infectious_disease") == "Infectious diseases"
    assert area_name("gene_therapy") == "Gene therapy"


async def test_pages_speak_in_names_and_to_their_reader(scored_world_db: Engine) -> None:
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    coordinator = await organisation_of(people["site coordinator"])
    scored = await Cycle.select(Cycle.key).where(Cycle.status == "scored")
    latest = max(row["key"] for row in scored)
    await publish_cycle(latest, Act("test", dt.datetime.now(dt.UTC)))  # sites see it now
    gap = (
        await PerceptionGap.select(PerceptionGap.site._.slug.as_alias("site"), PerceptionGap.mirror)
        .where(PerceptionGap.shown.eq(True) & (PerceptionGap.cycle._.key == latest))
        .first()
    )
    assert gap, "the small world shows a perception gap in its latest published cycle"
    names = await mirror_names()

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, people["administrator"])
        seen: dict[str, Any] = {
            "site": (await client.get(f"/w/sites/{gap['site']}")).text,
            "portfolio": (await client.get(f"/w/sponsors/{sponsor['slug']}")).text,
        }
        client.cookies.clear()
        await sign_in(client, people["network director"])
        seen["network's view"] = (await client.get(f"/w/sites/{coordinator['slug']}")).text
        client.cookies.clear()
        await sign_in(client, people["site coordinator"])
        seen["own"] = (await client.get(f"/w/sites/{coordinator['slug']}")).text
        drafts = re.findall(r'href="(/w/scorecards/[^"]+/by/[^"]+)"', seen["own"])
        seen["drafts"] = drafts
        seen["draft"] = (await client.get(drafts[0])).text if drafts else ""
        return seen

    pages = await in_browser(scored_world_db, steps)
    cells = re.findall(r"<tr><th scope=\"row\">[^<]*</th><td>([^<]*)</td>", pages["site"])
    assert names[gap["mirror"]] in cells, cells
    assert not set(cells) & set(names) - set(names.values()), "no mirror key shown as such"
    chooser = re.search(r'<select id="f-area".*?</select>', pages["portfolio"], re.S)
    assert chooser, "the portfolio filters by therapeutic area"
    areas = re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]*)</option>', chooser[0])
    assert areas and all(label == area_name(code) for code, label in areas)
    # the network's director reads about the site; the site's coordinator is spoken to
    assert "How your sponsors rate you" in pages["own"]
    assert "How your sponsors rate you" not in pages["network's view"]
    assert "How its sponsors rate " in pages["network's view"]
    needed = f"fewer than {ScoringConfig().anonymity.site_rates_sponsor} of them"
    assert needed in pages["own"] and needed in pages["network's view"]
    # the site's own people find the scorecards they may answer before publication
    assert pages["drafts"] and "before publication" in pages["own"]
    assert "Write or change the reply" in pages["draft"]
    assert "before publication" not in pages["network's view"], "the network does not reply"
