"""The scoring configuration: every weight, margin and threshold in one place, with defaults.

Defaults are DESIGN.md §3 and §4. A TOML file overrides any of them; an unknown key or
an impossible value is refused with a message naming the key, so a typo can never
silently fall back to a default. The whole configuration is stored with every score
run (`as_dict`), so a run can be reproduced.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

LAYERS = ("quality", "dependability", "speed", "cost")
"""Sand Cone layers, in the order each builds on the one before."""


class ConfigError(ValueError):
    """A scoring configuration cannot be used; the message names the key."""


@dataclass(frozen=True)
class SandCone:
    """How layer scores combine into the reliability index (DESIGN.md §3.6)."""

    weights: dict[str, float] = field(
        default_factory=lambda: {"quality": 4.0, "dependability": 3.0, "speed": 2.0, "cost": 1.0}
    )
    """Relative weight of each layer; they need not sum to anything."""
    margin: float | None = 10.0
    """How far a layer may exceed the one below it; None (TOML "none") turns the cap off."""


@dataclass(frozen=True)
class Anonymity:
    """Smallest groups whose aggregates may be shown to the rated party (DESIGN.md §4)."""

    site_rates_sponsor: int = 3
    """Distinct site raters behind any aggregate a sponsor or CRO sees; never below 3."""
    sponsor_rates_site: int = 1
    """Sponsor raters behind an aggregate a site sees (a sponsor speaks as an organisation)."""
    comments: int = 5
    """Distinct site raters behind a group before their comments may be shown; a sponsor's
    comments speak for the sponsor and follow `sponsor_rates_site`."""
    peers: int = 5
    """Other partners each member of a benchmark group is compared with before anything of
    the group's spread is shown (`scoring.anonymity.peer_spread`); never below 3."""


@dataclass(frozen=True)
class Tiers:
    """Tier rules (DESIGN.md §3.12); scores are 0–100."""

    strategic_lower_bound: float = 80.0
    strategic_quality: float = 75.0
    strategic_predictability: float = 70.0
    strategic_raters: int = 3
    strategic_cycles: int = 2
    preferred_lower_bound: float = 65.0
    watch_upper_bound: float = 45.0
    watch_quality: float = 50.0
    watch_decline_index: float = 55.0
    """A significant decline leaving the index below this means Watch."""
    demotion_margin: float = 5.0
    """A demotion needs the estimate this far below the threshold, or two misses in a row."""
    promotion_cycles: int = 2
    """Consecutive cycles a promotion must hold before it is granted."""


@dataclass(frozen=True)
class Trend:
    """Trend and predictability over recent cycles (DESIGN.md §3.7–8)."""

    min_cycles: int = 3
    significance: float = 0.05


@dataclass(frozen=True)
class ScoringConfig:
    """Everything the engine needs besides the answers."""

    ci: float = 0.90
    """Confidence level of target intervals and of the reliability index's interval."""
    alpha_ci: float = 0.95
    """Confidence level of Cronbach's alpha's interval."""
    sand_cone: SandCone = field(default_factory=SandCone)
    anonymity: Anonymity = field(default_factory=Anonymity)
    tiers: Tiers = field(default_factory=Tiers)
    trend: Trend = field(default_factory=Trend)

    def as_dict(self) -> dict[str, Any]:
        """The configuration as plain data, as stored beside a score run."""
        return asdict(self)

    def __post_init__(self) -> None:
        for name in ("ci", "alpha_ci"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be between 0 and 1, e.g. 0.90")
        weights = self.sand_cone.weights
        if set(weights) != set(LAYERS):
            raise ConfigError(f"sand_cone.weights: give exactly {', '.join(LAYERS)}")
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ConfigError("sand_cone.weights: weights must be ≥ 0 and not all 0")
        if self.sand_cone.margin is not None and self.sand_cone.margin < 0:
            raise ConfigError('sand_cone.margin: must be ≥ 0, or "none" to turn the cap off')
        if self.anonymity.site_rates_sponsor < 3:
            raise ConfigError("anonymity.site_rates_sponsor: may not be below 3 (DESIGN.md §4)")
        if self.anonymity.peers < 3:
            raise ConfigError(
                "anonymity.peers: may not be below 3: fewer peers' figures would name them"
            )
        if self.anonymity.sponsor_rates_site < 1 or self.anonymity.comments < 1:
            raise ConfigError("anonymity: thresholds must be at least 1")
        if self.trend.min_cycles < 3:
            raise ConfigError("trend.min_cycles: a trend needs at least 3 cycles")


def load_config(path: Path | None = None) -> ScoringConfig:
    """Return the defaults, overridden by the TOML file at `path` if given."""
    if path is None:
        return ScoringConfig()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    try:
        config: ScoringConfig = _override(ScoringConfig(), document, "")
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    return config


def config_from_dict(values: dict[str, Any]) -> ScoringConfig:
    """Return the configuration a score run stored beside its results (`as_dict`).

    Examples
    --------
    >>> config_from_dict(ScoringConfig().as_dict()) == ScoringConfig()
    True
    """
    config: ScoringConfig = _override(ScoringConfig(), values, "")
    return config


def _override(current: Any, values: dict[str, Any], prefix: str) -> Any:
    known = {f.name: f for f in fields(current)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if key not in known:
            raise ConfigError(f"{name}: unknown setting (known: {', '.join(sorted(known))})")
        default = getattr(current, key)
        if is_dataclass(default):
            if not isinstance(value, dict):
                raise ConfigError(f"{name}: must be a table [{name}]")
            changes[key] = _override(default, value, f"{name}.")
        else:
            changes[key] = _value(name, default, value)
    return replace(current, **changes)


def _value(name: str, default: Any, value: Any) -> Any:
    if name == "sand_cone.margin" and value in ("none", None):
        return None
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: must be a table of numbers")
        for key, number in value.items():
            _value(f"{name}.{key}", 0.0, number)
        return {key: float(number) for key, number in value.items()}
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name}: must be a number, not {value!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        if value != int(value):
            raise ConfigError(f"{name}: must be a whole number, not {value!r}")
        return int(value)
    return float(value)
