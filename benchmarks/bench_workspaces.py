"""Benchmark: the two heaviest signed-in pages, a sponsor's portfolio and a trends page.

Run with `python benchmarks/bench_workspaces.py` (see `--help`). For each database
(SQLite, PostgreSQL or both), it writes into a fresh database the rows that scoring
would have left behind, straight through the driver: a sponsor with 5,000 sites scored
in the last two cycles, and another with 50 sites scored in eight, each cycle with its
finished run. Every run holds what scoring writes for those relationships: each
sponsor's view of its sites, each site's view of its sponsor, every site and sponsor
pooled (indices with intervals and layers, dimension scores), the sponsors' tiers, and
the escalation flags the numbers call for; invitations give the response rates.
Generating and scoring a world that size would take far longer and exercise nothing
these pages do.

It then serves the app with `rapport serve` (one worker), signs in as each sponsor's
relationship manager, and opens one request at a time (latency, not throughput) the
portfolio `/w/sponsors/<slug>` and the trends page `/w/trends/<slug>` with every one of
the 50 sites ticked. After a warm-up it reports p50, p95 and the slowest of the timed
requests, and checks every answer is the whole page, not an error page.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import click
import numpy as np
from _report import machine, on_server, report
from bench_submit import free_port, serve

from surveys.accounts.credentials import GrantRole, create_account
from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.directory.organisations import Organisation, Person, Relationship, TherapeuticArea
from surveys.infra.database import (
    apply_migrations,
    bulk_insert,
    engine_for,
    prepare,
    reset_id_sequence,
    use_engine,
    writing_transaction,
)
from surveys.infra.settings import parse_database_url
from surveys.instruments import Dimension, Instrument, bundled_instrument_paths, load_instruments
from surveys.results.score_runs import DimensionScore, EscalationFlag, ScoreRun, TargetIndex
from surveys.results.tier_assignments import Tier, TierAssignment
from surveys.workspaces.institution_trends import MOST_COMPARED
from surveys.world import cycle_window, quarter_keys

GOAL_MS = 300
"""What the workspaces issue asks of each page at p95."""
PORTFOLIO = "portfolio-pharma"
TRENDS = "trends-bio"
PASSWORD = "bench-workspaces-password"
LAST_CYCLE = "2026-Q3"
NETWORKS = 40
PEER_SPONSORS = 6
PEER_CROS = 2
"""Other sponsors and CROs, pooled only: the portfolio's peer benchmark needs at least 3."""
SPONSOR_STAFF = 200
"""A sponsor's raters; each site is invited to be rated by SPONSOR_INVITED of them."""
SPONSOR_INVITED = 4
SITE_STAFF = 2
"""A site's raters (its PI and coordinator), each invited to rate its sponsor."""
COUNTRIES = ("DE", "FR", "ES", "IT", "NL", "BE", "PL", "GB", "US", "CA", "JP", "AU", "BR", "SE")
CITIES = (
    "Lyon",
    "Leiden",
    "Kraków",
    "Porto",
    "Ghent",
    "Uppsala",
    "Turin",
    "Seville",
    "Boston",
    "Toronto",
    "Osaka",
    "Perth",
    "Recife",
    "Leeds",
)
KINDS = ("University Hospital", "Clinical Research Centre", "Medical Centre", "Cancer Institute")
AREAS = (
    "oncology",
    "cardiology",
    "neurology",
    "respiratory",
    "rare_disease",
    "infectious",
    "metabolic",
    "immunology",
)
QUADRANTS = ("fix first", "keep up", "low priority", "possible overkill")
CHART = re.compile(r'id="chart-\d+-title"')
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Cells:
    """One family of scored cells: pairs (target, rater organisation) over the cycles."""

    targets: list[int]
    raters_of: list[int | None]
    """The rater organisation of each pair; None for the target's pooled cell."""
    index: np.ndarray
    """Pairs × cycles, like every array below."""
    low: np.ndarray
    high: np.ndarray
    layers: dict[str, np.ndarray]
    raters: np.ndarray
    shown: np.ndarray
    rate: np.ndarray
    """Response rate (0–1)."""


def simulate(
    rng: np.random.Generator,
    targets: list[int],
    raters_of: list[int | None],
    cycles: int,
    invited: int,
    k: int,
) -> Cells:
    """Numbers for pairs scored in `cycles` cycles: a level per pair, moving cycle to cycle.

    Of `invited` raters each answers with probability 0.75; a cell is shown with at least
    `k` of them. The interval narrows with more raters, as a t interval would.
    """
    pairs = len(targets)
    # a drift, and now and then a jump well beyond the interval: movers, drops
    steps = rng.normal(0, 4, (pairs, cycles))
    steps += np.where(rng.random((pairs, cycles)) < 0.05, rng.choice([-22, 22], (pairs, cycles)), 0)
    level = rng.normal(68, 11, (pairs, 1)) + np.cumsum(steps, axis=1)
    index = np.clip(level, 3, 97)
    raters = rng.binomial(invited, 0.75, (pairs, cycles))
    half = 18 / np.sqrt(np.maximum(raters, 1)) + rng.uniform(1, 4, (pairs, cycles))
    layers = {
        layer: np.clip(index + rng.normal(0, 7, (pairs, cycles)), 0, 100)
        for layer in ("quality", "dependability", "speed", "cost")
    }
    rate = np.clip(raters / invited + rng.normal(0, 0.05, (pairs, cycles)), 0, 1)
    return Cells(
        targets,
        raters_of,
        index,
        np.clip(index - half, 0, 100),
        np.clip(index + half, 0, 100),
        layers,
        raters,
        raters >= k,
        rate,
    )


class Builder:
    """Writes the benchmark's organisations, cycles, runs and results into a fresh database.

    Ids are given, from 1 (the database is new), so rows can name each other without
    reading anything back.
    """

    def __init__(self, sites: int, compared: int, cycles: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.sites, self.compared, self.cycles = sites, compared, cycles
        self.keys = quarter_keys(LAST_CYCLE, cycles)
        self.now = dt.datetime.now(dt.UTC)
        self.epoch = self.now - dt.timedelta(days=3 * 365)
        self.flags = 0
        self.portfolio_id, self.trends_id = NETWORKS + 1, NETWORKS + 2
        self.peers = list(range(NETWORKS + 3, NETWORKS + 3 + PEER_SPONSORS + PEER_CROS))
        first_site = self.peers[-1] + 1
        self.site_ids = list(range(first_site, first_site + sites + compared))
        self.portfolio_sites = self.site_ids[:sites]
        self.trends_sites = self.site_ids[sites:]
        self.instruments: dict[str, int] = {}
        self.dimensions: dict[str, list[dict[str, Any]]] = {}
        self.staff: dict[int, list[int]] = {}
        """Sponsor → its raters' person ids."""
        self.site_staff: dict[int, list[int]] = {}
        self.managers: dict[int, tuple[int, str]] = {}
        """Sponsor → its relationship manager's person id and e-mail."""
        self.relationship: dict[tuple[int, int], int] = {}
        """(sponsor, site) → relationship id."""

    async def build(self) -> None:
        """Everything in one transaction, then the id sequences moved past the ids given."""
        await load_instruments(bundled_instrument_paths(), actor="bench")
        rows = await Instrument.select(Instrument.id, Instrument.direction)
        self.instruments = {r["direction"]: r["id"] for r in rows}
        for direction, instrument in self.instruments.items():
            self.dimensions[direction] = await Dimension.select(
                Dimension.id, Dimension.key, Dimension.layer, Dimension.floor
            ).where(Dimension.instrument == instrument)
        async with writing_transaction(Organisation._meta.db):
            await self.organisations()
            await self.people()
            await self.relationships()
            await self.cycles_and_runs()
            await self.results()
        for table in (Organisation, Person, Relationship, Cycle, ScoreRun):
            await reset_id_sequence(table)

    async def organisations(self) -> None:
        """Networks, the two sponsors, their peers, and sites with countries and areas."""
        rng = self.rng
        rows: list[tuple[Any, ...]] = [
            (
                n + 1,
                f"network-{n + 1:02d}",
                f"{CITIES[n % len(CITIES)]} research network {n + 1}",
                "network",
                None,
                None,
                None,
            )
            for n in range(NETWORKS)
        ]
        rows.append((self.portfolio_id, PORTFOLIO, "Portfolio Pharma", "sponsor", "CH", None, None))
        rows.append((self.trends_id, TRENDS, "Trends Bio", "sponsor", "DK", None, None))
        for n, peer in enumerate(self.peers):
            kind = "cro" if n >= PEER_SPONSORS else "sponsor"
            rows.append(
                (
                    peer,
                    f"peer-{kind}-{n + 1}",
                    f"Peer {kind} {n + 1}",
                    kind,
                    "US",
                    None,
                    self.peers[0] if kind == "cro" else None,
                )
            )
        for n, site in enumerate(self.site_ids):
            own = n >= self.sites  # the trends sponsor's sites, mostly in five networks
            in_network = rng.random() < (0.7 if own else 0.6)
            network = 1 + int(rng.integers(0, 5 if own else NETWORKS)) if in_network else None
            name = f"{CITIES[n % len(CITIES)]} {KINDS[n % len(KINDS)]} {n + 1:05d}"
            country = COUNTRIES[int(rng.integers(0, len(COUNTRIES)))]
            rows.append((site, f"site-{n + 1:05d}", name, "site", country, network, None))
        columns = ["id", "slug", "name", "kind", "country", "network", "acts_for"]
        await bulk_insert(
            Organisation,
            [*columns, "active", "created_at"],
            [(*row, True, self.epoch) for row in rows],
        )
        await bulk_insert(
            TherapeuticArea,
            ["organisation", "area"],
            [
                (site, area)
                for site in self.site_ids
                for area in rng.choice(AREAS, int(rng.integers(1, 4)), replace=False).tolist()
            ],
        )

    async def people(self) -> None:
        """Each sponsor's raters and relationship manager, each site's PI and coordinator."""
        rows: list[tuple[Any, ...]] = []
        sponsors = ((self.portfolio_id, PORTFOLIO), (self.trends_id, TRENDS))
        for sponsor, slug in sponsors:
            ids = list(range(len(rows) + 1, len(rows) + 1 + SPONSOR_STAFF))
            self.staff[sponsor] = ids
            rows += [
                (
                    i,
                    sponsor,
                    f"{slug} rater {n}",
                    f"rater{n}@{slug}.example",
                    "cra" if n % 2 else "study_manager",
                )
                for n, i in enumerate(ids)
            ]
        for n, site in enumerate(self.site_ids):
            ids = list(range(len(rows) + 1, len(rows) + 1 + SITE_STAFF))
            self.site_staff[site] = ids
            rows += [
                (ids[0], site, f"PI {n + 1}", f"pi{n + 1}@site.example", "pi"),
                (ids[1], site, f"Coordinator {n + 1}", f"sc{n + 1}@site.example", "coordinator"),
            ]
        for sponsor, slug in sponsors:
            self.managers[sponsor] = (len(rows) + 1, f"manager@{slug}.example")
            rows.append(
                (
                    len(rows) + 1,
                    sponsor,
                    f"{slug} relationship manager",
                    f"manager@{slug}.example",
                    "relationship_manager",
                )
            )
        await bulk_insert(
            Person,
            ["id", "organisation", "name", "email", "role", "language", "active", "created_at"],
            [(*row, "en", True, self.epoch) for row in rows],
        )

    async def relationships(self) -> None:
        """Each sponsor with each of its sites, directly (no CRO)."""
        for sponsor, sites in (
            (self.portfolio_id, self.portfolio_sites),
            (self.trends_id, self.trends_sites),
        ):
            for site in sites:
                self.relationship[sponsor, site] = len(self.relationship) + 1
        await bulk_insert(
            Relationship,
            ["id", "sponsor", "site", "cro", "active", "started_on"],
            [
                (i, sponsor, site, None, True, self.epoch)
                for (sponsor, site), i in self.relationship.items()
            ],
        )

    async def cycles_and_runs(self) -> None:
        """One cycle a quarter, each with one finished run; the last scored, the rest published."""
        rows, runs = [], []
        for n, key in enumerate(self.keys):
            opens, closes = cycle_window(key)
            status = "scored" if n == len(self.keys) - 1 else "published"
            rows.append(
                (
                    n + 1,
                    key,
                    f"{key} partnership survey",
                    status,
                    self.instruments["site_rates_sponsor"],
                    self.instruments["sponsor_rates_site"],
                    opens,
                    closes,
                    opens,
                    closes,
                )
            )
            runs.append((n + 1, n + 1, "done", "{}", "bench", "0" * 64, "{}", closes, closes))
        await bulk_insert(
            Cycle,
            [
                "id",
                "key",
                "title",
                "status",
                "site_instrument",
                "sponsor_instrument",
                "opens_at",
                "closes_at",
                "created_at",
                "status_changed_at",
            ],
            rows,
        )
        await bulk_insert(
            ScoreRun,
            [
                "id",
                "cycle",
                "status",
                "config",
                "code_version",
                "input_digest",
                "notes",
                "started_at",
                "finished_at",
            ],
            runs,
        )

    async def results(self) -> None:
        """Each family of cells, in the cycles its relationships were scored in."""
        rng = self.rng
        portfolio_cycles = min(2, self.cycles)
        for sponsor, sites, cycles in (
            (self.portfolio_id, self.portfolio_sites, portfolio_cycles),
            (self.trends_id, self.trends_sites, self.cycles),
        ):
            first = self.cycles - cycles
            view = simulate(rng, sites, [sponsor] * len(sites), cycles, SPONSOR_INVITED, 1)
            await self.write(view, first, "sponsor_rates_site", flags=True, tiers=sponsor)
            back = simulate(rng, [sponsor] * len(sites), list(sites), cycles, SITE_STAFF, 2)
            await self.write(back, first, "site_rates_sponsor")
            pooled = simulate(rng, sites, [None] * len(sites), cycles, 3 * SPONSOR_INVITED, 3)
            await self.write(pooled, first, "sponsor_rates_site")
            await self.invitations(sponsor, sites, first, view, back)
        sponsors = [self.portfolio_id, self.trends_id, *self.peers]
        pooled = simulate(rng, sponsors, [None] * len(sponsors), self.cycles, 400, 3)
        await self.write(pooled, 0, "site_rates_sponsor", flags=True)

    async def write(
        self,
        cells: Cells,
        first: int,
        direction: str,
        flags: bool = False,
        tiers: int | None = None,
    ) -> None:
        """Index, dimension scores (and flags, tiers) of each cycle, a cycle at a time."""
        rng = self.rng
        pairs = len(cells.targets)
        for c in range(cells.index.shape[1]):
            cycle = first + c + 1  # cycle and run ids are the same
            n, shown = cells.raters[:, c], cells.shown[:, c]
            index, low, high = cells.index[:, c], cells.low[:, c], cells.high[:, c]
            layers = {layer: values[:, c] for layer, values in cells.layers.items()}
            before = cells.shown[:, c - 1] if c else np.zeros(pairs, dtype=bool)
            slope = index - cells.index[:, c - 1] if c else np.zeros(pairs)
            trend_p = np.exp(-np.abs(slope) / 3)
            await bulk_insert(
                TargetIndex,
                [
                    "run",
                    "cycle",
                    "target",
                    "rater_organisation",
                    "n_raters",
                    "reliability_index",
                    "ri_low",
                    "ri_high",
                    "raw_index",
                    "plain_score",
                    "quality",
                    "dependability",
                    "speed",
                    "cost",
                    "shrinkage",
                    "predictability",
                    "trend_slope",
                    "trend_p",
                    "nps",
                    "response_rate",
                    "shown",
                    "comments_shown",
                    "trend_shown",
                ],
                list(
                    zip(
                        [cycle] * pairs,
                        [cycle] * pairs,
                        cells.targets,
                        cells.raters_of,
                        n.tolist(),
                        index.tolist(),
                        low.tolist(),
                        high.tolist(),
                        (index + rng.normal(0, 2, pairs)).clip(0, 100).tolist(),
                        np.mean(list(layers.values()), axis=0).tolist(),
                        *(v.tolist() for v in layers.values()),
                        (n / (n + 2)).tolist(),
                        rng.uniform(40, 95, pairs).tolist(),
                        slope.tolist(),
                        trend_p.tolist(),
                        rng.uniform(-40, 60, pairs).tolist(),
                        cells.rate[:, c].tolist(),
                        shown.tolist(),
                        (n >= 3).tolist(),
                        (shown & before).tolist(),
                        strict=True,
                    )
                ),
            )
            found: list[tuple[Any, ...]] = []
            for dimension in self.dimensions[direction]:
                mean = np.clip(layers[dimension["layer"]] + rng.normal(0, 9, pairs), 0, 100)
                lam = n / (n + 2)
                shrunk = lam * mean + (1 - lam) * 68
                half = 15 / np.sqrt(np.maximum(n, 1))
                await bulk_insert(
                    DimensionScore,
                    [
                        "run",
                        "cycle",
                        "target",
                        "rater_organisation",
                        "dimension",
                        "n_raters",
                        "mean",
                        "low",
                        "high",
                        "shrunk",
                        "top_box",
                        "rwg",
                        "stated_importance",
                        "derived_importance",
                        "importance",
                        "quadrant",
                        "n_stated",
                        "importance_shown",
                        "shown",
                    ],
                    list(
                        zip(
                            [cycle] * pairs,
                            [cycle] * pairs,
                            cells.targets,
                            cells.raters_of,
                            [dimension["id"]] * pairs,
                            n.tolist(),
                            mean.tolist(),
                            np.clip(mean - half, 0, 100).tolist(),
                            np.clip(mean + half, 0, 100).tolist(),
                            shrunk.tolist(),
                            rng.uniform(0, 0.6, pairs).tolist(),
                            rng.uniform(0.4, 0.95, pairs).tolist(),
                            rng.uniform(40, 95, pairs).tolist(),
                            rng.uniform(0.1, 0.6, pairs).tolist(),
                            rng.uniform(40, 95, pairs).tolist(),
                            rng.choice(QUADRANTS, pairs).tolist(),
                            n.tolist(),
                            (n >= 3).tolist(),
                            shown.tolist(),
                            strict=True,
                        )
                    ),
                )
                if flags:
                    under = np.flatnonzero(shown & (shrunk < dimension["floor"]))
                    found += [
                        (
                            i,
                            "under_floor",
                            dimension["id"],
                            f"{dimension['key']} {shrunk[i]:.0f} < floor {dimension['floor']:g} "
                            f"(shrunk estimate; raters' mean {mean[i]:.0f})",
                        )
                        for i in under.tolist()
                    ]
            if flags and c:
                prior_low = cells.low[:, c - 1]
                for i in np.flatnonzero(shown & before & (high < prior_low)).tolist():
                    found.append(
                        (
                            i,
                            "significant_drop",
                            None,
                            f"RI {index[i]:.0f} [{low[i]:.0f}–{high[i]:.0f}], below "
                            f"{self.keys[cycle - 2]}'s lower bound "
                            f"{prior_low[i]:.0f}",
                        )
                    )
                rate, was = cells.rate[:, c], cells.rate[:, c - 1]
                for i in np.flatnonzero(rate < 0.5 * was).tolist():
                    found.append(
                        (
                            i,
                            "response_collapse",
                            None,
                            f"response rate {rate[i]:.0%}, was {was[i]:.0%}",
                        )
                    )
            await bulk_insert(
                EscalationFlag,
                [
                    "run",
                    "cycle",
                    "target",
                    "rater_organisation",
                    "kind",
                    "dimension",
                    "detail",
                    "shown",
                ],
                [
                    (
                        cycle,
                        cycle,
                        cells.targets[i],
                        cells.raters_of[i],
                        kind,
                        dimension,
                        detail,
                        True,
                    )
                    for i, kind, dimension, detail in found
                ],
            )
            self.flags += len(found)
            if tiers is not None:
                await self.tiers(tiers, cells, c, cycle)

    async def tiers(self, sponsor: int, cells: Cells, c: int, cycle: int) -> None:
        """The sponsor's tier for each site, by the default rules; one in a hundred overridden."""
        index, low, high = cells.index[:, c], cells.low[:, c], cells.high[:, c]
        quality, n = cells.layers["quality"][:, c], cells.raters[:, c]
        tier = np.where(
            (low >= 80) & (quality >= 75) & (n >= 3),
            1,
            np.where(low >= 65, 2, np.where((high < 45) | (quality < 50), 4, 3)),
        )
        overridden = self.rng.random(len(tier)) < 0.01
        manager = self.managers[sponsor][0]
        closes = cycle_window(self.keys[cycle - 1])[1]
        await bulk_insert(
            TierAssignment,
            [
                "cycle",
                "run",
                "assessor",
                "target",
                "computed_tier",
                "provisional",
                "rule_trace",
                "override_tier",
                "override_reason",
                "overridden_by",
                "overridden_at",
                "created_at",
            ],
            [
                (
                    cycle,
                    cycle,
                    sponsor,
                    cells.targets[i],
                    t,
                    bool(n[i] < 3),
                    f"{Tier(t).label}: RI {index[i]:.0f} [{low[i]:.0f}–{high[i]:.0f}]; lower bound "
                    f"{low[i]:.0f}; quality {quality[i]:.0f}",
                    *(
                        (
                            t + 1 if t == 1 else t - 1,
                            "New recruitment lead; agreed at the review meeting",
                            manager,
                            closes,
                        )
                        if overridden[i]
                        else (None, None, None, None)
                    ),
                    closes,
                )
                for i, t in enumerate(tier.tolist())
            ],
        )

    async def invitations(
        self, sponsor: int, sites: list[int], first: int, view: Cells, back: Cells
    ) -> None:
        """Both sides' invitations, as many submitted as the cells have raters."""
        instrument = self.instruments
        staff = self.staff[sponsor]
        for c in range(view.index.shape[1]):
            cycle = first + c + 1
            opens, closes = cycle_window(self.keys[cycle - 1])
            rows: list[tuple[Any, ...]] = []
            for i, site in enumerate(sites):
                relationship = self.relationship[sponsor, site]
                for j in range(SPONSOR_INVITED):
                    done = j < view.raters[i, c]
                    rater = staff[(i * SPONSOR_INVITED + j) % len(staff)]
                    rows.append(
                        (cycle, relationship, instrument["sponsor_rates_site"], rater, site, done)
                    )
                for j, person in enumerate(self.site_staff[site]):
                    done = j < back.raters[i, c]
                    rows.append(
                        (
                            cycle,
                            relationship,
                            instrument["site_rates_sponsor"],
                            person,
                            sponsor,
                            done,
                        )
                    )
            await bulk_insert(
                Invitation,
                [
                    "cycle",
                    "relationship",
                    "instrument",
                    "respondent",
                    "target",
                    "token_hash",
                    "status",
                    "created_at",
                    "sent_at",
                    "submitted_at",
                    "expires_at",
                    "reminder_count",
                ],
                [
                    (
                        *row[:5],
                        secrets.token_hex(32),
                        "submitted" if row[5] else "sent",
                        opens,
                        opens,
                        closes - dt.timedelta(days=3) if row[5] else None,
                        closes,
                        0,
                    )
                    for row in rows
                ],
            )


@dataclass(frozen=True)
class Built:
    """What the pages are opened with, and how much the database holds."""

    managers: dict[str, str]
    """Sponsor slug → its relationship manager's e-mail."""
    compared: list[str]
    """Slugs of the sites the trends page compares."""
    rows: dict[str, int]


async def build(url: str, sites: int, compared: int, cycles: int, seed: int) -> Built:
    """Migrate a fresh database, write the benchmark's rows, and give each manager an account."""
    engine = engine_for(parse_database_url(url))
    use_engine(engine)
    await prepare(engine)
    await apply_migrations()
    builder = Builder(sites, compared, cycles, seed)
    await builder.build()
    for sponsor, (_, email) in builder.managers.items():
        await create_account(
            email, [(GrantRole.relationship_manager, sponsor)], builder.now, PASSWORD
        )
    if engine.engine_type == "postgres":
        # as autovacuum would have by the time anyone opens a page; SQLite never analyses
        await engine.run_ddl("ANALYZE")
    return Built(
        {
            PORTFOLIO: builder.managers[builder.portfolio_id][1],
            TRENDS: builder.managers[builder.trends_id][1],
        },
        [f"site-{n + 1:05d}" for n in range(sites, sites + compared)],
        {
            "target_index_rows": await TargetIndex.count(),
            "dimension_score_rows": await DimensionScore.count(),
            "escalation_flags": builder.flags,
            "invitations": await Invitation.count(),
        },
    )


async def sign_in(session: aiohttp.ClientSession, email: str) -> None:
    """Sign in as the tests do: the form's CSRF token, then the e-mail and password."""
    async with session.get("/sign-in/") as page:
        match = CSRF.search(await page.text())
    if match is None:
        raise RuntimeError("the sign-in form has no CSRF token")
    form = {"email": email, "password": PASSWORD, "next": "/", "_csrf_token": match.group(1)}
    async with session.post("/sign-in/", data=form, allow_redirects=False) as done:
        await done.read()
    if done.status != 303 or not any(c.key == "rapport_session" for c in session.cookie_jar):
        raise RuntimeError(f"signing in as {email} failed ({done.status})")


async def timed(
    session: aiohttp.ClientSession,
    path: str,
    check: Callable[[str], str | None],
    warmup: int,
    requests: int,
) -> dict[str, float]:
    """Open `path` `warmup` times untimed, then `requests` times one after another, timed.

    Every answer must be a 200 that passes `check` (which names what is missing), so an
    error page is never timed as if it were the page.
    """
    latencies: list[float] = []
    size = 0
    for n in range(warmup + requests):
        start = time.perf_counter()
        async with session.get(path, allow_redirects=False) as page:
            body = await page.read()
        seconds = time.perf_counter() - start
        problem = f"status {page.status}" if page.status != 200 else check(body.decode())
        if problem:
            raise RuntimeError(f"{path.split('?')[0]} is not the whole page: {problem}")
        if n >= warmup:
            latencies.append(seconds)
        size = len(body)
    latencies.sort()
    return {
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "max_ms": round(1000 * latencies[-1], 1),
        "page_kb": round(size / 1024),
    }


def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values: no interpolation between requests."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def portfolio_check(sites: int) -> Callable[[str], str | None]:
    def check(html: str) -> str | None:
        expected = f"Sites 1–100 of the {sites} that match, out of {sites}."
        if expected not in html:
            return f"not '{expected}'"
        if html.count('<th scope="row"><a href="/w/relationships/') != 100:
            return "not 100 sites on the first page"
        if 'id="how-sites-see-you"' not in html:
            return "no peer benchmark"
        return None

    return check


def trends_check(compared: int) -> Callable[[str], str | None]:
    def check(html: str) -> str | None:
        charts = len(CHART.findall(html))
        if charts != compared:
            return f"{charts} charts side by side, not {compared}"
        for missing, what in (
            ('id="partner-chart-title"', "no partner view"),
            ('href="#heat"', "no heat map link"),
        ):
            if missing not in html:
                return what
        for empty, what in (
            ("No dimension scores to show.", "an empty heat map"),
            ("No flags.", "no escalation flags"),
            ("No site in a network has enough responses.", "no roll-ups"),
        ):
            if empty in html:
                return what
        return None

    return check


async def measure(base: str, built: Built, options: dict[str, int]) -> dict[str, object]:
    """Each page timed in its own relationship manager's session."""
    figures: dict[str, object] = {}
    query = "&".join(f"org={slug}" for slug in built.compared)
    pages = (
        ("portfolio", PORTFOLIO, f"/w/sponsors/{PORTFOLIO}", portfolio_check(options["sites"])),
        ("trends", TRENDS, f"/w/trends/{TRENDS}?{query}", trends_check(options["compared"])),
    )
    for name, sponsor, path, check in pages:
        async with aiohttp.ClientSession(
            base,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # unsafe: cookies from an IP address
            timeout=aiohttp.ClientTimeout(total=120),
        ) as session:
            await sign_in(session, built.managers[sponsor])
            found = await timed(session, path, check, options["warmup"], options["requests"])
        figures.update({f"{name}_{key}": value for key, value in found.items()})
    return figures


def run_one(label: str, url: str, folder: Path, options: dict[str, int]) -> dict[str, object]:
    start = time.perf_counter()
    built = asyncio.run(
        build(url, options["sites"], options["compared"], options["cycles"], options["seed"])
    )
    figures: dict[str, object] = {"build_s": round(time.perf_counter() - start, 1), **built.rows}
    port = free_port()
    process = serve(url, port, folder, workers=1)
    try:
        figures.update(asyncio.run(measure(f"http://127.0.0.1:{port}", built, options)))
    finally:
        process.terminate()
        process.wait(timeout=10)
    for page in ("portfolio", "trends"):
        figures[f"{page}_under_goal"] = float(str(figures[f"{page}_p95_ms"])) < GOAL_MS
    return {f"{label}_{key}": value for key, value in figures.items()}


@click.command()
@click.option(
    "--database",
    type=click.Choice(["sqlite", "postgres", "both"]),
    default="both",
    show_default=True,
)
@click.option("--sites", default=5000, show_default=True, help="Sites in the portfolio.")
@click.option(
    "--compared",
    default=MOST_COMPARED,
    show_default=True,
    help=f"Sites on the trends page, all ticked (at most {MOST_COMPARED}).",
)
@click.option("--cycles", default=8, show_default=True, help="Scored cycles the trends page shows.")
@click.option("--requests", default=50, show_default=True, help="Timed requests per page.")
@click.option("--warmup", default=5, show_default=True, help="Untimed requests first.")
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--postgres",
    default="postgresql://postgres@127.0.0.1:5432/postgres",
    show_default=True,
    help="Server for the PostgreSQL run (a throw-away database is created and dropped).",
)
def main(
    database: str,
    sites: int,
    compared: int,
    cycles: int,
    requests: int,
    warmup: int,
    seed: int,
    postgres: str,
) -> None:
    """Time the 5,000-site portfolio and the 50-site trends page, signed in, over HTTP."""
    if cycles < 2 or not 1 <= compared <= MOST_COMPARED or requests < 1:
        raise click.UsageError(
            f"need 2 or more cycles, 1 to {MOST_COMPARED} compared, 1 or more requests"
        )
    options = {
        "sites": sites,
        "compared": compared,
        "cycles": cycles,
        "requests": requests,
        "warmup": warmup,
        "seed": seed,
    }
    figures: dict[str, object] = {"machine": machine(), **options, "goal_p95_ms": GOAL_MS}
    with tempfile.TemporaryDirectory() as folder:
        if database in ("sqlite", "both"):
            path = Path(folder, "sqlite")
            path.mkdir()
            figures.update(run_one("sqlite", f"sqlite:///{path}/bench.sqlite", path, options))
        if database in ("postgres", "both"):
            path = Path(folder, "postgres")
            path.mkdir()
            name = f"rapport_bench_ws_{uuid.uuid4().hex[:8]}"
            asyncio.run(on_server(postgres, f'CREATE DATABASE "{name}"'))
            try:
                server = postgres.rsplit("/", 1)[0]
                figures.update(run_one("postgres", f"{server}/{name}", path, options))
            finally:
                asyncio.run(on_server(postgres, f'DROP DATABASE "{name}" WITH (FORCE)'))
    report("Workspace pages benchmark", figures, "workspaces")


if __name__ == "__main__":
    main()
