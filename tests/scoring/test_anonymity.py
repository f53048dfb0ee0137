"""DESIGN.md §4: k raters per shown cell, and no sub-group that discloses by difference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.anonymity import disclosable_subgroups, minimum_commenters, minimum_raters
from scoring.config import Anonymity, ScoringConfig
from scoring.engine import score, score_views
from tests.scoring.test_properties import ITEMS, answer_tables

# group of raters split into sub-groups (n, eligible on its own) → shown, k = 3
CASES = [
    ("one sub-group is the whole group", 5, [(5, True)], [True]),
    ("5 and a sub-group of 4: the other rater would show", 5, [(4, True), (1, False)],
     [False, False]),
    ("two large sub-groups", 8, [(4, True), (4, True)], [True, True]),
    ("a hidden pair is covered by hiding the smallest shown", 8, [(3, True), (3, True), (2, True)],
     [False, True, False]),
    ("hidden raters already number k", 9, [(3, True), (3, True), (1, True), (2, True)],
     [True, True, False, False]),
    ("a sub-group hidden on its own merits counts as hidden", 7,
     [(4, True), (3, False)], [True, False]),
    ("ties: the first of the smallest is hidden", 7, [(3, True), (3, True), (1, True)],
     [False, True, False]),
    ("a group under k shows nothing", 2, [(2, True)], [False]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "group_n", "subgroups", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_disclosure_by_difference_cases(
    case: str, group_n: int, subgroups: list[tuple[int, bool]], expected: list[bool]
) -> None:
    cells = pd.DataFrame(
        {"target": "p", "n": [n for n, _ in subgroups], "group_n": group_n,
         "ok": [ok for _, ok in subgroups]}
    )  # fmt: skip
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
    for table, keys in ((views.targets, ["cycle", "target"]),
                        (views.dimensions, ["cycle", "target", "dimension"])):  # fmt: skip
        whole = (pooled.targets if len(keys) == 2 else pooled.dimensions).set_index(keys)[
            "n_raters"
        ]
        assert (table.loc[table["shown"], "n_raters"] >= k).all()
        shown = table["n_raters"].where(table["shown"], 0).groupby([table[c] for c in keys]).sum()
        hidden = whole.reindex(shown.index) - shown
        exposed = (shown > 0) & (hidden > 0) & (hidden < k)
        assert not exposed.any(), hidden[exposed]
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
                rows.append(("2026-Q1", f"{org}-{t}-{r}", org, f"site{t}", item,
                             float(rng.integers(1, 6)), "sponsor-b" if r else "sponsor-a"))  # fmt: skip
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
