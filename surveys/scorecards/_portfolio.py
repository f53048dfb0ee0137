"""The portfolio scorecard (a sponsor's sites by tier, and how sites see the sponsor against
unnamed peers) and the network scorecard (a network's sites side by side, and as a whole).

Both read the same in-memory results as the partner scorecard; only shown cells carry
numbers, and peers appear only as quartiles of at least three.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import median, quantiles

from scoring.anonymity import PEERS_NEEDED
from scoring.config import LAYERS
from surveys.charts import IntervalPlot, ScoreBar, Spread, interval_plot, score_bar, spread
from surveys.infra.i18n import N_, percent
from surveys.results.score_runs import TrendArrow, trend_of
from surveys.results.tier_assignments import Tier, tier_in_force
from surveys.scorecards._partner import Figure
from surveys.scorecards._results import PUBLISHED, CycleResults, Org, today
from surveys.scorecards._words import LAYER_NAMES, Say, say_in, tier_change, tier_name


@dataclass(frozen=True)
class SiteLine:
    """One site on a portfolio or network scorecard."""

    name: str
    country: str | None
    network: str | None
    tier: Tier | None
    previous_tier: Tier | None
    movement: str | None
    """"up 1", "down 2", "same" or "new"."""
    index: Figure
    bar: ScoreBar
    """The index and its interval on 0–100, for the table."""
    change: int | None
    """Whole points since the last cycle, when both are shown."""
    trend: str
    """↗ rising, ↘ falling, → steady (significant slopes only), or blank."""
    raters: int | None


@dataclass(frozen=True)
class Benchmark:
    """How sites see the sponsor on one measure, against unnamed peers' quartiles."""

    measure: str
    yours: float | None
    strip: Spread | None
    """None with fewer than PEERS_NEEDED peers."""
    peers: int


@dataclass(frozen=True)
class PortfolioScorecard:
    """A sponsor's sites grouped by tier, and how sites see the sponsor against peers."""

    title: str
    language: str
    paper: str
    made_on: dt.date
    draft: bool
    sponsor: Org
    audience: Org
    cycle: str
    previous_cycle: str | None
    groups: tuple[tuple[str, tuple[SiteLine, ...]], ...]
    """(tier heading, its sites by index), best tier first, untiered last."""
    benchmark: tuple[Benchmark, ...]
    k: int
    level: str
    """The intervals' confidence level as the language writes it ("90 %" in French)."""
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NetworkScorecard:
    """A network's sites side by side, and the network as a whole."""

    title: str
    language: str
    paper: str
    made_on: dt.date
    draft: bool
    network: Org
    audience: Org
    cycle: str
    previous_cycle: str | None
    sites: tuple[SiteLine, ...]
    chart: IntervalPlot | None
    whole: tuple[tuple[str, float | None], ...]
    """The network as a whole: the median of its shown sites, index and each layer."""
    shown: int
    k: int
    links: tuple[tuple[str, str], ...] = ()


def portfolio_scorecard(
    results: CycleResults, sponsor_id: int, language: str, paper: str = "a4"
) -> PortfolioScorecard:
    """Lay out a sponsor's portfolio scorecard: its own raters' view of each of its sites."""
    sponsor = results.orgs[sponsor_id]
    sites = sorted(
        {
            target
            for (run, target, view) in results.indices
            if run == results.run and view == sponsor_id
        }
    )
    say = say_in(language)
    lines = [_line(results, site, sponsor_id, say) for site in sites]
    groups = []
    for tier in Tier:
        members = [line for line in lines if line.tier == tier]
        if members:
            groups.append((tier_name(tier, say) or "", tuple(_by_index(members))))
    untiered = [line for line in lines if line.tier is None]
    if untiered:
        groups.append((say(N_("no tier this cycle")), tuple(_by_index(untiered))))
    return PortfolioScorecard(
        title=f"{sponsor.name}: portfolio scorecard {results.cycle}",
        language=language,
        paper=paper,
        made_on=today(),
        draft=results.status != PUBLISHED,
        sponsor=sponsor,
        audience=sponsor,
        cycle=results.cycle,
        previous_cycle=results.previous_cycle,
        groups=tuple(groups),
        benchmark=_benchmark(results, sponsor, say),
        k=results.k("site"),
        level=percent(results.level, language),
    )


def network_scorecard(
    results: CycleResults, network_id: int, audience_id: int, language: str, paper: str = "a4"
) -> NetworkScorecard:
    """Lay out a network's scorecard: each site as every sponsor's raters see it."""
    network = results.orgs[network_id]
    sites = sorted(
        (o.id for o in results.orgs.values() if o.kind == "site" and o.network == network_id),
        key=lambda i: results.orgs[i].name.casefold(),
    )
    say = say_in(language)
    lines = [_line(results, site, None, say) for site in sites]
    shown = [line.index.value for line in lines if line.index.value is not None]
    middle = median(shown) if shown else None
    whole: list[tuple[str, float | None]] = [(say(N_("Reliability index")), middle)]
    for layer in LAYERS:
        values = [
            float(row[layer])
            for site in sites
            if (row := results.indices.get((results.run, site, None), {})).get(layer) is not None
        ]
        whole.append((say(LAYER_NAMES[layer]), median(values) if values else None))
    return NetworkScorecard(
        title=f"{network.name}: network scorecard {results.cycle}",
        language=language,
        paper=paper,
        made_on=today(),
        draft=results.status != PUBLISHED,
        network=network,
        audience=results.orgs[audience_id],
        cycle=results.cycle,
        previous_cycle=results.previous_cycle,
        sites=tuple(lines),
        chart=interval_plot(
            [(line.name, line.index.value, line.index.low, line.index.high) for line in lines],
            (middle, "network median") if middle is not None else None,
        )
        if lines
        else None,
        whole=tuple(whole),
        shown=len(shown),
        k=results.k("site"),
    )


def _line(results: CycleResults, site: int, view: int | None, say: Say) -> SiteLine:
    org = results.orgs[site]
    now = results.indices.get((results.run, site, view), {})
    before_run = results.previous_run
    before = results.indices.get((before_run, site, view), {}) if before_run else {}
    tier_row = results.tiers.get((view, site)) if view is not None else None
    tier = tier_in_force(tier_row)
    previous_tier = results.previous_tiers.get((view, site)) if view is not None else None
    value, earlier = now.get("reliability_index"), before.get("reliability_index")
    return SiteLine(
        org.name,
        org.country,
        results.orgs[org.network].name if org.network else None,
        tier,
        previous_tier,
        tier_change(tier, previous_tier, say),
        Figure(value, now.get("ri_low"), now.get("ri_high")),
        score_bar(value, now.get("ri_low"), now.get("ri_high"), None, width=100),
        round(value - earlier) if value is not None and earlier is not None else None,
        _arrow(
            trend_of(now.get("trend_slope"), now.get("trend_p"), results.config.trend.significance),
            say,
        ),
        now.get("n_raters") if now.get("shown") else None,
    )


def _by_index(lines: list[SiteLine]) -> list[SiteLine]:
    return sorted(lines, key=lambda line: (line.index.value is None, -(line.index.value or 0)))


def _arrow(trend: TrendArrow, say: Say) -> str:
    """A site's trend as an arrow and a word."""
    words = {
        TrendArrow.up: "↗ " + say(N_("rising")),
        TrendArrow.down: "↘ " + say(N_("falling")),
        TrendArrow.flat: "→ " + say(N_("steady")),
    }
    return words.get(trend, "")


def _benchmark(results: CycleResults, sponsor: Org, say: Say) -> tuple[Benchmark, ...]:
    """The sponsor's pooled view by its sites, against other sponsors' and CROs' quartiles."""
    pooled = {
        target: row
        for (run, target, view), row in results.indices.items()
        if run == results.run and view is None and results.orgs[target].kind in {"sponsor", "cro"}
    }
    own = pooled.get(sponsor.id, {})
    rows = []
    for measure, label in (
        ("reliability_index", say(N_("Reliability index"))),
        *((layer, say(LAYER_NAMES[layer])) for layer in LAYERS),
    ):
        peers = [
            float(row[measure])
            for target, row in pooled.items()
            if target != sponsor.id and row.get(measure) is not None
        ]
        yours = own.get(measure)
        strip = None
        if len(peers) >= PEERS_NEEDED:
            low, middle, high = quantiles(peers, n=4, method="inclusive")
            strip = spread(low, middle, high, yours)
        rows.append(Benchmark(label, yours, strip, len(peers)))
    return tuple(rows)
