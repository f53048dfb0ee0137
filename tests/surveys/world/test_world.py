"""The synthetic world: deterministic by seed, faithful to its stated truth, built once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from piccolo.engine.base import Engine

from surveys.cycles.invitations import Invitation
from surveys.directory.organisations import Organisation, Person, Relationship
from surveys.responses.answers import Answer, Response, submitted_answers
from surveys.world import (
    SimulatedWorld,
    TrueScore,
    WorldConflictError,
    WorldParameters,
    build_world,
    bundled_specs,
    expected_item_score,
    generate_world,
)
from surveys.world._model import LENIENCY_SD, NOISE_SD
from tests.conftest import SMALL_WORLD

TABLES = [
    "organisations",
    "areas",
    "persons",
    "relationships",
    "contacts",
    "cycles",
    "invitations",
    "responses",
    "answers",
    "truth",
]


@pytest.fixture(scope="module")
def demo_world():  # type: ignore[no-untyped-def]
    return generate_world(WorldParameters(), bundled_specs())


def test_same_seed_gives_an_identical_world(demo_world) -> None:  # type: ignore[no-untyped-def]
    again = generate_world(WorldParameters(), bundled_specs())
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(demo_world, name), getattr(again, name), obj=name)


def test_another_seed_gives_another_world(demo_world) -> None:  # type: ignore[no-untyped-def]
    other = generate_world(WorldParameters(seed=8), bundled_specs())
    assert not demo_world.truth["value"].equals(other.truth["value"])
    assert not demo_world.persons["email"].equals(other.persons["email"])


def test_demo_world_has_the_promised_shape(demo_world) -> None:  # type: ignore[no-untyped-def]
    kinds = demo_world.organisations["kind"].value_counts().to_dict()
    assert kinds == {"sponsor": 3, "cro": 2, "site": 40, "network": 4}
    cros = demo_world.organisations[demo_world.organisations["kind"] == "cro"]
    assert cros["acts_for"].notna().sum() == 1, "exactly one CRO acts for a sponsor"
    sites = demo_world.organisations[demo_world.organisations["kind"] == "site"]
    assert sites["network"].isna().any() and sites["network"].notna().sum() > 20
    assert sites["country"].nunique() >= 5
    assert 130 <= len(demo_world.persons) <= 180
    assert demo_world.cycles["status"].tolist() == ["closed"] * 6 + ["open"]
    assert set(demo_world.invitations["direction"]) == {"site_rates_sponsor", "sponsor_rates_site"}
    assert demo_world.answers["text"].notna().sum() > 100, "some respondents leave comments"


def test_every_rated_target_has_a_truth_for_every_dimension_and_layer(demo_world) -> None:  # type: ignore[no-untyped-def]
    submitted = demo_world.invitations[demo_world.invitations["status"] == "submitted"]
    rated = set(zip(submitted["cycle"], submitted["target"], strict=True))
    truth = demo_world.truth
    counts = truth.groupby(["cycle", "target", "scope"]).size().unstack()
    assert rated <= set(counts.index)
    assert (counts["dimension"] == 13).all() and (counts["layer"] == 4).all()
    assert truth["value"].between(0, 100).all()


def test_some_targets_have_only_one_or_two_raters(demo_world) -> None:  # type: ignore[no-untyped-def]
    submitted = demo_world.invitations[demo_world.invitations["status"] == "submitted"]
    raters = submitted.groupby(["cycle", "target"])["respondent"].nunique()
    assert (raters <= 2).sum() >= 10
    assert raters.max() >= 30, "sponsors are rated by many site staff"


@pytest.mark.parametrize("points", [5, 7])
@pytest.mark.parametrize("theta", [1.2, 2.7, 3.5, 4.6])
def test_expected_item_score_matches_simulation(points: int, theta: float) -> None:
    rng = np.random.default_rng(1)
    draws = rng.normal(theta, np.hypot(LENIENCY_SD, NOISE_SD), 400_000)
    scores = (np.clip(np.rint(draws), 1, points) - 1) / (points - 1) * 100
    expected = expected_item_score(np.array([theta]), points)[0]
    assert abs(scores.mean() - expected) < 4 * scores.std() / np.sqrt(len(scores))


def rater_dimension_scores(world) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Reverse-code, drop N/A, mean of answered items when at least half are answered, 0–100."""
    answers = world.answers_for_scoring()
    items = {}
    for spec in world.instruments.values():
        for dim in spec.dimensions:
            for item in dim.items:
                items[item.key] = (dim.key, item.reverse, spec.scale_points)
    answers = answers[answers["item"].isin(items)].copy()
    answers["dimension"] = answers["item"].map(lambda k: items[k][0])
    points = answers["item"].map(lambda k: items[k][2])
    reverse = answers["item"].map(lambda k: items[k][1])
    value = answers["value"].where(~answers["not_applicable"])
    answers["score"] = (value.where(~reverse, points + 1 - value) - 1) / (points - 1) * 100
    size = answers.groupby(["dimension"])["item"].nunique()
    grouped = answers.groupby(["cycle", "target", "rater", "dimension"])
    out = grouped["score"].agg(["mean", "count"]).reset_index()
    out = out[out["count"] >= np.ceil(out["dimension"].map(size) / 2)]
    return out


def test_answers_agree_with_the_stored_truth(demo_world) -> None:  # type: ignore[no-untyped-def]
    """Each cell's mean misses its truth by about one of its own standard errors.

    For every (cycle, target, dimension) rated by at least ten people, z = (mean − truth)
    / (sd / √n). With the right truth, z is roughly standard normal: mean z² near 1 and
    almost no |z| > 3. A truth that ignores item offsets or takes the wrong cycle's
    level gives mean z² of 3 to 19 on this world (checked when this test was written).
    """
    scores = rater_dimension_scores(demo_world)
    cells = (
        scores.groupby(["cycle", "target", "dimension"])["mean"]
        .agg(["mean", "std", "count"])
        .reset_index()
    )
    cells = cells[cells["count"] >= 10]
    slugs = demo_world.organisations.set_index("ref")["slug"]
    truth = (
        demo_world.truth[demo_world.truth["scope"] == "dimension"]
        .assign(target=lambda t: t["target"].map(slugs))
        .rename(columns={"key": "dimension", "value": "truth"})
    )
    merged = cells.merge(truth, on=["cycle", "target", "dimension"], validate="one_to_one")
    assert len(merged) == len(cells) > 300
    z = (merged["mean"] - merged["truth"]) / (merged["std"] / np.sqrt(merged["count"]))
    assert 0.6 < (z**2).mean() < 1.3
    assert (z.abs() > 3).mean() < 0.02


def test_improving_targets_improve_and_declining_ones_decline(demo_world) -> None:  # type: ignore[no-untyped-def]
    layers = demo_world.truth[demo_world.truth["scope"] == "layer"]
    by_cycle = layers.groupby(["profile", "target", "cycle"])["value"].mean().reset_index()
    first, last = sorted(by_cycle["cycle"].unique())[0], sorted(by_cycle["cycle"].unique())[-1]
    change = (
        (
            by_cycle[by_cycle["cycle"] == last].set_index(["profile", "target"])["value"]
            - by_cycle[by_cycle["cycle"] == first].set_index(["profile", "target"])["value"]
        )
        .groupby("profile")
        .mean()
    )
    assert change["improving"] > 5 and change["declining"] < -5
    assert abs(change["steady"]) < 3


def test_world_scales_sponsors_and_relationships_with_sites() -> None:
    big = generate_world(WorldParameters(sites=200, cycles=2), bundled_specs())
    assert (big.organisations["kind"] == "sponsor").sum() == 13
    assert 400 <= len(big.relationships) <= 620


@pytest.mark.parametrize(
    "bad", [{"sites": 2}, {"cycles": 0}, {"raters": 0}, {"last_cycle": "2026-Q5"}]
)
def test_impossible_world_sizes_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError, match="must"):
        WorldParameters(**bad)


@pytest.mark.anyio
async def test_stored_world_matches_the_generated_one_and_is_reused(world_db: Engine) -> None:
    parameters = WorldParameters(**SMALL_WORLD)
    world = generate_world(parameters, bundled_specs())
    counts = {
        Organisation: len(world.organisations),
        Person: len(world.persons),
        Relationship: len(world.relationships),
        Invitation: len(world.invitations),
        Response: len(world.responses),
        Answer: len(world.answers),
        TrueScore: len(world.truth),
    }
    for table, expected in counts.items():
        assert await table.count() == expected, table._meta.tablename
    # the stored answers are the generated ones, value for value, joined back to names
    keys = ["cycle", "rater", "target", "item"]
    emails = {str(p["id"]): p["email"] for p in await Person.select(Person.id, Person.email)}
    stored = await submitted_answers()
    stored["rater"] = stored["rater"].map(emails)  # the engine's labels are person ids
    stored = stored.drop(columns="sponsor").sort_values(keys, ignore_index=True)
    generated = world.answers_for_scoring().sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(stored, generated, check_dtype=False)
    stored_truth = await TrueScore.select(
        TrueScore.cycle.key.as_alias("cycle"),
        TrueScore.target.slug.as_alias("target"),
        TrueScore.scope,
        TrueScore.key,
        TrueScore.value,
    )
    slugs = world.organisations.set_index("ref")["slug"]
    expected_truth = world.truth.assign(target=world.truth["target"].map(slugs))
    merged = pd.DataFrame(stored_truth).merge(
        expected_truth, on=["cycle", "target", "scope", "key"], validate="one_to_one"
    )
    assert len(merged) == len(world.truth)
    np.testing.assert_allclose(merged["value_x"], merged["value_y"], rtol=0, atol=1e-9)
    summary = await build_world(parameters)
    assert summary.reused
    for table, expected in counts.items():
        assert await table.count() == expected, f"{table._meta.tablename} grew on reuse"
    assert await SimulatedWorld.count() == 1


@pytest.mark.anyio
async def test_building_a_different_world_over_an_existing_one_is_refused(world_db: Engine) -> None:
    with pytest.raises(WorldConflictError, match="already holds a demo world"):
        await build_world(WorldParameters(**{**SMALL_WORLD, "seed": 99}))
