"""The probe's attack on peer benchmarks, played on every surface that shows peers.

The probe took the three quartiles of 3 peer sponsors from the portfolio page, knew the
method, and solved them for a peer's exact index. Here a reader knows the method, the
group's size, its own value and its rank (its percentile says so) and every figure a
surface shows, and works out by linear programming, per other member, the narrowest range
its value could lie in (the values sorted, on 0–100, each figure known to the step it is
printed in). No member's whole-point value may come out, nor any exact value. Surfaces:
the portfolio page, its API twin (its CSV has no benchmark), the portfolio scorecard, and
partner scorecards (dimension quartiles, "percentile N of M") of sponsors and of sites.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine
from scipy.optimize import linprog

from scoring.anonymity import (
    QUARTILE_MEMBERS,
    SHOWN_STEP,
    PeerSpread,
    peer_percentile,
    peer_spread,
    quantile_weights,
)
from scoring.config import ScoringConfig
from surveys.directory.organisations import Organisation
from surveys.results.score_runs import ScoreRun, TargetIndex, run_config
from surveys.scorecards import (
    CycleResults,
    cycle_results,
    partner_scorecard,
    portfolio_scorecard,
    scorecard_html,
)
from surveys.workspaces.portfolio import MEASURES, portfolio
from surveys.workspaces.scored import cycle_runs
from tests.scoring.test_peer_spread import determined
from tests.web.test_survey_form import in_browser
from tests.web.test_workspaces import (
    characters,
    latest_scored_cycle,
    organisation_of,
    sign_in,
)

pytestmark = pytest.mark.anyio

DEFAULT = ScoringConfig().anonymity.peers
STORED = 0.0005
"""Half the precision of the index the probe recovered (50.591): "equal" at that grain."""


def ranges(
    weights: np.ndarray, figures: Sequence[float], step: float, known: dict[int, float]
) -> dict[int, tuple[float, float]]:
    """For each rank the reader does not know, the least and greatest value it can take
    given the figures (each within half a step), the known ranks' values and the order."""
    n = weights.shape[1]
    order = np.eye(n)[:-1] - np.eye(n, k=1)[:-1]  # x_i − x_{i+1} ≤ 0
    bounds = [(known[i], known[i]) if i in known else (0.0, 100.0) for i in range(n)]
    upper = np.vstack([order, weights, -weights])
    limit = np.concatenate(
        [np.zeros(n - 1), np.asarray(figures) + step / 2, -(np.asarray(figures) - step / 2)]
    )
    found = {}
    for rank in (i for i in range(n) if i not in known):
        goal = np.eye(n)[rank]
        low = linprog(goal, A_ub=upper, b_ub=limit, bounds=bounds, method="highs")
        high = linprog(-goal, A_ub=upper, b_ub=limit, bounds=bounds, method="highs")
        assert low.status == 0 and high.status == 0, "the true values are a solution"
        found[rank] = (float(low.fun), float(-high.fun))
    return found


def whole_points(low: float, high: float) -> int:
    """How many whole-point values (as a page prints them) a range leaves possible."""
    return int(np.floor(high + 0.5) - np.floor(low + 0.5)) + 1


def attack(group: Sequence[float], own: float, shown: PeerSpread) -> dict[int, tuple[float, float]]:
    """Everything the reader can work out of the others' values from a benchmark."""
    ordered = sorted(group)
    probabilities = [0.25, 0.5, 0.75] if shown.quartiles else [0.5]
    figures = list(shown.quartiles or (shown.median,))
    known = {ordered.index(own): own}  # its rank: the percentile gives it away
    return ranges(quantile_weights(len(ordered), probabilities), figures, SHOWN_STEP, known)


def assert_no_figure_is_a_peers_value(
    group: Sequence[float], own: float, shown: PeerSpread
) -> None:
    """No figure equals another member's value as stored, unless that value is itself a
    whole number: the figures are whole points, so they carry none of a peer's decimals."""
    others = list(group)
    others.remove(own)
    for figure in shown.quartiles or (shown.median,):
        assert figure == round(figure), f"{figure} carries more than whole points"
        for value in others:
            coincidence = abs(value - round(value)) <= STORED
            assert abs(figure - value) > STORED or coincidence, f"{figure} is a peer's value"


def assert_the_attack_fails(group: Sequence[float], own: float, shown: PeerSpread) -> None:
    for rank, (low, high) in attack(group, own, shown).items():
        assert whole_points(low, high) >= 2, (
            f"rank {rank} of {sorted(group)} lies in [{low:.3f}, {high:.3f}]: its score is out"
        )


# the rule, against random groups


@pytest.mark.parametrize("peers", [3, 4, 5, 6, 8])
def test_the_probe_recovers_no_peer_from_groups_of_any_size(peers: int) -> None:
    rng = np.random.default_rng(peers)
    for spread_of_scores in (12.0, 6.0, 3.0):
        for _ in range(12):
            group = [float(v) for v in rng.normal(62, spread_of_scores, peers + 1).clip(0, 100)]
            own = group[int(rng.integers(len(group)))]
            if peers < DEFAULT:
                assert peer_spread(group, DEFAULT) is None
                assert peer_percentile(group, own, DEFAULT) is None
            for minimum in {3, min(peers, DEFAULT)}:
                shown = peer_spread(group, minimum)
                assert shown is not None, f"{peers} peers meet a minimum of {minimum}"
                assert (shown.quartiles is None) == (peers + 1 < QUARTILE_MEMBERS)
                assert_no_figure_is_a_peers_value(group, own, shown)
                assert_the_attack_fails(group, own, shown)


@pytest.mark.parametrize("peers", [3, 5])
def test_the_attack_works_on_the_sample_quartiles_shown_before(peers: int) -> None:
    """The same reader against `statistics.quantiles(peers, method="inclusive")`, the
    figures the portfolio page showed: it gets the peers back, so the attack is real."""
    values = [50.591, 61.204, 44.873, 57.316, 69.045][:peers]
    quartiles = statistics.quantiles(values, n=4, method="inclusive")
    if peers == 5:
        assert set(quartiles) <= set(values), "five peers' inclusive quartiles are their values"
    weights = np.zeros((3, peers))
    for row, p in enumerate((0.25, 0.5, 0.75)):
        at = p * (peers - 1)
        weights[row, int(at)] += 1 - at % 1
        weights[row, min(int(at) + 1, peers - 1)] += at % 1
    found = ranges(weights, quartiles, 0.0, {})
    recovered = [low for low, high in found.values() if high - low < 1e-6]
    assert any(abs(r - 50.591) < 1e-6 for r in recovered), "the probe's 50.591, recovered"


def test_figures_that_left_out_each_reader_would_fall_to_one_reading_two() -> None:
    """Why every member reads the same figures: if each member's benchmark left it out, a
    network reading two of its sites' benchmarks in one sponsor's view (8 sites) would
    hold six equations, and solve by difference for the sites ranked between them."""
    n, readers = 8, (0, 4)
    equations = []
    for reader in readers:
        rows = np.zeros((3, n))
        rows[:, [i for i in range(n) if i != reader]] = quantile_weights(n - 1)
        equations.append(rows)
    unknown = [i for i in range(n) if i not in readers]
    assert determined(np.vstack(equations), unknown) == [1, 2, 3, 5, 6, 7]
    assert determined(quantile_weights(n), unknown) == [], "one figure set for the group"


# the surfaces, on the small world


async def latest_run() -> int:
    """The run of the latest scored cycle, which every surface shows by default."""
    return (await cycle_runs())[0].run


async def set_peers(run: int, peers: int) -> None:
    """Store `anonymity.peers` in a run's configuration, as scoring with it would have."""
    config = (await run_config(run)).as_dict()
    config["anonymity"]["peers"] = peers
    await ScoreRun.update({ScoreRun.config: config}).where(ScoreRun.id == run)


async def pooled_group(run: int) -> dict[int, dict[str, float]]:
    """Every sponsor and CRO the run shows pooled: target → its shown measures."""
    rows = await TargetIndex.select(
        TargetIndex.target, *(getattr(TargetIndex, m) for m in MEASURES)
    ).where(
        (TargetIndex.run == run)
        & TargetIndex.rater_organisation.is_null()
        & TargetIndex.target._.kind.is_in(["sponsor", "cro"])
        & TargetIndex.shown.eq(True)
    )
    return {int(r["target"]): {m: float(r[m]) for m in MEASURES if r[m] is not None} for r in rows}


def sponsors_and_cros(results: CycleResults) -> list[int]:
    return [o.id for o in results.orgs.values() if o.kind in {"sponsor", "cro"}]


async def test_with_fewer_than_the_default_peers_no_sponsor_benchmark_shows_anything(
    scored_world_db: Engine,
) -> None:
    run = await latest_run()
    group = await pooled_group(run)
    assert 1 < len(group) <= DEFAULT, "the small world has 3 sponsors and 2 CROs: 4 peers each"
    people = await characters()
    me = await organisation_of(people["sponsor user"])

    async def steps(client: AsyncTestClient[Any]) -> tuple[str, dict[str, Any], str]:
        await sign_in(client, people["sponsor user"])
        page = (await client.get(f"/w/sponsors/{me['slug']}")).text
        api = (await client.get(f"/api/portfolios/{me['slug']}")).json()
        return page, api, (await client.get(f"/api/portfolios/{me['slug']}/csv")).text

    html, api, csv = await in_browser(scored_world_db, steps)
    assert "peer" not in csv.splitlines()[0].lower(), "the CSV lists sites, not peers"
    section = html.split('id="how-sites-see-you"', 1)[1]
    assert section.count(f"fewer than {DEFAULT} peers to compare with") == len(MEASURES)
    for row in api["benchmark"]:
        assert (row["peers_lower_quartile"], row["peers_median"], row["peers_upper_quartile"]) == (
            None,
            None,
            None,
        )
        assert row["peers"] == len(group) - 1

    results = await cycle_results(await latest_scored_cycle())
    for org in sponsors_and_cros(results):
        if results.orgs[org].kind == "sponsor":
            assert all(b.median is None for b in (await portfolio(org, None, None)).benchmark)
            card = portfolio_scorecard(results, org, "en")
            assert all(line.strip is None and line.median is None for line in card.benchmark)
            assert f"fewer than {DEFAULT} peers" in scorecard_html("portfolio", card, "en")
        partner = partner_scorecard(results, org, None, org, "en")
        assert partner.percentile is None
        assert all(r.peers is None and r.peers_median is None for r in partner.dimensions)


async def test_site_scorecards_show_one_spread_per_group_and_give_no_site_away(
    scored_world_db: Engine,
) -> None:
    """A site's scorecard compares it with its sponsor's other sites: the same figures on
    every site's card, none with fewer than the default of peers, none solvable. (A
    dimension mean of a few raters is often a whole number, which a whole-point figure
    can match by coincidence; the attack is what tells whether it gives anything away.)"""
    results = await cycle_results(await latest_scored_cycle())
    groups: dict[int, list[int]] = defaultdict(list)
    for run, target, view in results.indices:
        if run == results.run and view is not None and results.orgs[target].kind == "site":
            groups[view].append(target)
    compared = 0
    for sponsor, sites in groups.items():
        means: dict[int, dict[int, float]] = defaultdict(dict)
        for site in sites:
            for cell in results.dimensions.get((results.run, site, sponsor), []):
                if cell.mean is not None:
                    means[cell.dimension][site] = float(cell.mean)
        indices = [
            float(i)
            for site in sites
            if (i := results.index(site, sponsor).reliability_index) is not None
        ]
        seen: dict[int, tuple[float, float, float] | None] = {}
        for site in sites:
            card = partner_scorecard(results, site, sponsor, site, "en")
            own = results.index(site, sponsor).reliability_index
            ranked = (
                card.percentile_withheld is None or "provisional" not in card.percentile_withheld
            )
            assert card.percentile == (peer_percentile(indices, own, DEFAULT) if ranked else None)
            named = {
                results.dimension_info[cell.dimension].name_in("en"): cell.dimension
                for cell in results.dimensions.get((results.run, site, sponsor), [])
            }
            for row in card.dimensions:
                dimension = named[row.name]
                if site not in means[dimension]:
                    continue
                group = list(means[dimension].values())
                expected = peer_spread(group, DEFAULT)
                assert row.peers == (expected.quartiles if expected else None)
                assert row.peers_median == (expected.median if expected else None)
                assert seen.setdefault(dimension, row.peers) == row.peers, "one spread per group"
                if expected is not None:
                    compared += 1
                    assert_the_attack_fails(group, means[dimension][site], expected)
    assert compared, "some sponsor of the small world has enough sites to compare them"


async def test_once_shown_the_portfolio_benchmark_gives_no_peer_away(
    scored_world_db: Engine,
) -> None:
    """With the minimum lowered to 4, the small world's 4 peers are compared: the probe gets
    the page's and the API's figures and solves for nothing; lowered to 3 with a peer
    hidden, a group of 4 shows its median alone."""
    run = await latest_run()
    group = await pooled_group(run)
    people = await characters()
    me = await organisation_of(people["sponsor user"])
    cros = await Organisation.select(Organisation.id).where(Organisation.kind == "cro")
    cro = next(t for t in group if t in {int(r["id"]) for r in cros})

    async def steps(client: AsyncTestClient[Any]) -> tuple[str, dict[str, Any]]:
        await sign_in(client, people["sponsor user"])
        page = (await client.get(f"/w/sponsors/{me['slug']}")).text
        return page, (await client.get(f"/api/portfolios/{me['slug']}")).json()

    await set_peers(run, 4)
    html, api = await in_browser(scored_world_db, steps)
    card = portfolio_scorecard(await cycle_results(await latest_scored_cycle()), me["id"], "en")
    assert all(line.strip is not None and line.peers == 4 for line in card.benchmark)
    await set_peers(run, 3)
    await TargetIndex.update({TargetIndex.shown: False}).where(
        (TargetIndex.run == run)
        & (TargetIndex.target == cro)
        & TargetIndex.rater_organisation.is_null()
    )
    small_html, small_api = await in_browser(scored_world_db, steps)

    mine = group[me["id"]]
    for row, measure in zip(api["benchmark"], MEASURES, strict=True):
        values = [g[measure] for g in group.values() if measure in g]
        shown = peer_spread(values, 4)
        assert shown is not None and shown.quartiles is not None
        figures = (row["peers_lower_quartile"], row["peers_median"], row["peers_upper_quartile"])
        assert figures == shown.quartiles
        assert row["peers"] == 4
        assert all(f">{v:.0f}<" in html for v in figures)
        assert_no_figure_is_a_peers_value(values, mine[measure], shown)
        assert_the_attack_fails(values, mine[measure], shown)

    section = small_html.split('id="how-sites-see-you"', 1)[1]
    assert section.count("too few peers for quartiles") == len(MEASURES)
    for row, measure in zip(small_api["benchmark"], MEASURES, strict=True):
        values = [g[measure] for t, g in group.items() if t != cro and measure in g]
        shown = peer_spread(values, 3)
        assert shown is not None and shown.quartiles is None
        assert (row["peers_lower_quartile"], row["peers_upper_quartile"]) == (None, None)
        assert row["peers_median"] == shown.median
        assert_no_figure_is_a_peers_value(values, mine[measure], shown)
        assert_the_attack_fails(values, mine[measure], shown)

    results = await cycle_results(await latest_scored_cycle())
    card = portfolio_scorecard(results, me["id"], "en")
    assert all(line.strip is None and line.median is not None for line in card.benchmark)
    assert "peers' median" in scorecard_html("portfolio", card, "en")
