"""The scoring configuration: documented defaults, overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.config import ConfigError, ScoringConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "scoring.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scoring.toml"
    path.write_text(text)
    return path


def test_the_documented_example_is_exactly_the_defaults() -> None:
    assert load_config(EXAMPLE) == ScoringConfig()


def test_overrides_change_only_what_they_name(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, 'ci = 0.8\n[sand_cone]\nmargin = "none"\n[tiers]\nstrategic_raters = 5\n')
    )
    assert config.ci == 0.8
    assert config.sand_cone.margin is None
    assert config.sand_cone.weights["quality"] == 4.0
    assert config.tiers.strategic_raters == 5
    assert config.tiers.preferred_lower_bound == 65.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cl = 0.9\n", "cl: unknown setting"),
        ("[tiers]\nstrategic_lowerbound = 70\n", "tiers.strategic_lowerbound: unknown setting"),
        ("ci = 90\n", "ci: must be between 0 and 1"),
        (
            "[anonymity]\nsite_rates_sponsor = 2\n",
            "anonymity.site_rates_sponsor: may not be below 3",
        ),
        ("[anonymity]\npeers = 2\n", "anonymity.peers: may not be below 3"),
        ("[tiers]\nstrategic_raters = 2.5\n", "tiers.strategic_raters: must be a whole number"),
        ('[tiers]\nwatch_quality = "fifty"\n', "tiers.watch_quality: must be a number"),
        ("[sand_cone]\nweights = { quality = 1 }\n", "sand_cone.weights: give exactly"),
        ("[sand_cone]\nmargin = -1\n", "sand_cone.margin: must be ≥ 0"),
        ("tiers = 3\n", "tiers: must be a table"),
        ("[trend]\nmin_cycles = 2\n", "trend.min_cycles: a trend needs at least 3 cycles"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_config_round_trips_as_plain_data() -> None:
    data = ScoringConfig().as_dict()
    assert data["sand_cone"]["margin"] == 10.0
    assert data["anonymity"] == {
        "site_rates_sponsor": 3,
        "sponsor_rates_site": 1,
        "comments": 5,
        "peers": 5,
    }


def test_a_stored_configuration_reads_back_the_same_even_without_a_margin() -> None:
    from dataclasses import replace

    from scoring.config import SandCone, config_from_dict

    config = replace(ScoringConfig(ci=0.8), sand_cone=SandCone(margin=None))
    assert config_from_dict(config.as_dict()) == config
    assert config_from_dict(ScoringConfig().as_dict()).sand_cone.margin == 10
