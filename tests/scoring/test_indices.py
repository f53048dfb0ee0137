"""Target scores, shrinkage and rwg: worked by hand, and against the synthetic world's truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scoring.indices import rwg, shrunk_scores, target_scores, top_box_share
from scoring.items import AnswersError, coded_answers, rater_dimension_scores

ITEMS = pd.DataFrame(
    {
        "dimension": ["d", "d", "d", None],
        "layer": ["quality"] * 3 + [None],
        "reverse": [False, True, False, False],
        "kind": ["likert", "likert", "likert", "overall"],
    },
    index=["i1", "i2", "i3", "overall"],
)


def answers(
    items: list[str], values: list[float], rater: str = "r", target: str = "t"
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cycle": "c",
            "rater": rater,
            "rater_org": "o",
            "target": target,
            "item": items,
            "value": values,
        }
    )


def test_reverse_coding_twice_is_the_identity() -> None:
    once = coded_answers(answers(["i2"], [2.0]), ITEMS, 5)["value"].iloc[0]
    twice = coded_answers(answers(["i2"], [once]), ITEMS, 5)["value"].iloc[0]
    assert (once, twice) == (4.0, 2.0)


@pytest.mark.parametrize(
    ("items", "values", "message"),
    [
        (["i1", "nope"], [3.0, 3.0], "row 1, column item: 'nope' is not an item"),
        (["i1", "i3"], [3.0, 6.0], "row 1, column value: 6 is not an answer on the 1–5 scale"),
        (["i1"], [2.5], "row 0, column value: 2.5 is not an answer"),
        (["i1"], [0.0], "row 0, column value: 0 is not an answer"),
    ],
)
def test_impossible_answers_name_row_and_column(
    items: list[str], values: list[float], message: str
) -> None:
    with pytest.raises(AnswersError, match=message):
        coded_answers(answers(items, values), ITEMS, 5)


def test_overall_item_is_not_a_likert_answer_and_missing_values_are_dropped() -> None:
    coded = coded_answers(answers(["i1", "i3", "overall"], [4.0, np.nan, 9.0]), ITEMS, 5)
    assert coded["item"].tolist() == ["i1"]


def test_a_rater_needs_half_the_items_of_a_dimension() -> None:
    one = coded_answers(answers(["i1"], [5.0], rater="one"), ITEMS, 5)
    two = coded_answers(answers(["i1", "i2"], [5.0, 1.0], rater="two"), ITEMS, 5)
    scores = rater_dimension_scores(pd.concat([one, two]), ITEMS, 5)
    # three items: ⌈3/2⌉ = 2 needed; "two" answered 5 and a reversed 1 (= 5): 100
    assert scores[["rater", "score", "n_items"]].values.tolist() == [["two", 100.0, 2]]


def test_seven_point_scale_rescales_to_percent() -> None:
    coded = coded_answers(answers(["i1", "i2"], [7.0, 4.0]), ITEMS, 7)
    [score] = rater_dimension_scores(coded, ITEMS, 7)["score"]
    assert score == pytest.approx(((7 + 4) / 2 - 1) / 6 * 100)


def test_interval_is_the_t_interval() -> None:
    data = pd.DataFrame({"target": "a", "score": [55.0, 60.0, 72.0, 80.0, 41.0]})
    row = target_scores(data, ["target"], ci=0.90).iloc[0]
    low, high = stats.t.interval(0.90, 4, loc=data["score"].mean(), scale=stats.sem(data["score"]))
    assert (row["low"], row["high"]) == pytest.approx((low, high), abs=1e-9)


def test_one_rater_has_no_interval() -> None:
    row = target_scores(pd.DataFrame({"target": "a", "score": [55.0]}), ["target"]).iloc[0]
    assert row["n_raters"] == 1
    assert np.isnan(row["low"])


def test_top_box_counts_strong_disagreement_with_a_reversed_item() -> None:
    coded = coded_answers(answers(["i1", "i2", "i3"], [5.0, 1.0, 4.0]), ITEMS, 5)
    share = top_box_share(coded, ["target"], 5)["top_box"].iloc[0]
    assert share == pytest.approx(2 / 3)


def test_rwg_single_item_by_hand() -> None:
    # James, Demaree & Wolf (1984): rwg = 1 − s²/σ²_EU; five raters 4,4,5,4,3 on 5 points:
    # s² = 0.5, σ²_EU = (25 − 1)/12 = 2, so rwg = 0.75
    coded = pd.DataFrame({"target": "t", "item": "i1", "value": [4.0, 4.0, 5.0, 4.0, 3.0]})
    assert rwg(coded, ["target"], 5)["rwg"].iloc[0] == pytest.approx(0.75)


def test_rwg_j_two_items_by_hand() -> None:
    # s̄² = (0.5 + 0.3) / 2 = 0.4; ratio 0.2; rwg(J=2) = 2·0.8 / (2·0.8 + 0.2) = 0.8889
    coded = pd.DataFrame(
        {
            "target": "t",
            "item": ["i1"] * 5 + ["i2"] * 5,
            "value": [4.0, 4.0, 5.0, 4.0, 3.0, 5.0, 4.0, 5.0, 4.0, 4.0],
        }
    )
    assert rwg(coded, ["target"], 5)["rwg"].iloc[0] == pytest.approx(1.6 / 1.8)


def test_rwg_is_zero_when_raters_disagree_more_than_chance() -> None:
    coded = pd.DataFrame({"target": "t", "item": "i1", "value": [1.0, 5.0, 1.0, 5.0]})
    assert rwg(coded, ["target"], 5)["rwg"].iloc[0] == 0.0


def test_shrinkage_on_a_hand_computed_unbalanced_example() -> None:
    # targets a, b, c with 1, 2, 3 raters; means 10, 20, 33; grand mean 149/6
    # MSB = 466.833/2 = 233.417, MSW = 26/3 = 8.667, n0 = (6 − 14/6)/2 = 1.8333
    # τ² = (233.417 − 8.667)/1.8333 = 122.591; λ = τ²/(τ² + σ²/n)
    data = pd.DataFrame(
        {"set": "s", "target": ["a", "b", "b", "c", "c", "c"], "score": [10.0, 18, 22, 30, 33, 36]}
    )
    out = shrunk_scores(data, ["set"]).set_index("target")
    tau2, sigma2 = 122.5909, 26 / 3
    for target, n in (("a", 1), ("b", 2), ("c", 3)):
        assert out.at[target, "lambda"] == pytest.approx(tau2 / (tau2 + sigma2 / n), abs=1e-4)
    weights = {t: 1 / (tau2 + sigma2 / n) for t, n in (("a", 1), ("b", 2), ("c", 3))}
    centre = (weights["a"] * 10 + weights["b"] * 20 + weights["c"] * 33) / sum(weights.values())
    assert out.at["a", "centre"] == pytest.approx(centre, abs=1e-4)
    assert out.at["a", "shrunk"] == pytest.approx(centre + out.at["a", "lambda"] * (10 - centre))
    # fewer raters, less reliable mean, more weight on the centre
    assert out.at["a", "lambda"] < out.at["b", "lambda"] < out.at["c", "lambda"]


def test_no_real_differences_shrinks_everyone_to_the_centre() -> None:
    data = pd.DataFrame(
        {"set": "s", "target": ["a", "a", "b", "b"], "score": [40.0, 60.0, 60.0, 40.0]}
    )
    out = shrunk_scores(data, ["set"])
    assert (out["lambda"] == 0).all()
    assert out["shrunk"].tolist() == [50.0, 50.0]


def test_permuting_rows_changes_nothing() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {"set": "s", "target": rng.choice(list("abcdef"), 60), "score": rng.uniform(0, 100, 60)}
    )
    before = shrunk_scores(data, ["set"])
    after = shrunk_scores(data.sample(frac=1, random_state=1), ["set"])
    pd.testing.assert_frame_equal(before, after)


@pytest.mark.slow
def test_shrunk_means_are_closer_to_the_truth_than_raw_means() -> None:
    from surveys.world import WorldParameters, bundled_specs, generate_world

    specs = bundled_specs()
    world = generate_world(WorldParameters(seed=21, sites=120, cycles=2), specs)
    long = world.answers_for_scoring()
    slugs = world.organisations.set_index("ref")["slug"]
    truth = (
        world.truth[world.truth["scope"] == "dimension"]
        .assign(target=lambda t: t["target"].map(slugs))
        .rename(columns={"key": "dimension", "value": "truth"})
    )
    spec = specs["sponsor_rates_site"]  # sites: few raters each, where shrinkage matters
    items = spec.item_table()
    rated = long[long["item"].isin(items.index[items["kind"] == "likert"])]
    coded = coded_answers(rated, items, spec.scale_points)
    scores = rater_dimension_scores(coded, items, spec.scale_points)
    shrunk = shrunk_scores(scores, ["cycle", "dimension"]).merge(
        truth, on=["cycle", "target", "dimension"], validate="one_to_one"
    )
    raw_error = ((shrunk["mean"] - shrunk["truth"]) ** 2).mean()
    shrunk_error = ((shrunk["shrunk"] - shrunk["truth"]) ** 2).mean()
    assert shrunk_error < 0.85 * raw_error
    raw_rho = stats.spearmanr(shrunk["mean"], shrunk["truth"]).statistic
    shrunk_rho = stats.spearmanr(shrunk["shrunk"], shrunk["truth"]).statistic
    assert shrunk_rho > raw_rho
