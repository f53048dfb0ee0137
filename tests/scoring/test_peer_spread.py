"""What a benchmark may show of its peers: Harrell–Davis quartiles of the whole group, in
whole points, only with enough peers, and never solvable for one of them.

The attack itself, played against every benchmark surface, is in
tests/security/test_peer_disclosure.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats.mstats import hdquantiles

from scoring.anonymity import (
    QUARTILE_MEMBERS,
    QUARTILES,
    peer_percentile,
    peer_spread,
    quantile_weights,
)


def determined(weights: np.ndarray, unknown: list[int]) -> list[int]:
    """The unknown order statistics that a combination of the figures gives exactly: those
    whose unit vector lies in the row space of the weights restricted to the unknowns."""
    block = weights[:, unknown]
    _, singular, rows = np.linalg.svd(block, full_matrices=False)
    basis = rows[singular > 1e-12 * singular.max()]
    share = np.einsum("ij,ij->j", basis, basis)  # squared length of each e_i's projection
    return [unknown[i] for i in np.flatnonzero(share > 1 - 1e-6)]


@pytest.mark.parametrize("n", [4, 5, 6, 9, 17, 40])
def test_the_quartiles_are_harrell_davis_as_scipy_computes_them(n: int) -> None:
    values = np.random.default_rng(n).normal(60, 12, n)
    exact = quantile_weights(n) @ np.sort(values)
    assert exact == pytest.approx(hdquantiles(values, QUARTILES).data, abs=1e-9)
    shown = peer_spread(values, 3)
    assert shown is not None and shown.median == round(exact[1])
    if n >= QUARTILE_MEMBERS:
        assert shown.quartiles == tuple(float(v) for v in np.round(exact))


@pytest.mark.parametrize(
    ("members", "minimum", "shows"),
    [
        (5, 5, None),
        (6, 5, "quartiles"),
        (3, 3, None),
        (4, 3, "median"),
        (5, 3, "quartiles"),
        (5, 4, "quartiles"),
    ],
)
def test_every_member_is_compared_with_at_least_the_minimum_of_others(
    members: int, minimum: int, shows: str | None
) -> None:
    group = [40.0 + 7.3 * i for i in range(members)]
    found = peer_spread(group, minimum)
    percentile = peer_percentile(group, group[0], minimum)
    if shows is None:
        assert found is None and percentile is None
        return
    assert found is not None and found.members == members and percentile == 0
    assert (found.quartiles is not None) == (shows == "quartiles")
    assert (found.low is None) == (found.high is None) == (shows == "median")


def test_a_minimum_below_three_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 3 peers"):
        peer_spread([1.0, 2.0, 3.0, 4.0], 2)
    with pytest.raises(ValueError, match="at least 3 peers"):
        peer_percentile([1.0, 2.0, 3.0, 4.0], 2.0, 2)


def test_figures_come_in_whole_points() -> None:
    found = peer_spread([52.49, 52.71, 52.97, 53.03, 62.18, 69.68], 5)
    assert found is not None and found.quartiles is not None
    assert all(float(q).is_integer() for q in found.quartiles)


def test_the_percentile_counts_the_others_below_and_nothing_more() -> None:
    group = [44.2, 51.0, 58.7, 63.1, 70.4, 81.9]
    assert [peer_percentile(group, own, 5) for own in group] == [0, 20, 40, 60, 80, 100]
    assert peer_percentile(group, None, 5) is None


@given(st.integers(min_value=1, max_value=200))
def test_every_member_weighs_in_every_figure(n: int) -> None:
    weights = quantile_weights(n)
    assert (weights > 0).all()
    assert weights.sum(axis=1) == pytest.approx(1.0)


@given(st.data())
def test_three_quartiles_give_no_value_the_reader_does_not_know(data: st.DataObject) -> None:
    """A member knows its own value and rank and perhaps one more member's (a sponsor its
    CRO); with the minimum of 5 peers, no combination of the figures gives another value."""
    n = data.draw(st.integers(min_value=6, max_value=60), label="members")
    known = data.draw(
        st.lists(st.integers(0, n - 1), min_size=1, max_size=2, unique=True), label="known ranks"
    )
    unknown = [i for i in range(n) if i not in known]
    assert determined(quantile_weights(n), unknown) == []


@pytest.mark.parametrize("reader", range(QUARTILE_MEMBERS))
def test_in_a_group_of_five_the_quartiles_give_no_one_away_to_a_member(reader: int) -> None:
    """The bound behind QUARTILE_MEMBERS: four unknowns are enough, wherever the reader ranks."""
    unknown = [i for i in range(QUARTILE_MEMBERS) if i != reader]
    assert determined(quantile_weights(QUARTILE_MEMBERS), unknown) == []
    assert determined(quantile_weights(QUARTILE_MEMBERS), unknown[1:]) != [], "but not three"


@pytest.mark.parametrize("n", [3, 5])
def test_sample_quartiles_of_few_peers_are_solvable_which_is_why_they_went(n: int) -> None:
    """numpy's and `statistics.quantiles`' quartiles (type 7) mix at most two order
    statistics: three peers' figures solve for all three, five peers' are three of them."""
    weights = np.zeros((3, n))
    for row, p in enumerate(QUARTILES):
        at = p * (n - 1)
        weights[row, int(at)] += 1 - at % 1
        if at % 1:
            weights[row, int(at) + 1] += at % 1
    assert determined(weights, list(range(n))) != []
