"""Thin and odd data: never a crash, never a wrong number shown (cases found in review)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.config import ScoringConfig
from scoring.engine import score

ITEMS = pd.DataFrame(
    {
        "dimension": ["q", "q", "d", "d", "s", "s", "c", "c", None],
        "layer": ["quality"] * 2 + ["dependability"] * 2 + ["speed"] * 2 + ["cost"] * 2 + [None],
        "reverse": [False] * 9,
        "kind": ["likert"] * 8 + ["overall"],
    },
    index=["q1", "q2", "d1", "d2", "s1", "s2", "c1", "c2", "overall"],
)
CONFIG = ScoringConfig()


def answers(
    raters_per_target: dict[str, int],
    value: object = None,
    overall: bool = True,
    seed: int = 0,
    skip_cost_for: set[str] | None = None,
    overall_only: dict[str, int] | None = None,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for target, n in raters_per_target.items():
        for r in range(n):
            rater = f"{target}-r{r}"
            for item in ITEMS.index[:8]:
                if (
                    item.startswith("c")
                    and skip_cost_for
                    and rater not in skip_cost_for
                    and target == "t0"
                ):
                    continue
                v = float(rng.integers(1, 6)) if value is None else float(value)
                rows.append(("2026-Q1", rater, "org", target, item, v))
            answered_overall = overall and (overall_only is None or r < overall_only.get(target, n))
            if answered_overall:
                rows.append(
                    ("2026-Q1", rater, "org", target, "overall", float(rng.integers(0, 11)))
                )
    return pd.DataFrame(rows, columns=["cycle", "rater", "rater_org", "target", "item", "value"])


def test_a_layer_answered_by_one_rater_hides_the_row() -> None:
    data = answers({"t0": 4, "t1": 4, "t2": 4}, skip_cost_for={"t0-r0"})
    targets = score(data, ITEMS, 5, "site_rates_sponsor", CONFIG).targets.set_index("target")
    assert targets.at["t0", "n_raters"] == 4
    assert not targets.at["t0", "shown"], "its cost score is one rater's own answers"
    assert targets.at["t1", "shown"]


def test_an_nps_from_one_rater_hides_the_row() -> None:
    data = answers({"t0": 4, "t1": 4, "t2": 4}, overall_only={"t0": 1})
    targets = score(data, ITEMS, 5, "site_rates_sponsor", CONFIG).targets.set_index("target")
    assert not targets.at["t0", "shown"]
    assert targets.at["t1", "shown"]


def test_constant_answers_still_give_an_index() -> None:
    data = answers({"t0": 3, "t1": 4, "t2": 5}, value=4)
    targets = score(data, ITEMS, 5, "sponsor_rates_site", CONFIG).targets
    assert targets["reliability_index"].to_numpy() == pytest.approx([75.0] * 3)


@pytest.mark.parametrize(
    "raters",
    [{"only": 5}, {"t0": 1, "t1": 1, "t2": 1}, {"t0": 1}],
    ids=["one target", "every target has one rater", "one rater in all"],
)
def test_thin_data_is_not_computable_not_a_crash(raters: dict[str, int]) -> None:
    result = score(answers(raters), ITEMS, 5, "sponsor_rates_site", CONFIG)
    assert len(result.targets) == len(raters)
    assert result.targets["raw_index"].notna().all()
    # an index interval needs an estimated spread; where there is none it is empty, not 0 wide
    width = result.targets["ri_high"] - result.targets["ri_low"]
    assert (width.isna() | (width > 0)).all()


def test_no_overall_answers_at_all() -> None:
    result = score(
        answers({"t0": 3, "t1": 4}, overall=False), ITEMS, 5, "sponsor_rates_site", CONFIG
    )
    assert result.targets["nps"].isna().all()
