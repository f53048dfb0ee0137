"""On a trends page every organisation's name opens its page, and only a page the reader may
open: a sponsor's people open a site's review meeting (never the site page, which shows other
sponsors' views), a network's people open the site page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.accounts.credentials import GrantRole, create_account
from surveys.accounts.policy import Reach
from surveys.directory.organisations import OrgKind
from surveys.web.contexts import member_links
from surveys.workspaces.institution_trends import Member, Scope
from tests.web.test_survey_form import in_browser
from tests.web.test_workspaces import NOW, characters, organisation_of, sign_in

pytestmark = pytest.mark.anyio
SPONSOR = Scope(1, "halvorsen", "Halvorsen", OrgKind.sponsor)
NETWORK = Scope(2, "northstar", "Northstar", OrgKind.network)
SITES = (
    Member(10, "lake-nathan", "Lake Nathan", "Northstar"),
    Member(11, "kyritz", "Kyritz", None),
)
ORGANISATION_LINK = re.compile(r'<a href="(/w/(?:sites|relationships|sponsors|networks)/[^"]+)">')


def test_a_sponsors_manager_opens_each_site_as_its_review_meeting_never_the_site_page() -> None:
    manager = Reach(portfolios={1: None}, managed=frozenset({1}))
    assert member_links(SPONSOR, SITES, manager) == {
        1: "/w/sponsors/halvorsen",
        10: "/w/relationships/halvorsen/lake-nathan/",
        11: "/w/relationships/halvorsen/kyritz/",
    }


def test_a_networks_manager_opens_its_sites_and_nothing_it_may_not_open() -> None:
    director = Reach(networks=frozenset({2}), sites=frozenset({10}), managed=frozenset({2, 10}))
    assert member_links(NETWORK, SITES, director) == {10: "/w/sites/lake-nathan"}
    assert member_links(NETWORK, SITES, Reach()) == {}


async def test_every_organisation_link_on_the_trends_page_opens_for_its_reader(
    scored_world_db: Engine,
) -> None:
    """The sponsor's relationship manager on the sponsor's trends and the network's director,
    made its relationship manager, on the network's: every organisation link answers 200 (a
    sponsor user or a network's plain user opens no trends page: tests/web/test_workspaces.py
    has the access matrix)."""
    from surveys.results.tier_review import publish_all_but_latest

    await publish_all_but_latest("test", NOW)
    people = await characters()
    sponsor = await organisation_of(people["relationship manager"])
    network = (await organisation_of(people["site coordinator"]))["network"]
    director = await organisation_of(people["network director"])
    await create_account(
        people["network director"], [(GrantRole.relationship_manager, director["id"])], NOW
    )

    async def follow(client: AsyncTestClient[Any], who: str, scope: str) -> dict[str, Any]:
        client.cookies.clear()
        await sign_in(client, people[who])
        page = (await client.get(f"/w/trends/{scope}")).text
        links = sorted(set(ORGANISATION_LINK.findall(page)))
        return {
            "page": page,
            "answers": {href: (await client.get(href)).status_code for href in links},
        }

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        return {
            "manager": await follow(client, "relationship manager", sponsor["slug"]),
            "director": await follow(client, "network director", director["slug"]),
        }

    seen = await in_browser(scored_world_db, steps)
    assert director["id"] == network, "the demo's director heads the coordinator's network"
    # a sponsor's people never open a site page: the sites open as their review meetings
    for who, kind, kinds in [
        ("manager", "relationships", {"relationships", "sponsors"}),
        ("director", "sites", {"sites"}),
    ]:
        answers = seen[who]["answers"]
        assert kind in {href.split("/")[2] for href in answers} <= kinds, who
        assert all(status == 200 for status in answers.values()), (who, answers)
        movers = seen[who]["page"].split('id="movers"', 1)[1].split('id="flags"', 1)[0]
        names = re.findall(r'<th scope="row">(.*?)</th>', movers)
        assert names and all(ORGANISATION_LINK.match(name) for name in names), who
