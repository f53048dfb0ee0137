"""A synthetic world of sponsors, CROs and sites whose answers come from a known truth.

The generator is deterministic by seed and touches no database: it returns DataFrames
that `_store` writes, and that tests and benchmarks can use directly.

The latent model, on the instrument's 1…A answer scale:

- each target has a true level per Sand Cone layer and cycle, drifting by its profile
  (steady, improving, declining, volatile); each dimension sits at a fixed offset from
  its layer: θ[t, c, d] = level[t, c, layer(d)] + δ[t, d];
- a rater has a leniency b ~ N(0, σ_b) kept across cycles; an item has an offset a_i;
- an answer is y* = θ + a_i + b + ε, ε ~ N(0, σ_e), rounded to the nearest scale point
  and clipped to 1…A (written reversed, A + 1 − y, on reverse-coded items);
- answers are skipped or marked not applicable completely at random.

The truth of a dimension is the expected 0–100 score of an infinite pool of raters:
the mean over its items of E[(y − 1) / (A − 1) × 100] with y* ~ N(θ + a_i, σ_b² + σ_e²),
computed exactly from the normal distribution. Missingness is independent of the
values, so the expected rater dimension score (the mean of answered items) is the same.
A layer's truth is the mean of its dimensions' truths, as the method scores layers.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from faker import Faker
from scipy.stats import norm

from surveys.instruments import Direction, InstrumentSpec, Layer, importance_key

LENIENCY_SD = 0.35
"""σ_b: how much raters differ in how generously they answer (scale points)."""
NOISE_SD = 0.6
"""σ_e: item-level noise (scale points)."""
ITEM_OFFSET_SD = 0.15
DIMENSION_OFFSET_SD = 0.25
P_SKIP = 0.03
P_NOT_APPLICABLE = 0.04
P_RESPOND = 0.8
P_DRAFT_OF_NON_RESPONDERS = 0.2
PROFILES = ("steady", "improving", "declining", "volatile")
PROFILE_SHARES = (0.55, 0.15, 0.15, 0.15)

COUNTRIES = {
    "US": ("en_US", "en"),
    "GB": ("en_GB", "en"),
    "CA": ("en_CA", "en"),
    "DE": ("de_DE", "de"),
    "FR": ("fr_FR", "fr"),
    "ES": ("es_ES", "es"),
    "JP": ("ja_JP", "ja"),
    "PL": ("pl_PL", "en"),
}
COUNTRY_SHARES = (0.3, 0.12, 0.06, 0.14, 0.12, 0.1, 0.1, 0.06)
AREAS = (
    "oncology",
    "cardiology",
    "neurology",
    "immunology",
    "infectious_disease",
    "rare_disease",
    "endocrinology",
    "respiratory",
)
SPONSOR_NAMES = ("Halvorsen Therapeutics", "Meridian Biopharma", "Kestrel Pharma")
CRO_NAMES = ("Clarion Clinical", "Vantage Research Services")
NETWORK_NAMES = (
    "Northstar Research Network",
    "Atlantic Oncology Alliance",
    "Rhine-Alps Trial Partners",
    "Pacific Clinical Collaborative",
)
SITE_FORMS = (
    "{city} University Hospital",
    "{city} Clinical Research Centre",
    "{city} Medical Centre",
)

COMMENTS = {
    Direction.site_rates_sponsor: {
        "low": (
            "Grant payments for screen failures were three months late again this quarter.",
            "Our third CRA in a year re-queried data the previous CRA had already signed off.",
            "Every request is marked urgent, so we cannot tell what actually matters.",
            "The budget did not cover the extra imaging visits added in amendment 3.",
            "We had to log into six different portals for one study; training took two days.",
            "We heard about the next study from another site, not from the sponsor.",
        ),
        "mid": (
            "Communication is good once we reach the right person, but finding them takes time.",
            "Contracting took four months; the study team itself has been responsive.",
            "Kits arrived on time, but the IxRS training was confusing for new staff.",
            "A clearer escalation contact would help when the CRA is away.",
        ),
        "high": (
            "Our CRA knows the protocol inside out and answers within the day.",
            "They asked for our feasibility input early and it showed in the final protocol.",
            "Payments are on time and the invoices are easy to reconcile.",
            "Best sponsor we work with: realistic timelines and no surprises.",
        ),
    },
    Direction.sponsor_rates_site: {
        "low": (
            "Data entry backlog of over three weeks before the interim lock.",
            "The site over-committed at feasibility and enrolled 2 of 10 patients.",
            "Coordinator turnover left the study without cover for six weeks.",
            "Recurring findings on delegation logs despite the last CAPA.",
        ),
        "mid": (
            "Queries are answered, but usually just before the deadline.",
            "Good PI involvement; start-up was slowed by the contract office.",
            "Source documents are not always ready at the start of a monitoring visit.",
        ),
        "high": (
            "Excellent PI oversight and a well-organised coordinator team.",
            "First site activated and top enroller in the country.",
            "Clean data, queries resolved within two days, always ready for visits.",
        ),
    },
}


@dataclass(frozen=True)
class WorldParameters:
    """The sizes and seed a world is built from; same parameters, same world."""

    seed: int = 7
    sites: int = 40
    cycles: int = 6
    raters: int = 3
    """Site staff per site who answer about their sponsors (PI, coordinator, director, …)."""
    last_cycle: str = "2026-Q3"
    """The last past cycle; the world also holds the next one, open and unanswered."""

    def __post_init__(self) -> None:
        if self.sites < 4:
            raise ValueError("--sites must be at least 4")
        if not 1 <= self.cycles <= 40:
            raise ValueError("--cycles must be between 1 and 40")
        if not 1 <= self.raters <= 20:
            raise ValueError("--raters must be between 1 and 20")
        if not re.fullmatch(r"\d{4}-Q[1-4]", self.last_cycle):
            raise ValueError(f"last cycle {self.last_cycle!r} must look like 2026-Q3")

    @property
    def sponsors(self) -> int:
        """Three sponsors in the demo; one per 15 sites in bigger worlds."""
        return max(3, round(self.sites / 15))

    @property
    def cros(self) -> int:
        """Two CROs in the demo; two for every three sponsors in bigger worlds."""
        return max(2, round(self.sponsors * 2 / 3))

    @property
    def networks(self) -> int:
        """Four networks in the demo; one per ten sites in bigger worlds."""
        return max(4, self.sites // 10)

    def as_dict(self) -> dict[str, int | str]:
        """The parameters as stored beside the world."""
        return asdict(self)


@dataclass
class World:
    """Everything a synthetic world holds, as DataFrames keyed by 0-based `ref` columns."""

    parameters: WorldParameters
    organisations: pd.DataFrame
    areas: pd.DataFrame
    persons: pd.DataFrame
    relationships: pd.DataFrame
    contacts: pd.DataFrame
    cycles: pd.DataFrame
    invitations: pd.DataFrame
    responses: pd.DataFrame
    answers: pd.DataFrame
    truth: pd.DataFrame
    instruments: dict[str, InstrumentSpec] = field(repr=False)

    def answers_for_scoring(self, direction: str | None = None) -> pd.DataFrame:
        """Submitted answers in the scoring engine's long format, of one direction or both.

        Columns: cycle, rater, rater_org, target, item, value (float; NaN when skipped),
        not_applicable. Raters, organisations and targets are named by slug / e-mail.
        The two instruments share item keys (the overall item), so scoring needs one
        direction at a time.
        """
        submitted = self.responses.loc[self.responses["status"] == "submitted", "invitation"]
        if direction is not None:
            mine = self.invitations.loc[self.invitations["direction"] == direction, "ref"]
            submitted = submitted[submitted.isin(mine)]
        inv = self.invitations.set_index("ref").loc[submitted]
        ans = self.answers[self.answers["invitation"].isin(submitted)]
        ans = ans[ans["text"].isna()]
        inv = inv.loc[ans["invitation"]]
        persons = self.persons.set_index("ref")
        orgs = self.organisations.set_index("ref")["slug"]
        return pd.DataFrame(
            {
                "cycle": inv["cycle"].to_numpy(),
                "rater": persons.loc[inv["respondent"], "email"].to_numpy(),
                "rater_org": orgs.loc[persons.loc[inv["respondent"], "organisation"]].to_numpy(),
                "target": orgs.loc[inv["target"]].to_numpy(),
                "item": ans["item"].to_numpy(),
                "value": ans["value"].astype("float64").to_numpy(),
                "not_applicable": ans["not_applicable"].to_numpy(),
            }
        )


def _ascii(text: str) -> str:
    """Return `text` folded to lower-case ASCII letters, for e-mail addresses."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]+", "", folded.lower())


def _first_free(candidate: Callable[[int], str], taken: set[str]) -> str:
    """Return the first of candidate(1), candidate(2), … not yet taken, and take it."""
    n = 1
    while (name := candidate(n)) in taken:
        n += 1
    taken.add(name)
    return name


def quarter_keys(last: str, count: int) -> list[str]:
    """Return `count` quarterly cycle keys ending at `last`, oldest first."""
    year, quarter = int(last[:4]), int(last[-1])
    index = year * 4 + quarter - 1
    return [f"{i // 4}-Q{i % 4 + 1}" for i in range(index - count + 1, index + 1)]


def next_quarter(key: str) -> str:
    """Return the cycle key after `key` (2026-Q4 → 2027-Q1)."""
    year, quarter = int(key[:4]), int(key[-1])
    return f"{year + quarter // 4}-Q{quarter % 4 + 1}"


def cycle_window(key: str) -> tuple[dt.datetime, dt.datetime]:
    """Return when a quarterly cycle opens and closes: the quarter's second month."""
    year, quarter = int(key[:4]), int(key[-1])
    month = (quarter - 1) * 3 + 2
    opens = dt.datetime(year, month, 1, 8, 0, tzinfo=dt.UTC)
    closes = dt.datetime(year + month // 12, month % 12 + 1, 1, 8, 0, tzinfo=dt.UTC)
    return opens, closes


def expected_item_score(theta: np.ndarray, scale_points: int) -> np.ndarray:
    """Return E[(y − 1)/(A − 1) × 100] for y* ~ N(θ, σ_b² + σ_e²) rounded and clipped to 1…A.

    Examples
    --------
    >>> round(float(expected_item_score(np.array([3.0]), 5)[0]), 6)
    50.0
    """
    sd = math.hypot(LENIENCY_SD, NOISE_SD)
    points = np.arange(1, scale_points + 1)
    upper = norm.cdf((points[None, :] + 0.5 - theta[:, None]) / sd)
    lower = norm.cdf((points[None, :] - 0.5 - theta[:, None]) / sd)
    upper[:, -1], lower[:, 0] = 1.0, 0.0
    probability = upper - lower
    expected: np.ndarray = probability @ ((points - 1) / (scale_points - 1) * 100)
    return expected


def generate_world(parameters: WorldParameters, instruments: dict[str, InstrumentSpec]) -> World:
    """Return the world for `parameters`, answering `instruments` (keyed by direction)."""
    rng = np.random.default_rng(parameters.seed)
    builder = _Builder(parameters, instruments, rng)
    return builder.build()


@dataclass(frozen=True)
class _Answering:
    """One direction's responding invitations being answered: the instrument, and what the
    latent model knows of each row (its target, cycle, and the rater's leniency)."""

    spec: InstrumentSpec
    direction: str
    rows: pd.DataFrame
    """The responding invitations of this direction."""
    is_draft: np.ndarray
    targets: np.ndarray
    """Each row's target, as an index into the builder's targets."""
    cycles: np.ndarray
    """Each row's cycle, as an index into the world's cycles."""
    leniency: np.ndarray
    """Each row's rater's leniency b."""
    mean_level: np.ndarray
    """Each row's target's layer levels weighted 4:3:2:1, quality most: the overall
    question and the comment's mood follow it."""

    @property
    def done(self) -> np.ndarray:
        """Rows whose response was submitted (not a draft)."""
        done: np.ndarray = ~self.is_draft
        return done


class _Builder:
    """Builds one world step by step; every random draw comes from one seeded generator."""

    def __init__(
        self, p: WorldParameters, instruments: dict[str, InstrumentSpec], rng: np.random.Generator
    ):
        self.p, self.instruments, self.rng = p, instruments, rng
        self.orgs: list[dict[str, object]] = []
        self.people: list[dict[str, object]] = []
        self.emails: set[str] = set()
        self.slugs: set[str] = set()
        self.fakers: dict[str, Faker] = {}

    # organisations and people -------------------------------------------------------

    def faker(self, country: str) -> Faker:
        if country not in self.fakers:
            fake = Faker(COUNTRIES[country][0])
            fake.seed_instance(self.p.seed * 1000 + len(self.fakers))
            self.fakers[country] = fake
        return self.fakers[country]

    def add_org(self, name: str, kind: str, country: str | None, **links: int | None) -> int:
        base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:70] or kind
        slug = _first_free(lambda n: base if n == 1 else f"{base}-{n}", self.slugs)
        ref = len(self.orgs)
        self.orgs.append(
            {
                "ref": ref,
                "slug": slug,
                "name": name,
                "kind": kind,
                "country": country,
                "network": links.get("network"),
                "acts_for": links.get("acts_for"),
            }
        )
        return ref

    def add_person(self, org: int, role: str) -> int:
        country = str(self.orgs[org]["country"] or "US")
        fake = self.faker(country)
        first, last = fake.first_name(), fake.last_name()
        name = f"{last} {first}" if country == "JP" else f"{first} {last}"
        domain = str(self.orgs[org]["slug"])[:30].strip("-") + ".example"
        local = ".".join(_ascii(part) for part in (first, last) if _ascii(part))
        if "." not in local:  # names in other scripts: fall back to a romanised user name
            local = _ascii(fake.user_name()) or f"staff{len(self.people)}"
        email = _first_free(
            lambda n: f"{local}@{domain}" if n == 1 else f"{local}{n}@{domain}", self.emails
        )
        ref = len(self.people)
        self.people.append(
            {
                "ref": ref,
                "organisation": org,
                "name": name,
                "email": email,
                "role": role,
                "language": COUNTRIES[country][1],
            }
        )
        return ref

    def build_organisations(self) -> None:
        p, rng = self.p, self.rng
        hq = ("US", "GB", "DE", "JP", "FR")
        self.sponsors = [
            self.add_org(
                SPONSOR_NAMES[i]
                if i < len(SPONSOR_NAMES)
                else f"{self.faker('US').last_name()} Pharma",
                "sponsor",
                hq[i % len(hq)],
            )
            for i in range(p.sponsors)
        ]
        self.cros = [
            self.add_org(
                CRO_NAMES[i] if i < len(CRO_NAMES) else f"{self.faker('GB').last_name()} Clinical",
                "cro",
                hq[(i + 1) % len(hq)],
                # the first CRO (and every third one after) acts for one sponsor only
                acts_for=self.sponsors[i % p.sponsors] if i % 3 == 0 else None,
            )
            for i in range(p.cros)
        ]
        self.networks = [
            self.add_org(
                NETWORK_NAMES[i] if i < len(NETWORK_NAMES) else f"Research Network {i + 1}",
                "network",
                None,
            )
            for i in range(p.networks)
        ]
        countries = list(COUNTRIES)
        self.sites = []
        for _ in range(p.sites):
            country = countries[rng.choice(len(countries), p=COUNTRY_SHARES)]
            city = self.faker(country).city()
            form = SITE_FORMS[int(rng.integers(len(SITE_FORMS)))]
            # about a fifth of sites are independent; the rest belong to one network
            network = None if rng.random() < 0.2 else self.networks[int(rng.integers(p.networks))]
            self.sites.append(
                self.add_org(form.format(city=city), "site", country, network=network)
            )

    def build_areas(self) -> pd.DataFrame:
        rows = []
        for org in self.orgs:
            if org["kind"] == "network":
                continue
            count = 3 if org["kind"] in {"sponsor", "cro"} else int(self.rng.integers(1, 4))
            for area in self.rng.choice(AREAS, size=count, replace=False):
                rows.append({"organisation": org["ref"], "area": str(area)})
        return pd.DataFrame(rows)

    def build_relationships(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        p, rng = self.p, self.rng
        rows: list[dict[str, int | None]] = []
        for site in self.sites:
            k = int(rng.choice([1, 2, 3, 4], p=[0.15, 0.35, 0.3, 0.2]))
            for sponsor in rng.choice(self.sponsors, size=min(k, p.sponsors), replace=False):
                sponsor = int(sponsor)
                dedicated = [c for c in self.cros if self.orgs[c]["acts_for"] == sponsor]
                independent = [c for c in self.cros if self.orgs[c]["acts_for"] is None]
                cro = None
                if dedicated and rng.random() < 0.7:
                    cro = dedicated[int(rng.integers(len(dedicated)))]
                elif independent and rng.random() < 0.25:
                    cro = independent[int(rng.integers(len(independent)))]
                rows.append({"ref": len(rows), "sponsor": sponsor, "site": site, "cro": cro})
        relationships = pd.DataFrame(rows)
        relationships["cro"] = relationships["cro"].astype("Int64")

        # site staff: PI, coordinator, director, then more coordinators; some sites are small
        site_roles = ["pi", "coordinator", "site_director"]
        for site in self.sites:
            staff = p.raters if rng.random() > 0.1 else max(1, p.raters - 1)
            for i in range(staff):
                self.add_person(site, site_roles[i] if i < 3 else "coordinator")

        # sponsor and CRO staff sized to their workload, and who works on which site
        contacts = []
        for org in self.sponsors + self.cros:
            column = "sponsor" if self.orgs[org]["kind"] == "sponsor" else "cro"
            mine = relationships[relationships[column] == org]
            cras = [self.add_person(org, "cra") for _ in range(max(2, math.ceil(len(mine) / 5)))]
            managers = [
                self.add_person(org, "study_manager") for _ in range(max(1, len(mine) // 12))
            ]
            self.add_person(org, "relationship_manager")
            if column == "sponsor":
                self.add_person(org, "executive")
            for rel in mine.itertuples():
                runs_it = column == "cro" or pd.isna(rel.cro)
                if runs_it:
                    k = int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
                    chosen = rng.choice(cras, size=min(k, len(cras)), replace=False)
                    contacts += [{"relationship": rel.ref, "person": int(c)} for c in chosen]
                if column == "sponsor" and (runs_it or rng.random() < 0.5):
                    contacts.append(
                        {
                            "relationship": rel.ref,
                            "person": managers[int(rng.integers(len(managers)))],
                        }
                    )
        return relationships, pd.DataFrame(contacts).drop_duplicates(ignore_index=True)

    # truth -----------------------------------------------------------------------------

    def build_truth(self, cycles: list[str]) -> None:
        """Draw each target's layer levels per cycle and its dimension offsets."""
        rng = self.rng
        self.targets = self.sponsors + self.cros + self.sites
        n, c = len(self.targets), len(cycles)
        self.profile = rng.choice(PROFILES, size=n, p=PROFILE_SHARES)
        quality = rng.normal(3.75, 0.45, n)
        base = np.column_stack(
            [
                quality,
                quality + rng.normal(-0.15, 0.3, n),
                quality + rng.normal(-0.25, 0.4, n),
                rng.normal(3.45, 0.45, n),
            ]
        )
        step = np.select(
            [self.profile == "improving", self.profile == "declining"], [0.12, -0.12], 0.0
        )
        walk_sd = np.where(self.profile == "volatile", 0.3, 0.05)
        shocks = rng.normal(0, 1, (n, c)) * walk_sd[:, None]
        drift = step[:, None] * np.arange(c)[None, :] + np.cumsum(shocks, axis=1)
        layer_noise = rng.normal(0, 0.06, (n, c, 4))
        # level[target, cycle, layer]; clipped so no true score is pinned at a scale end
        self.level = np.clip(base[:, None, :] + drift[:, :, None] + layer_noise, 1.3, 4.85)
        self.target_index = {t: i for i, t in enumerate(self.targets)}
        self.dim_offset: dict[str, np.ndarray] = {}
        self.item_offset: dict[str, np.ndarray] = {}
        for direction, spec in self.instruments.items():
            n_items = sum(len(d.items) for d in spec.dimensions)
            self.dim_offset[direction] = rng.normal(
                0, DIMENSION_OFFSET_SD, (n, len(spec.dimensions))
            )
            self.item_offset[direction] = rng.normal(0, ITEM_OFFSET_SD, n_items)
        self.leniency = rng.normal(0, LENIENCY_SD, len(self.people))

    def theta(self, direction: str, targets: np.ndarray, cycle: int) -> np.ndarray:
        """Return θ[row, dimension] for target indices at one cycle."""
        spec = self.instruments[direction]
        layers = np.array([list(Layer).index(Layer(d.layer)) for d in spec.dimensions])
        theta: np.ndarray = (
            self.level[targets, cycle][:, layers] + self.dim_offset[direction][targets]
        )
        return theta

    def truth_rows(self, cycles: list[str]) -> pd.DataFrame:
        frames = []
        for direction, spec in self.instruments.items():
            kinds = {"site"} if direction == Direction.sponsor_rates_site else {"sponsor", "cro"}
            rated = np.array(
                [self.target_index[t] for t in self.targets if self.orgs[t]["kind"] in kinds]
            )
            item_dim = np.concatenate([[i] * len(d.items) for i, d in enumerate(spec.dimensions)])
            offsets = self.item_offset[direction]
            for c, key in enumerate(cycles):
                theta = self.theta(direction, rated, c)  # (targets, dims)
                per_item = expected_item_score(
                    (theta[:, item_dim] + offsets[None, :]).ravel(), spec.scale_points
                ).reshape(len(rated), -1)
                dims = np.column_stack(
                    [per_item[:, item_dim == i].mean(axis=1) for i in range(len(spec.dimensions))]
                )
                for j, dim in enumerate(spec.dimensions):
                    frames.append(self._truth_frame(key, rated, "dimension", dim.key, dims[:, j]))
                for layer in Layer:
                    cols = [j for j, d in enumerate(spec.dimensions) if d.layer == layer.value]
                    frames.append(
                        self._truth_frame(
                            key, rated, "layer", layer.value, dims[:, cols].mean(axis=1)
                        )
                    )
        return pd.concat(frames, ignore_index=True)

    def _truth_frame(
        self, cycle: str, rated: np.ndarray, scope: str, key: str, values: np.ndarray
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "cycle": cycle,
                "target": [self.targets[i] for i in rated],
                "scope": scope,
                "key": key,
                "value": values,
                "profile": self.profile[rated],
            }
        )

    # invitations and answers ---------------------------------------------------------------

    def build_invitations(
        self, relationships: pd.DataFrame, contacts: pd.DataFrame, cycles: list[str]
    ) -> pd.DataFrame:
        """One invitation per cycle, respondent and target, in both directions."""
        persons = pd.DataFrame(self.people)
        site_staff = persons[
            persons["role"].isin(self.instruments[Direction.site_rates_sponsor].respondent_roles)
        ]
        pairs = []
        for rel in relationships.itertuples():
            targets = [rel.sponsor] + ([] if pd.isna(rel.cro) else [int(rel.cro)])
            for person in site_staff.loc[site_staff["organisation"] == rel.site, "ref"]:
                pairs += [
                    (rel.ref, int(person), int(t), Direction.site_rates_sponsor) for t in targets
                ]
        for contact in contacts.itertuples():
            site = int(relationships.at[contact.relationship, "site"])
            pairs.append((contact.relationship, contact.person, site, Direction.sponsor_rates_site))
        base = pd.DataFrame(pairs, columns=["relationship", "respondent", "target", "direction"])
        # a person working on two relationships with the same target is invited once
        base = base.drop_duplicates(["respondent", "target"], ignore_index=True)
        frames = []
        for key in [*cycles, next_quarter(cycles[-1])]:
            frame = base.copy()
            frame.insert(0, "cycle", key)
            frames.append(frame)
        invitations = pd.concat(frames, ignore_index=True)
        invitations.insert(0, "ref", np.arange(len(invitations)))
        return invitations

    def build_answers(
        self, invitations: pd.DataFrame, cycles: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Return invitations with their outcome, the responses and the answers."""
        rng = self.rng
        n = len(invitations)
        past = invitations["cycle"].isin(cycles).to_numpy()
        # each site answers more or less diligently; sponsors' staff about as often
        diligence = {org["ref"]: rng.uniform(0.55, 0.98) for org in self.orgs}
        respondent_org = np.array(
            [self.people[r]["organisation"] for r in invitations["respondent"]]
        )
        p_respond = np.array([diligence[o] for o in respondent_org]) * P_RESPOND / 0.765
        submitted = past & (rng.random(n) < np.clip(p_respond, 0, 0.97))
        draft = ~submitted & (rng.random(n) < P_DRAFT_OF_NON_RESPONDERS) & past
        opens = {k: cycle_window(k)[0] for k in invitations["cycle"].unique()}
        day = rng.integers(0, 27, n)
        status = np.where(submitted, "submitted", np.where(draft, "in_progress", "sent"))
        invitations = invitations.assign(status=status)
        invitations["sent_at"] = invitations["cycle"].map(opens)
        answered_at = (
            invitations["sent_at"]
            + pd.to_timedelta(day, unit="D")
            + pd.to_timedelta(rng.integers(0, 10 * 3600, n), unit="s")
        )
        invitations["submitted_at"] = answered_at.where(submitted)
        invitations["opened_at"] = (answered_at - pd.Timedelta(minutes=12)).where(submitted | draft)

        responding = invitations[submitted | draft]
        responses = pd.DataFrame(
            {
                "invitation": responding["ref"].to_numpy(),
                "status": np.where(submitted[submitted | draft], "submitted", "draft"),
                "language": [self.people[r]["language"] for r in responding["respondent"]],
                "started_at": responding["opened_at"].to_numpy(),
                "submitted_at": responding["submitted_at"].to_numpy(),
            }
        )
        cycle_index = {k: i for i, k in enumerate(cycles)}
        frames = []
        for direction, spec in self.instruments.items():
            rows = responding[responding["direction"] == direction]
            if rows.empty:
                continue
            is_draft = (rows["status"] == "in_progress").to_numpy()
            frames.append(self._answers_for(spec, direction, rows, is_draft, cycle_index))
        answers = pd.concat(frames, ignore_index=True)
        return invitations, responses, answers

    def _answers_for(
        self,
        spec: InstrumentSpec,
        direction: str,
        rows: pd.DataFrame,
        is_draft: np.ndarray,
        cycle_index: dict[str, int],
    ) -> pd.DataFrame:
        """One direction's answers: the Likert items, then the overall question, importance
        and comments of submitted responses. The parts draw from the generator in this order,
        so a seed always makes the same world."""
        targets = np.array([self.target_index[t] for t in rows["target"]])
        cycles = rows["cycle"].map(cycle_index).to_numpy()
        answering = _Answering(
            spec=spec,
            direction=direction,
            rows=rows,
            is_draft=is_draft,
            targets=targets,
            cycles=cycles,
            leniency=self.leniency[rows["respondent"].to_numpy()],
            mean_level=self.level[targets, cycles] @ (np.array([4, 3, 2, 1]) / 10),
        )
        likert = self._likert_answers(answering)
        answers = pd.concat(
            [
                likert,
                self._overall_answers(answering),
                *self._importance_answers(answering),
                self._comment_answers(answering),
            ],
            ignore_index=True,
        )
        answers["value"] = answers["value"].astype("Int64")
        return answers

    def _likert_answers(self, a: _Answering) -> pd.DataFrame:
        """The Likert answers drawn from the latent model, some skipped or not applicable;
        a draft stops part-way through the form."""
        rng, points, rows = self.rng, a.spec.scale_points, a.rows
        items = [item for d in a.spec.dimensions for item in d.items]
        item_dim = np.concatenate([[i] * len(d.items) for i, d in enumerate(a.spec.dimensions)])
        reverse = np.array([item.reverse for item in items])
        theta = np.empty((len(rows), len(a.spec.dimensions)))
        for c in np.unique(a.cycles):
            mask = a.cycles == c
            theta[mask] = self.theta(a.direction, a.targets[mask], int(c))
        latent = (
            theta[:, item_dim]
            + self.item_offset[a.direction][None, :]
            + a.leniency[:, None]
            + rng.normal(0, NOISE_SD, (len(rows), len(items)))
        )
        value = np.clip(np.rint(latent), 1, points)
        written = np.where(reverse[None, :], points + 1 - value, value)
        skip = rng.random(written.shape) < P_SKIP
        not_applicable = ~skip & (rng.random(written.shape) < P_NOT_APPLICABLE)
        stop = np.where(a.is_draft, rng.integers(1, len(items), len(rows)), len(items))
        present = np.arange(len(items))[None, :] < stop[:, None]
        written = np.where(skip | not_applicable, np.nan, written)
        return pd.DataFrame(
            {
                "invitation": np.repeat(rows["ref"].to_numpy(), len(items)),
                "item": np.tile([item.key for item in items], len(rows)),
                "value": written.ravel(),
                "not_applicable": not_applicable.ravel(),
                "text": None,
            }
        )[present.ravel()]

    def _overall_answers(self, a: _Answering) -> pd.DataFrame:
        """The overall 0–10 answer of each submitted response, following the target's
        weighted level and the rater's leniency."""
        noise = self.rng.normal(0, 0.9, len(a.rows))
        overall = np.clip(np.rint(2.5 * (a.mean_level - 1) + 2.5 * a.leniency + noise), 0, 10)
        return pd.DataFrame(
            {
                "invitation": a.rows["ref"].to_numpy()[a.done],
                "item": a.spec.overall_key,
                "value": overall[a.done],
                "not_applicable": False,
                "text": None,
            }
        )

    def _importance_answers(self, a: _Answering) -> list[pd.DataFrame]:
        """Each asked dimension's stated importance (1–5), from most submitted responses."""
        rng, rows = self.rng, a.rows
        importance_mean = rng.uniform(3.0, 4.8, len(a.spec.dimensions))
        frames = []
        for j, dim in enumerate(a.spec.dimensions):
            if not dim.importance:
                continue
            answered = a.done & (rng.random(len(rows)) < 0.85)
            stated = np.clip(np.rint(rng.normal(importance_mean[j], 0.7, len(rows))), 1, 5)
            frames.append(
                pd.DataFrame(
                    {
                        "invitation": rows["ref"].to_numpy()[answered],
                        "item": importance_key(dim.key),
                        "value": stated[answered],
                        "not_applicable": False,
                        "text": None,
                    }
                )
            )
        return frames

    def _comment_answers(self, a: _Answering) -> pd.DataFrame:
        """Comments from some submitted responses, picked to match how the rater sees the
        target (low, mid or high)."""
        rng = self.rng
        p_comment = 0.25 if a.direction == Direction.site_rates_sponsor else 0.35
        commented = a.done & (rng.random(len(a.rows)) < p_comment)
        pools = COMMENTS[Direction(a.direction)]
        seen = a.mean_level + a.leniency
        mood = np.where(seen < 3.2, "low", np.where(seen < 3.9, "mid", "high"))
        texts = [pools[m][int(rng.integers(len(pools[m])))] for m in mood[commented]]
        return pd.DataFrame(
            {
                "invitation": a.rows["ref"].to_numpy()[commented],
                "item": a.spec.comment_key,
                "value": np.nan,
                "not_applicable": False,
                "text": texts,
            }
        )

    # assembly --------------------------------------------------------------------------------

    def build(self) -> World:
        cycles = quarter_keys(self.p.last_cycle, self.p.cycles)
        self.build_organisations()
        areas = self.build_areas()
        relationships, contacts = self.build_relationships()
        self.build_truth(cycles)
        truth = self.truth_rows(cycles)
        invitations = self.build_invitations(relationships, contacts, cycles)
        invitations, responses, answers = self.build_answers(invitations, cycles)
        current = next_quarter(cycles[-1])
        cycle_rows = [
            {
                "key": k,
                "status": "closed",
                "opens_at": cycle_window(k)[0],
                "closes_at": cycle_window(k)[1],
            }
            for k in cycles
        ] + [
            {
                "key": current,
                "status": "open",
                "opens_at": cycle_window(current)[0],
                "closes_at": cycle_window(current)[1],
            }
        ]
        organisations = pd.DataFrame(self.orgs)
        for column in ("network", "acts_for"):
            organisations[column] = organisations[column].astype("Int64")
        return World(
            parameters=self.p,
            organisations=organisations,
            areas=areas,
            persons=pd.DataFrame(self.people),
            relationships=relationships,
            contacts=contacts,
            cycles=pd.DataFrame(cycle_rows),
            invitations=invitations,
            responses=responses,
            answers=answers,
            truth=truth,
            instruments=self.instruments,
        )
