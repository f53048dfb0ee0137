"""The portfolio scorecard (a sponsor's sites by tier, and how sites see the sponsor against
unnamed peers) and the network scorecard (a network's sites side by side, and as a whole).

Both read the same in-memory results as the partner scorecard; only shown cells carry
numbers, and peers appear only in the spread `scoring.anonymity.peer_spread` allows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import median

from scoring.anonymity import peer_spread
from scoring.config import LAYERS
from scoring.trends import shown_change
from surveys.charts import IntervalPlot, ScoreBar, Spread, interval_plot, score_bar, spread
from surveys.infra.i18n import N_, percent
from surveys.results.score_runs import TrendArrow, trend_of
from surveys.results.tier_assignments import Tier
from surveys.scorecards._brief import ScorecardBrief
from surveys.scorecards._partner import Figure
from surveys.scorecards._results import PUBLISHED, CycleResults, today
from surveys.scorecards._rows import INDEX_FIGURES, NO_INDEX, Org
from surveys.scorecards._words import LAYER_NAMES, Say, tier_change, tier_name


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
class BenchmarkLine:
    """How sites see the sponsor on one measure, against unnamed peers' quartiles: one line
    of the portfolio scorecard's benchmark."""

    measure: str
    yours: float | None
    strip: Spread | None
    """The group's quartiles and the sponsor's mark; None with too few peers for all three."""
    median: float | None
    """The group's median; None with too few peers."""
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
    benchmark: tuple[BenchmarkLine, ...]
    peers_needed: int
    """Peers the benchmark needs before anything of their spread is shown."""
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
    brief = ScorecardBrief(results, sponsor, sponsor_id, language)
    say = brief.say
    lines = [_line(brief, site) for site in sites]
    groups = []
    for tier in Tier:
        members = [line for line in lines if line.tier == tier]
        if members:
            groups.append((tier_name(tier, say) or "", tuple(_by_index(members))))
    untiered = [line for line in lines if line.tier is None]
    if untiered:
        groups.append((say(N_("no tier this cycle")), tuple(_by_index(untiered))))
    return PortfolioScorecard(
        title=say(
            N_("%(name)s: portfolio scorecard %(cycle)s"), name=sponsor.name, cycle=results.cycle
        ),
        language=language,
        paper=paper,
        made_on=today(),
        draft=results.status != PUBLISHED,
        sponsor=sponsor,
        audience=sponsor,
        cycle=results.cycle,
        previous_cycle=results.previous_cycle,
        groups=tuple(groups),
        benchmark=_benchmark(brief),
        peers_needed=results.config.anonymity.peers,
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
    brief = ScorecardBrief(results, network, None, language)
    say = brief.say
    lines = [_line(brief, site) for site in sites]
    shown = [line.index.value for line in lines if line.index.value is not None]
    middle = median(shown) if shown else None
    whole: list[tuple[str, float | None]] = [(say(N_("Reliability index")), middle)]
    for layer in LAYERS:
        values = [
            float(value)
            for site in sites
            if (value := results.index(site, None).figure(layer)) is not None
        ]
        whole.append((say(LAYER_NAMES[layer]), median(values) if values else None))
    return NetworkScorecard(
        title=say(
            N_("%(name)s: network scorecard %(cycle)s"), name=network.name, cycle=results.cycle
        ),
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
            (middle, say(N_("network median"))) if middle is not None else None,
        )
        if lines
        else None,
        whole=tuple(whole),
        shown=len(shown),
        k=results.k("site"),
    )


def _line(brief: ScorecardBrief, site: int) -> SiteLine:
    """One site as the brief's view sees it (a sponsor's raters, or every sponsor's pooled),
    with its tier from that sponsor."""
    results, view, say = brief.results, brief.view_id, brief.say
    org = results.orgs[site]
    now = results.index(site, view)
    before = results.previous_index(site, view)
    tier_row = results.tiers.get((view, site)) if view is not None else None
    tier = tier_row.tier if tier_row else None
    previous_tier = results.previous_tiers.get((view, site)) if view is not None else None
    value, earlier = now.reliability_index, before.reliability_index
    return SiteLine(
        name=org.name,
        country=org.country,
        network=results.orgs[org.network].name if org.network else None,
        tier=tier,
        previous_tier=previous_tier,
        movement=tier_change(tier, previous_tier, say),
        index=Figure(value, now.ri_low, now.ri_high),
        bar=score_bar(value, now.ri_low, now.ri_high, None, width=100),
        change=shown_change(value, earlier),
        trend=_arrow(
            trend_of(now.trend_slope, now.trend_p, results.config.trend.significance), say
        ),
        raters=now.n_raters if now.shown else None,
    )


def _by_index(lines: list[SiteLine]) -> list[SiteLine]:
    """Highest index first; sites without a shown index last."""
    return sorted(lines, key=lambda line: (line.index.value is None, -(line.index.value or 0)))


def _arrow(trend: TrendArrow, say: Say) -> str:
    """A site's trend as an arrow and a word."""
    words = {
        TrendArrow.up: "↗ " + say(N_("rising")),
        TrendArrow.down: "↘ " + say(N_("falling")),
        TrendArrow.flat: "→ " + say(N_("steady")),
    }
    return words.get(trend, "")


def _benchmark(brief: ScorecardBrief) -> tuple[BenchmarkLine, ...]:
    """The sponsor's pooled view by its sites, against the spread of every sponsor and CRO
    (itself among them, as on the portfolio page)."""
    results, sponsor, say = brief.results, brief.subject, brief.say
    pooled = {
        target: row
        for (run, target, view), row in results.indices.items()
        if run == results.run and view is None and results.orgs[target].kind in {"sponsor", "cro"}
    }
    own = pooled.get(sponsor.id, NO_INDEX)
    needed = results.config.anonymity.peers
    labels = [say(N_("Reliability index")), *(say(LAYER_NAMES[layer]) for layer in LAYERS)]
    rows = []
    for measure, label in zip(INDEX_FIGURES, labels, strict=True):
        values = [
            float(value) for row in pooled.values() if (value := row.figure(measure)) is not None
        ]
        yours = own.figure(measure)
        found = peer_spread(values, needed)
        quartiles = found.quartiles if found else None
        rows.append(
            BenchmarkLine(
                measure=label,
                yours=yours,
                strip=spread(*quartiles, yours) if quartiles else None,
                median=found.median if found else None,
                peers=len(values) - (1 if yours is not None else 0),
            )
        )
    return tuple(rows)
