"""Invariances that must hold whatever the data (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.config import ScoringConfig
from scoring.engine import score
from scoring.indices import shrunk_scores, target_scores
from scoring.items import coded_answers, rater_dimension_scores

ITEMS = pd.DataFrame(
    {
        "dimension": ["q1", "q1", "d1", "d1", "s1", "s1", "c1", "c1", None],
        "layer": ["quality"] * 2 + ["dependability"] * 2 + ["speed"] * 2 + ["cost"] * 2 + [None],
        "reverse": [False, True, False, False, True, False, False, False, False],
        "kind": ["likert"] * 8 + ["overall"],
    },
    index=["a", "b", "c", "d", "e", "f", "g", "h", "overall"],
)


@st.composite
def answer_tables(draw: st.DrawFn, points: int = 5) -> pd.DataFrame:
    """Random answers: a few cycles, targets and raters, some values missing."""
    n_targets = draw(st.integers(2, 5))
    rows = []
    for target in range(n_targets):
        for rater in range(draw(st.integers(1, 4))):
            for cycle in ("2026-Q1", "2026-Q2"):
                for item in ITEMS.index[:8]:
                    value = draw(st.one_of(st.none(), st.integers(1, points)))
                    rows.append(
                        (
                            cycle,
                            f"r{target}-{rater}",
                            f"o{rater % 2}",
                            f"t{target}",
                            item,
                            np.nan if value is None else float(value),
                        )
                    )
                rows.append(
                    (
                        cycle,
                        f"r{target}-{rater}",
                        f"o{rater % 2}",
                        f"t{target}",
                        "overall",
                        float(draw(st.integers(0, 10))),
                    )
                )
    return pd.DataFrame(rows, columns=["cycle", "rater", "rater_org", "target", "item", "value"])


@given(points=st.integers(3, 11), value=st.integers(1, 11))
def test_reverse_coding_twice_is_the_identity(points: int, value: int) -> None:
    value = min(value, points)
    items = ITEMS.assign(reverse=True)
    once = coded_answers(
        pd.DataFrame(
            {
                "cycle": "c",
                "rater": "r",
                "rater_org": "o",
                "target": "t",
                "item": ["a"],
                "value": [float(value)],
            }
        ),
        items,
        points,
    )
    twice = coded_answers(
        once.assign(item="a")[["cycle", "rater", "rater_org", "target", "item", "value"]],
        items,
        points,
    )
    assert twice["value"].iloc[0] == value


@given(scores=st.lists(st.floats(0, 100), min_size=2, max_size=30))
def test_a_rater_at_the_mean_leaves_the_mean_unchanged(scores: list[float]) -> None:
    table = pd.DataFrame({"target": "t", "score": scores})
    before = target_scores(table, ["target"])["mean"].iloc[0]
    after = target_scores(
        pd.concat([table, pd.DataFrame({"target": ["t"], "score": [before]})]), ["target"]
    )
    assert after["mean"].iloc[0] == np.float64(before) or abs(after["mean"].iloc[0] - before) < 1e-9


@settings(max_examples=25, deadline=None)
@given(answers=answer_tables())
def test_scores_stay_within_0_and_100(answers: pd.DataFrame) -> None:
    coded = coded_answers(answers, ITEMS, 5)
    scores = rater_dimension_scores(coded, ITEMS, 5)
    assert scores["score"].between(0, 100).all()
    shrunk = shrunk_scores(scores, ["cycle", "dimension"])
    assert shrunk["shrunk"].dropna().between(0, 100).all()


@settings(max_examples=15, deadline=None)
@given(answers=answer_tables(), seed=st.integers(0, 1000))
def test_permuting_rows_changes_nothing(answers: pd.DataFrame, seed: int) -> None:
    if answers.loc[answers["item"] != "overall", "value"].notna().sum() == 0:
        return
    config = ScoringConfig()
    first = score(answers, ITEMS, 5, "sponsor_rates_site", config)
    second = score(
        answers.sample(frac=1, random_state=seed).reset_index(drop=True),
        ITEMS,
        5,
        "sponsor_rates_site",
        config,
    )
    pd.testing.assert_frame_equal(first.targets, second.targets)
    pd.testing.assert_frame_equal(first.dimensions, second.dimensions)
    pd.testing.assert_frame_equal(first.reliability, second.reliability)


@settings(max_examples=25, deadline=None)
@given(answers=answer_tables())
def test_suppressed_cells_are_never_shown_to_the_rated_party(answers: pd.DataFrame) -> None:
    if answers.loc[answers["item"] != "overall", "value"].notna().sum() == 0:
        return  # nothing to score is an error of its own (AnswersError), tested elsewhere
    result = score(answers, ITEMS, 5, "site_rates_sponsor", ScoringConfig())
    k = ScoringConfig().anonymity.site_rates_sponsor
    assert (result.targets.loc[result.targets["shown"], "n_raters"] >= k).all()
    assert (result.dimensions.loc[result.dimensions["shown"], "n_raters"] >= k).all()
    assert not result.dimensions.loc[result.dimensions["n_raters"] < k, "shown"].any()
