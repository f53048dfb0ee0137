"""DESIGN.md §4: k raters per shown cell, and no sub-group that discloses by difference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.anonymity import disclosable_subgroups, minimum_commenters, minimum_raters
from scoring.config import Anonymity, ScoringConfig
from scoring.engine import COUNT_COLUMNS, ScoreResult, score, score_views
from tests.scoring.test_properties import ITEMS, answer_tables

# group of raters split into sub-groups (n, eligible on its own) → shown, k = 3
CASES = [
    ("one sub-group is the whole group", 5, [(5, True)], [True]),
    (
        "5 and a sub-group of 4: the other rater would show",
        5,
        [(4, True), (1, False)],
        [False, False],
    ),
    ("two large sub-groups", 8, [(4, True), (4, True)], [True, True]),
    (
        "a hidden pair is covered by hiding the smallest shown",
        8,
        [(3, True), (3, True), (2, True)],
        [False, True, False],
    ),
    (
        "hidden raters already number k",
        9,
        [(3, True), (3, True), (1, True), (2, True)],
        [True, True, False, False],
    ),
    (
        "a sub-group hidden on its own merits counts as hidden",
        7,
        [(4, True), (3, False)],
        [True, False],
    ),
    (
        "ties: the first of the smallest is hidden",
        7,
        [(3, True), (3, True), (1, True)],
        [False, True, False],
    ),
    ("a group under k shows nothing", 2, [(2, True)], [False]),
]


@pytest.mark.parametrize(
    ("case", "group_n", "subgroups", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_disclosure_by_difference_cases(
    case: str, group_n: int, subgroups: list[tuple[int, bool]], expected: list[bool]
) -> None:
    cells = pd.DataFrame(
        {
            "target": "p",
            "n": [n for n, _ in subgroups],
            "group_n": group_n,
            "ok": [ok for _, ok in subgroups],
        }
    )
    assert disclosable_subgroups(cells, ["target"], "n", "group_n", "ok", 3).tolist() == expected


@given(
    groups=st.lists(st.lists(st.integers(1, 9), min_size=1, max_size=6), min_size=1, max_size=5),
    k=st.integers(3, 6),
)
def test_hidden_raters_never_number_between_1_and_k_minus_1(
    groups: list[list[int]], k: int
) -> None:
    rows = [(g, n) for g, sizes in enumerate(groups) for n in sizes]
    cells = pd.DataFrame(rows, columns=["target", "n"])
    cells["group_n"] = cells.groupby("target")["n"].transform("sum")
    cells["ok"] = True
    cells["shown"] = disclosable_subgroups(cells, ["target"], "n", "group_n", "ok", k)
    assert (cells.loc[cells["shown"], "n"] >= k).all()
    shown = cells["n"].where(cells["shown"], 0).groupby(cells["target"]).transform("sum")
    hidden = cells["group_n"] - shown
    # with nothing shown there is nothing to subtract from
    assert ((shown == 0) | (hidden == 0) | (hidden >= k)).all()
    # no more is hidden than needed: at most one sub-group of k or more per group
    big_hidden = cells[~cells["shown"] & (cells["n"] >= k)].groupby("target").size()
    assert (big_hidden <= 1).all()


def test_thresholds_per_direction() -> None:
    config = ScoringConfig(
        anonymity=Anonymity(site_rates_sponsor=4, sponsor_rates_site=2, comments=6)
    )
    assert minimum_raters("site_rates_sponsor", config) == 4
    assert minimum_raters("sponsor_rates_site", config) == 2
    assert minimum_commenters("site_rates_sponsor", config) == 6
    assert minimum_commenters("sponsor_rates_site", config) == 2
    loose = ScoringConfig(anonymity=Anonymity(site_rates_sponsor=5, comments=3))
    assert minimum_commenters("site_rates_sponsor", loose) == 5, (
        "comments never need fewer than numbers"
    )
    with pytest.raises(ValueError, match="unknown direction"):
        minimum_raters("site_rates_site", config)


def scorable(answers: pd.DataFrame) -> bool:
    return bool(answers.loc[answers["item"] != "overall", "value"].notna().any())


@settings(max_examples=25, deadline=None)
@given(answers=answer_tables())
def test_no_view_reveals_raters_by_difference(answers: pd.DataFrame) -> None:
    if not scorable(answers):
        return
    config = ScoringConfig()
    k = config.anonymity.site_rates_sponsor
    pooled = score(answers, ITEMS, 5, "site_rates_sponsor", config)
    views = score_views(answers, ITEMS, 5, "site_rates_sponsor", config, pooled)
    # every count behind a shown number: raters, each layer's, the overall item's, each cell's
    row_counts = views.counts.assign(shown=views.targets["shown"].to_numpy())
    checks = [(row_counts, pooled.counts, ["cycle", "target"], c) for c in COUNT_COLUMNS[2:]]
    checks.append(
        (views.dimensions, pooled.dimensions, ["cycle", "target", "dimension"], "n_raters")
    )
    for table, whole_table, keys, column in checks:
        whole = whole_table.set_index(keys)[column]
        shown_n = table[column].where(table["shown"], 0)
        assert ((shown_n == 0) | (shown_n >= k)).all(), column
        shown = shown_n.groupby([table[c] for c in keys]).sum()
        hidden = whole.reindex(shown.index) - shown
        exposed = (shown > 0) & (hidden > 0) & (hidden < k)
        assert not exposed.any(), (column, hidden[exposed])
    assert (views.targets.loc[views.targets["comments_shown"], "n_raters"] >= 5).all()


def test_a_view_that_is_the_whole_group_scores_as_the_pool() -> None:
    rng = np.random.default_rng(4)
    rows = [
        (cycle, f"{t}-r{r}", f"org-{t}", f"t{t}", item, float(rng.integers(1, 6)))
        for cycle in ("2026-Q1", "2026-Q2")
        for t in range(6)
        for r in range(3 + t % 3)
        for item in ITEMS.index[:8]
    ]
    answers = pd.DataFrame(rows, columns=["cycle", "rater", "rater_org", "target", "item", "value"])
    config = ScoringConfig()
    pooled = score(answers, ITEMS, 5, "site_rates_sponsor", config)
    views = score_views(answers, ITEMS, 5, "site_rates_sponsor", config, pooled)
    assert views.targets["rater_org"].tolist() == [f"org-{t[1:]}" for t in views.targets["target"]]
    pd.testing.assert_frame_equal(views.targets.drop(columns="rater_org"), pooled.targets)
    pd.testing.assert_frame_equal(views.dimensions.drop(columns="rater_org"), pooled.dimensions)


def test_views_by_an_assessor_pool_its_raters() -> None:
    """A sponsor's view of a site takes in the CRO staff rating on the sponsor's behalf."""
    rng = np.random.default_rng(8)
    rows = []
    for t in range(5):
        for r, org in enumerate(["sponsor-a", "cro-x", "sponsor-b", "sponsor-b"]):
            for item in ITEMS.index[:8]:
                rows.append(
                    (
                        "2026-Q1",
                        f"{org}-{t}-{r}",
                        org,
                        f"site{t}",
                        item,
                        float(rng.integers(1, 6)),
                        "sponsor-b" if r else "sponsor-a",
                    )
                )
    answers = pd.DataFrame(
        rows, columns=["cycle", "rater", "rater_org", "target", "item", "value", "sponsor"]
    )
    config = ScoringConfig()
    pooled = score(answers, ITEMS, 5, "sponsor_rates_site", config)
    views = score_views(answers, ITEMS, 5, "sponsor_rates_site", config, pooled, by="sponsor")
    counts = views.targets.groupby("sponsor")["n_raters"].unique()
    assert counts["sponsor-a"].tolist() == [1]
    assert counts["sponsor-b"].tolist() == [3], "the CRO's rater counts towards sponsor-b"
    assert views.targets["shown"].all(), "k = 1 for sponsors' views: nothing to hide"


def rows_for(
    cycle: str, rater: str, org: str, target: str, values: dict[str, float]
) -> list[tuple]:
    """One rater's answers: every Likert item at 3 unless `values` says otherwise (NaN: skip)."""
    answers = dict.fromkeys(ITEMS.index[:8], 3.0) | values
    return [(cycle, rater, org, target, item, v) for item, v in answers.items() if v == v]


def with_peers(rows: list[tuple], cycles: tuple[str, ...] = ("c1",)) -> pd.DataFrame:
    """Add three peer targets, so the pool has between-target variance to shrink with."""
    rng = np.random.default_rng(1)
    for cycle in cycles:
        for t in range(3):
            for r in range(4):
                values = {item: float(rng.integers(2, 6)) for item in ITEMS.index[:8]}
                rows += rows_for(cycle, f"peer{t}-{r}", f"peer-org{t}", f"peer{t}", values)
    return pd.DataFrame(rows, columns=["cycle", "rater", "rater_org", "target", "item", "value"])


def views_of(answers: pd.DataFrame) -> tuple[ScoreResult, ScoreResult]:
    config = ScoringConfig()
    pooled = score(answers, ITEMS, 5, "site_rates_sponsor", config)
    return pooled, score_views(answers, ITEMS, 5, "site_rates_sponsor", config, pooled)


def test_a_lone_overall_answer_is_not_disclosed_through_the_nps() -> None:
    rows = []
    for r in range(5):
        rows += rows_for("c1", f"a{r}", "a", "p", {"overall": 8.0})
    for r in range(3):
        rows += rows_for("c1", f"b{r}", "b", "p", {"overall": 0.0 if r == 0 else np.nan})
    pooled, views = views_of(with_peers(rows))
    assert pooled.targets.set_index("target").at["p", "shown"], "8 raters, 6 NPS answers"
    shown = views.targets.query("target == 'p'").set_index("rater_org")["shown"]
    assert not shown["b"], "one overall answer"
    assert not shown["a"], "a beside the pool would give b's single answer away"


def test_a_layer_answered_by_one_rater_outside_the_view_hides_the_view() -> None:
    rows = []
    for r in range(5):
        rows += rows_for("c1", f"a{r}", "a", "p", {})
    rows += rows_for("c1", "b0", "b", "p", {"a": 1.0})
    for r in (1, 2):  # b1 and b2 skip the quality items
        rows += rows_for("c1", f"b{r}", "b", "p", {"a": np.nan, "b": np.nan})
    _, views = views_of(with_peers(rows))
    a = views.targets.query("target == 'p' and rater_org == 'a'").iloc[0]
    assert not a["shown"], "a's quality layer beside the pool's would reveal b0's"


def test_a_drop_flag_never_quotes_a_hidden_cycle() -> None:
    rows = []
    for r in range(2):
        rows += rows_for("c1", f"a{r}", "a", "p", dict.fromkeys(ITEMS.index[:8], 5.0))
    for r in range(6):
        rows += rows_for("c2", f"a{r}", "a", "p", dict.fromkeys(ITEMS.index[:8], 1.0))
    for cycle in ("c1", "c2"):
        for r in range(6):
            rows += rows_for(cycle, f"z{r}", "z", "p", {})
    _, views = views_of(with_peers(rows, ("c1", "c2")))
    drops = views.flags.query("flag == 'significant_drop' and rater_org == 'a'")
    assert len(drops) == 1, views.flags
    assert not drops["shown"].iloc[0], "c1's view from a had 2 raters"


def test_a_trend_over_a_hidden_cycle_is_not_shown() -> None:
    rows = []
    for cycle, raters in (("c1", 2), ("c2", 5), ("c3", 5)):
        for r in range(raters):
            rows += rows_for(cycle, f"a{r}", "a", "p", {"a": float(1 + r % 5)})
        for r in range(5):
            rows += rows_for(cycle, f"z{r}", "z", "p", {})
    pooled, views = views_of(with_peers(rows, ("c1", "c2", "c3")))
    a = views.targets.query("target == 'p' and rater_org == 'a'").set_index("cycle")
    assert a.at["c3", "shown"] and not np.isnan(a.at["c3", "trend_slope"])
    assert not a.at["c3", "trend_shown"], "the slope and c3 would give c1's hidden index"
    assert pooled.targets.query("target == 'p'")["trend_shown"].all()


def test_top_box_counts_only_raters_with_a_score() -> None:
    third = pd.DataFrame(
        {"dimension": ["d1"], "layer": ["dependability"], "reverse": False, "kind": "likert"},
        index=["d3"],
    )
    items = pd.concat([ITEMS, third])  # d1 has 3 items now: a score needs 2 answered
    rows = []
    for r in range(5):
        rows += rows_for("c1", f"a{r}", "a", "p", {"d3": 3.0})
    rows += [("c1", "b0", "b", "p", "c", 5.0)]  # one item of d1: no score on it
    answers = with_peers(rows)
    pooled = score(answers, items, 5, "site_rates_sponsor", ScoringConfig())
    cell = pooled.dimensions.query("target == 'p' and dimension == 'd1'").iloc[0]
    assert cell["n_raters"] == 5
    assert cell["top_box"] == 0.0, "the lone top answer of a rater without a score is left out"


def test_stated_importance_from_fewer_than_k_raters_is_hidden() -> None:
    extra = pd.DataFrame(
        {"dimension": ["q1"], "layer": ["quality"], "reverse": False, "kind": "importance"},
        index=["q1__importance"],
    )
    items = pd.concat([ITEMS, extra])
    rows = []
    for r in range(5):
        rows += rows_for("c1", f"a{r}", "a", "p", {})
    rows += [("c1", "a0", "a", "p", "q1__importance", 5.0)]
    result = score(with_peers(rows), items, 5, "site_rates_sponsor", ScoringConfig())
    row = result.importance.query("target == 'p' and dimension == 'q1'").iloc[0]
    assert row["n_stated"] == 1 and row["stated_importance"] == 100.0
    assert not row["shown"]
    others = result.importance.query("target == 'p' and dimension != 'q1'")
    assert others["shown"].all(), "nobody stated those: nothing to hide"
