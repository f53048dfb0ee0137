"""Perception gaps, importance against performance, and escalation flags on worked cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats.mstats import hdquantiles

from scoring.config import ScoringConfig
from scoring.engine import score
from scoring.gaps import (
    derived_importance,
    escalation_flags,
    fix_first,
    fix_standards,
    perception_gaps,
)
from scoring.items import AnswersError
from tests.scoring.test_properties import ITEMS


def test_gap_pairs_the_two_sides_of_each_relationship_only() -> None:
    site = pd.DataFrame(
        {
            "cycle": "c",
            "rater_org": ["s1", "s1", "s2"],
            "target": ["p", "p", "p"],
            "dimension": ["communication", "predictability", "communication"],
            "mean": [80.0, 60.0, 50.0],
        }
    )
    partner = pd.DataFrame(
        {
            "cycle": "c",
            "rater_org": ["p", "p", "q"],
            "target": ["s1", "s1", "s2"],
            "dimension": ["communication", "enrollment_commitments", "communication"],
            "mean": [70.0, 75.0, 90.0],
        }
    )
    gaps = perception_gaps(
        site,
        partner,
        pd.Series({"communication": "communication", "predictability": "predictability"}),
        pd.Series({"communication": "communication", "enrollment_commitments": "predictability"}),
    )
    # s2 rates p but q (not p) rates s2: no relationship seen from both sides
    assert gaps[["site", "partner", "mirror", "gap"]].values.tolist() == [
        ["s1", "p", "communication", 10.0],
        ["s1", "p", "predictability", -15.0],
    ]


def test_derived_importance_is_the_correlation_with_the_overall_item() -> None:
    scores = pd.DataFrame(
        {
            "cycle": "c",
            "target": "t",
            "rater": list("abcde"),
            "dimension": "d",
            "score": [10.0, 30, 50, 70, 90],
        }
    )
    overall = pd.DataFrame(
        {"cycle": "c", "target": "t", "rater": list("abcde"), "value": [2.0, 4, 5, 8, 9]}
    )
    [value] = derived_importance(scores, overall)["derived_importance"]
    assert value == pytest.approx(np.corrcoef([10, 30, 50, 70, 90], [2, 4, 5, 8, 9])[0, 1])


def test_fix_first_is_high_importance_with_performance_below_its_standard() -> None:
    performance = pd.DataFrame(
        {"cycle": "c", "target": "t", "dimension": ["a", "b", "c", "d"], "mean": [40.0, 85, 45, 90]}
    )
    importance = pd.DataFrame(
        {
            "cycle": "c",
            "target": "t",
            "dimension": ["a", "b", "c", "d"],
            "importance": [4.8, 4.6, 2.0, 1.5],
        }
    )
    standards = pd.DataFrame(
        {
            "cycle": "c",
            "dimension": ["a", "b", "c", "d"],
            "standard": 70.0,
            "standard_kind": "peers",
        }
    )
    table = fix_first(performance, importance, standards).set_index("dimension")
    assert table["quadrant"].to_dict() == {
        "a": "fix first",
        "b": "keep up",
        "c": "low priority",
        "d": "possible overkill",
    }


def test_a_partner_strong_everywhere_has_nothing_to_fix_first() -> None:
    """The probe's case: "Fix first: Quality oversight … scores 92". Judged against the
    partner's own median, its weakest important dimension was always "fix first"; judged
    against its peers, none is, and one just under the median as printed is."""
    performance = pd.DataFrame(
        {"cycle": "c", "target": "t", "dimension": list("abcd"), "mean": [92.0, 95, 97, 73.6]}
    )
    importance = pd.DataFrame(
        {"cycle": "c", "target": "t", "dimension": list("abcd"), "importance": [5.0, 4.9, 1, 1]}
    )
    standards = pd.DataFrame(
        {"cycle": "c", "dimension": list("abcd"), "standard": 74.0, "standard_kind": "peers"}
    )
    table = fix_first(performance, importance, standards).set_index("dimension")
    assert not table["fix_first"].any(), "92 and 95 are above the peers' median of 74"
    assert table.loc["d", "quadrant"] == "possible overkill", "73.6 prints 74: not below 74"
    lower = performance.assign(mean=[60.0, 95, 97, 73.6])
    again = fix_first(lower, importance, standards).set_index("dimension")
    assert again["fix_first"].tolist() == [True, False, False, False]
    assert again.loc["a", "standard_kind"] == "peers"


def test_the_standard_is_the_peers_median_of_shown_cells_else_the_floor() -> None:
    rng = np.random.default_rng(7)
    means = rng.uniform(40, 95, size=9)
    cells = pd.DataFrame(
        {
            "cycle": "c",
            "target": [f"t{i}" for i in range(9)],
            "dimension": "d",
            "mean": means,
            "shown": [True] * 7 + [False] * 2,
        }
    )
    floors = pd.Series({"d": 55.0})
    [row] = fix_standards(cells, floors, peers=5).itertuples()
    shown = sorted(means[:7])
    expected = np.round(hdquantiles(shown, prob=[0.5])[0])  # hidden cells never weigh in
    assert (row.standard, row.standard_kind) == (expected, "peers")
    [few] = fix_standards(cells.head(5), floors, peers=5).itertuples()
    assert (few.standard, few.standard_kind) == (55.0, "floor"), "5 targets: 4 peers each"
    [none] = fix_standards(cells.head(5), pd.Series(dtype=float), peers=5).itertuples()
    assert np.isnan(none.standard) and none.standard_kind is None


def test_flags_for_a_drop_a_floor_and_a_collapse() -> None:
    targets = pd.DataFrame(
        {
            "cycle": ["1", "2", "1", "2"],
            "target": ["down", "down", "wobble", "wobble"],
            "reliability_index": [78.0, 60, 70, 66],
            "ri_low": [74.0, 55, 64, 60],
            "ri_high": [82.0, 65, 76, 72],
        }
    )
    dimensions = pd.DataFrame(
        {"cycle": "2", "target": "down", "dimension": ["data", "speed"], "mean": [58.0, 49]}
    )
    rates = pd.DataFrame({"cycle": ["1", "2"], "target": "wobble", "response_rate": [0.8, 0.3]})
    flags = escalation_flags(targets, dimensions, pd.Series({"data": 60.0, "speed": 50.0}), rates)
    assert flags[["target", "flag"]].values.tolist() == [
        ["down", "significant_drop"],
        ["down", "under_floor"],
        ["down", "under_floor"],
        ["wobble", "response_collapse"],
    ]
    assert "RI 60 [55–65], below 1's lower bound 74" in flags["detail"].iloc[0]
    assert flags["detail"].iloc[3] == "response rate 30%, was 80%"


def test_overlapping_intervals_raise_no_drop_flag() -> None:
    targets = pd.DataFrame(
        {
            "cycle": ["1", "2"],
            "target": "t",
            "reliability_index": [70.0, 64],
            "ri_low": [65.0, 58],
            "ri_high": [75.0, 70],
        }
    )
    assert escalation_flags(
        targets,
        pd.DataFrame(columns=["cycle", "target", "dimension", "mean"]),
        pd.Series(dtype=float),
    ).empty


IMPORTANCE_ITEMS = pd.concat(
    [
        ITEMS.assign(floor=[90.0] * 8 + [np.nan]),
        pd.DataFrame(
            {
                "dimension": ["q1", "d1"],
                "layer": ["quality", "dependability"],
                "reverse": False,
                "kind": "importance",
                "floor": 90.0,
            },
            index=["q1__importance", "d1__importance"],
        ),
    ]
)


def engine_answers(raters: int, importance: dict[str, list[float]] | None = None) -> pd.DataFrame:
    """Two targets rated on every item; t0's raters also rate importance where given."""
    rng = np.random.default_rng(2)
    rows = []
    for t in ("t0", "t1", "t2"):
        for r in range(raters):
            rater = f"{t}-r{r}"
            for item in ITEMS.index[:8]:
                rows.append(("2026-Q1", rater, f"o{r}", t, item, float(rng.integers(1, 6))))
            rows.append(("2026-Q1", rater, f"o{r}", t, "overall", float(rng.integers(0, 11))))
            for item, values in (importance or {}).items():
                if t == "t0":
                    rows.append(("2026-Q1", rater, f"o{r}", t, item, values[r]))
    return pd.DataFrame(rows, columns=["cycle", "rater", "rater_org", "target", "item", "value"])


def test_stated_importance_is_the_raters_mean_on_0_to_100() -> None:
    answers = engine_answers(3, {"q1__importance": [5.0, 3.0, np.nan], "d1__importance": [2, 2, 2]})
    result = score(answers, IMPORTANCE_ITEMS, 5, "site_rates_sponsor", ScoringConfig())
    table = result.importance.set_index(["target", "dimension"])
    assert table.loc[("t0", "q1"), "stated_importance"] == 75.0  # mean 4 on 1–5
    assert table.loc[("t0", "d1"), "stated_importance"] == 25.0
    # t0 ranks on what its raters said; t1 said nothing, so it ranks on derived importance
    assert table.loc[("t0", "q1"), "importance"] == 75.0
    assert np.isnan(table.loc[("t0", "s1"), "importance"]), "no stated value: not ranked"
    assert pd.isna(table.loc[("t0", "s1"), "quadrant"])
    t1 = table.loc["t1"]
    pd.testing.assert_series_equal(t1["importance"], t1["derived_importance"], check_names=False)
    assert t1["stated_importance"].isna().all()


def test_importance_off_its_scale_names_the_row() -> None:
    answers = engine_answers(3, {"q1__importance": [5.0, 6.0, 4.0]})
    with pytest.raises(
        AnswersError, match=r"row \d+, column value: 6 is not an importance on the 1–5"
    ):
        score(answers, IMPORTANCE_ITEMS, 5, "site_rates_sponsor", ScoringConfig())


def test_flags_quote_only_what_may_be_shown() -> None:
    # floors of 90 put nearly every dimension under its floor
    two = score(engine_answers(2), IMPORTANCE_ITEMS, 5, "site_rates_sponsor", ScoringConfig())
    under = two.flags[two.flags["flag"] == "under_floor"]
    assert len(under) > 0 and not under["shown"].any(), "2 site raters: k = 3 hides every cell"
    four = score(engine_answers(4), IMPORTANCE_ITEMS, 5, "site_rates_sponsor", ScoringConfig())
    under = four.flags[four.flags["flag"] == "under_floor"]
    assert len(under) > 0 and under["shown"].all()
    merged = under.merge(four.dimensions, on=["cycle", "target", "dimension"])
    assert (merged["shrunk"] < 90).all()


def test_a_floor_is_judged_on_the_shrunk_estimate_where_there_is_one() -> None:
    dimensions = pd.DataFrame(
        {
            "cycle": "1",
            "target": ["thin", "clear"],
            "dimension": "data",
            "mean": [40.0, 40.0],
            "shrunk": [55.0, 45.0],
        }
    )
    flags = escalation_flags(
        pd.DataFrame(columns=["cycle", "target", "reliability_index", "ri_low", "ri_high"]),
        dimensions,
        pd.Series({"data": 50.0}),
    )
    assert flags["target"].tolist() == ["clear"], "one harsh rater of a thin target is no flag"
    assert flags["detail"].iloc[0] == "data 45 < floor 50 (shrunk estimate; raters' mean 40)"
