"""Reach under probing: a sponsor opens scorecards of the sites it works with only; what is
missing and what is out of reach get one answer; a partner's reply is its own people's to
write (surveys.accounts.policy, surveys.web.reach, surveys.web.pages.error_page). The
network director refused its member site's reply, on the served app, is in
tests/web/test_scorecards.py."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.accounts.policy import Reach
from surveys.cycles.cycle import Cycle
from surveys.directory.organisations import Organisation, OrgKind, Relationship
from surveys.results.score_runs import scored_cycles
from surveys.web.app import create_app
from tests.web.test_survey_form import in_browser
from tests.web.test_workspaces import (
    characters,
    latest_scored_cycle,
    organisation_of,
    other_sponsor,
    outside_site,
    sign_in,
)

pytestmark = pytest.mark.anyio

SPONSOR, OTHER, CRO, SITE, ELSEWHERE, NETWORK = 1, 2, 3, 10, 11, 20
"""Ids of a made-up world for the policy's own tests: the sponsor works with SITE through
the CRO, and with ELSEWHERE itself; NETWORK holds both sites."""
SPONSOR_USER = Reach(portfolios={SPONSOR: None}, own=frozenset({SPONSOR}))
CRO_USER = Reach(portfolios={SPONSOR: frozenset({SITE})}, own=frozenset({CRO}))
SITE_USER = Reach(sites=frozenset({SITE}), own=frozenset({SITE}))
NETWORK_DIRECTOR = Reach(networks=frozenset({NETWORK}), sites=frozenset({SITE, ELSEWHERE}))
SITES_MANAGER = Reach(managed=frozenset({SITE}), sites=frozenset({SITE}))
ADMINISTRATOR = Reach(administrator=True)
NOT_FOUND = {"status_code": 404, "detail": "no such page"}
"""The one answer a program gets for whatever it may not open."""


def test_a_whole_portfolio_reaches_the_sites_the_sponsor_works_with_and_no_other() -> None:
    for reach in (SPONSOR_USER, CRO_USER, SITE_USER, NETWORK_DIRECTOR, ADMINISTRATOR):
        assert reach.may_see_partner_scorecard(SITE, OrgKind.site, SPONSOR, works_with=True)
        assert not reach.may_see_partner_scorecard(SITE, OrgKind.site, SPONSOR, works_with=False), (
            f"{reach}: no relationship, no scorecard of the site by that sponsor"
        )
        assert not reach.may_see_relationship(SPONSOR, SITE, works_with=False)
    assert not CRO_USER.may_see_partner_scorecard(
        ELSEWHERE, OrgKind.site, SPONSOR, works_with=True
    ), "a CRO's users see the sites it works on, not the sponsor's others"
    assert not SPONSOR_USER.may_see_partner_scorecard(SITE, OrgKind.site, OTHER, works_with=True)


def test_a_sponsors_own_scorecard_is_the_pooled_one_for_its_own_people() -> None:
    def pooled(reach: Reach, subject: int, view: int | None = None) -> bool:
        return reach.may_see_partner_scorecard(subject, OrgKind.sponsor, view, works_with=False)

    assert pooled(SPONSOR_USER, SPONSOR) and pooled(ADMINISTRATOR, SPONSOR)
    assert not pooled(SPONSOR_USER, OTHER) and not pooled(SITE_USER, SPONSOR)
    assert not pooled(SPONSOR_USER, SPONSOR, OTHER) and not pooled(ADMINISTRATOR, SPONSOR, OTHER)
    assert pooled(CRO_USER, CRO) and not pooled(CRO_USER, SPONSOR)
    for reach in (SPONSOR_USER, SITE_USER, ADMINISTRATOR):
        assert not reach.may_see_partner_scorecard(SITE, OrgKind.site, None, works_with=False)


def test_only_a_partners_own_people_write_its_reply() -> None:
    assert SITE_USER.may_reply_to_scorecard(SITE) and SPONSOR_USER.may_reply_to_scorecard(SPONSOR)
    assert CRO_USER.may_reply_to_scorecard(CRO)
    for reach in (NETWORK_DIRECTOR, SITES_MANAGER, ADMINISTRATOR, SPONSOR_USER, CRO_USER):
        assert not reach.may_reply_to_scorecard(SITE), f"{reach} does not speak for the site"
    assert NETWORK_DIRECTOR.may_see_partner_scorecard(SITE, OrgKind.site, SPONSOR, works_with=True)


async def test_a_scorecard_by_a_sponsor_opens_only_for_a_site_it_works_with(
    scored_world_db: Engine,
) -> None:
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    outside = await outside_site(sponsor["id"])
    inside = await _a_site_of(sponsor["id"])
    coordinator = await organisation_of(people["site coordinator"])
    stranger = await _a_sponsor_not_working_with(coordinator["id"])
    cards = f"/w/scorecards/{await latest_scored_cycle()}/partners"
    by = f"by/{sponsor['slug']}"
    other = await other_sponsor(sponsor["id"])
    through_cro = await _cro_and_not_cro_sites(await organisation_of(people["CRO user"]))

    asked = {
        "sponsor user": [
            f"{cards}/{inside}/{by}",
            f"{cards}/{outside}/{by}",
            f"{cards}/{outside}/{by}/pdf",
            f"{cards}/{outside}/reply?by={sponsor['slug']}",
            f"{cards}/{outside}",
            f"{cards}/{sponsor['slug']}/by/{other['slug']}",
        ],
        "CRO user": [f"{cards}/{site}/by/{owner}" for owner, site in through_cro],
        "site coordinator": [f"{cards}/{coordinator['slug']}/by/{stranger}"],
        "administrator": [f"{cards}/{outside}/{by}"],
    }

    async def steps(client: AsyncTestClient[Any]) -> dict[tuple[str, str], Any]:
        seen = {}
        for who, paths in asked.items():
            client.cookies.clear()
            await sign_in(client, people[who])
            for path in paths:
                seen[(who, path)] = await client.get(path)
        return seen

    name = await _name_of(outside)
    seen = await in_browser(scored_world_db, steps)
    opened = {key for key, response in seen.items() if response.status_code == 200}
    assert opened == {
        ("sponsor user", f"{cards}/{inside}/{by}"),
        ("CRO user", f"{cards}/{through_cro[0][1]}/by/{through_cro[0][0]}"),
    }, "a sponsor's people (a CRO's on its sites) open the scorecards of sites it works with"
    for (who, path), response in seen.items():
        if (who, path) not in opened:
            assert response.status_code == 404, f"{who} on {path}"
            assert name not in response.text, f"{who} on {path}: nothing of the site shown"


async def test_what_is_missing_and_what_is_out_of_reach_get_one_answer(
    scored_world_db: Engine,
) -> None:
    """Every API route, and pages asked for by a program (JSON, or no Accept at all), with a
    slug that names nothing and with one that names something out of reach: one answer.
    Only the log, for security review, tells them apart."""
    people = await characters()
    sponsor = await organisation_of(people["sponsor user"])
    own, other = sponsor["slug"], (await other_sponsor(sponsor["id"]))["slug"]
    outside = await outside_site(sponsor["id"])
    network = await Organisation.select(Organisation.slug).where(Organisation.kind == "network")
    cycle = await latest_scored_cycle()
    unscored = await _an_unscored_cycle()
    gone = "no-such-thing-here"
    # route → (missing, out of reach) pairs of the path's parameters, the others in reach
    api = {
        "/api/portfolios/{slug:str}": [({"slug": gone}, {"slug": other})],
        "/api/trends/{slug:str}": [({"slug": gone}, {"slug": other})],
        "/api/sites/{slug:str}": [({"slug": gone}, {"slug": outside})],
        "/api/networks/{slug:str}": [({"slug": gone}, {"slug": network[0]["slug"]})],
        "/api/relationships/{sponsor:str}/{site:str}/actions": [
            ({"sponsor": own, "site": gone}, {"sponsor": own, "site": outside}),
            ({"sponsor": gone, "site": outside}, {"sponsor": other, "site": outside}),
        ],
        "/api/cycles/{key:str}": [({"key": gone}, {"key": cycle})],
    }
    api["/api/portfolios/{slug:str}/tiers"] = api["/api/portfolios/{slug:str}"]
    for path in list(api):
        if not path.startswith("/api/cycles/"):
            api[f"{path}/csv"] = api[path]
    for action in ("open", "remind", "close"):
        api[f"/api/cycles/{{key:str}}/{action}"] = api["/api/cycles/{key:str}"]
    routes = {r.path: r for r in create_app().routes if r.path.startswith("/api/")}
    assert set(routes) - {"/api/cycles"} == set(api), "add the new API routes here"
    pairs: list[tuple[str, str, str, dict[str, str]]] = [
        (method, _filled(path, missing), _filled(path, hidden), {})
        for path, cases in api.items()
        for method in sorted(routes[path].methods - {"HEAD", "OPTIONS"})
        for missing, hidden in cases
    ]
    cards = f"/w/scorecards/{cycle}"
    pages = [
        (f"/w/sponsors/{gone}", f"/w/sponsors/{other}"),
        (f"/w/sponsors/{gone}/tiers", f"/w/sponsors/{other}/tiers"),
        (f"/w/trends/{gone}", f"/w/trends/{other}"),
        (f"/w/sites/{gone}", f"/w/sites/{outside}"),
        (f"/w/relationships/{own}/{gone}/", f"/w/relationships/{own}/{outside}/"),
        (f"{cards}/partners/{gone}/by/{own}", f"{cards}/partners/{outside}/by/{own}"),
        (f"{cards}/portfolios/{gone}", f"{cards}/portfolios/{other}"),
        (f"/w/scorecards/{gone}/partners/{own}", f"/w/scorecards/{unscored}/partners/{own}"),
    ]
    for accept in ({"Accept": "application/json"}, {"Accept": ""}):
        pairs += [("GET", missing, hidden, accept) for missing, hidden in pages]

    async def steps(client: AsyncTestClient[Any]) -> list[tuple[str, Any, Any]]:
        await sign_in(client, people["sponsor user"])
        answers = []
        for method, missing, hidden, headers in pairs:
            answers.append(
                (
                    f"{method} {missing} / {hidden} {headers}",
                    await client.request(method, missing, headers=headers),
                    await client.request(method, hidden, headers=headers),
                )
            )
        return answers

    refused = _Lines()
    logging.getLogger("surveys.web.pages").addHandler(refused)
    try:
        answers = await in_browser(scored_world_db, steps)
    finally:
        logging.getLogger("surveys.web.pages").removeHandler(refused)
    assert any(f"sponsor {other}" in line for line in refused.lines), "refusals are logged"
    for asked, missing, hidden in answers:
        assert missing.status_code == hidden.status_code, asked
        assert missing.content == hidden.content, asked
        assert _headers(missing) == _headers(hidden), asked
        if missing.status_code == 404:
            assert missing.json() == NOT_FOUND, asked
        else:  # the administrators' routes ask for an administrator's token first
            assert asked.split()[1].startswith("/api/cycles/") and missing.status_code == 401


class _Lines(logging.Handler):
    """The lines a logger wrote, kept (the app's logging set-up replaces pytest's capture)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _filled(path: str, values: dict[str, str]) -> str:
    """A route's path with its parameters filled in."""
    for name, value in values.items():
        path = path.replace(f"{{{name}:str}}", value)
    return path


def _headers(response: Any) -> dict[str, str]:
    """A response's headers, but for the moment it was sent."""
    return {k: v for k, v in response.headers.items() if k.lower() != "date"}


async def _a_site_of(sponsor_id: int) -> str:
    """The slug of a site the sponsor works with."""
    row = (
        await Relationship.select(Relationship.site.slug.as_alias("slug"))
        .where(Relationship.sponsor == sponsor_id)
        .first()
    )
    return str(row["slug"])


async def _a_sponsor_not_working_with(site_id: int) -> str:
    """The slug of a sponsor that has no relationship with the site."""
    partners = Relationship.select(Relationship.sponsor).where(Relationship.site == site_id)
    row = (
        await Organisation.select(Organisation.slug)
        .where((Organisation.kind == OrgKind.sponsor.value) & Organisation.id.not_in(partners))
        .first()
    )
    return str(row["slug"])


async def _cro_and_not_cro_sites(cro: dict[str, Any]) -> list[tuple[str, str]]:
    """(sponsor, site) slugs: first a site the CRO works on for a sponsor, then one of that
    sponsor's sites it does not work on."""
    rows = await Relationship.select(
        Relationship.sponsor.slug.as_alias("sponsor"),
        Relationship.site.slug.as_alias("site"),
        Relationship.cro,
    ).where(
        Relationship.sponsor.is_in(
            Relationship.select(Relationship.sponsor).where(Relationship.cro == cro["id"])
        )
    )
    on = next(r for r in rows if r["cro"] == cro["id"])
    off = next(r for r in rows if r["cro"] != cro["id"] and r["sponsor"] == on["sponsor"])
    return [(on["sponsor"], on["site"]), (off["sponsor"], off["site"])]


async def _name_of(slug: str) -> str:
    """An organisation's name."""
    row = await Organisation.select(Organisation.name).where(Organisation.slug == slug).first()
    return str(row["name"])


async def _an_unscored_cycle() -> str:
    """The key of a cycle that exists but has no scorecards (not scored yet)."""
    scored = [str(c["key"]) for c in await scored_cycles()]
    row = await Cycle.select(Cycle.key).where(Cycle.key.not_in(scored or [""])).first()
    return str(row["key"])
