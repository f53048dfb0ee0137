"""The tier's rule trace on a scorecard: every fragment the tier engine writes is read
back and written in the reader's language."""

from __future__ import annotations

import itertools
import math

import pytest

from scoring.config import Tiers
from scoring.tiers import NAMES, TierEvidence, tier_for
from surveys.scorecards._trace import fragment_in, trace_in
from surveys.scorecards._words import say_in


def every_trace() -> set[str]:
    """Traces from the engine over a grid that reaches each of its rules: every tier as
    candidate and as the tier before, promotions, clear and narrow misses, overrides, no
    index, few raters and cycles, a decline, fractional thresholds."""
    traces = set()
    nan = math.nan
    for rules in (Tiers(), Tiers(preferred_lower_bound=62.5, demotion_margin=2.5)):
        for index, quality, predictability, raters, cycles, declining in itertools.product(
            (nan, 30.0, 52.0, 60.0, 70.0, 90.0),
            (nan, 40.0, 60.0, 80.0),
            (nan, 50.0, 80.0),
            (1, 3),
            (1, 3),
            (False, True),
        ):
            evidence = TierEvidence(
                index, index - 8, index + 8, quality, predictability, raters, cycles, declining
            )
            for previous, candidate, overridden in itertools.product(
                (None, *NAMES), (None, *NAMES), (False, True)
            ):
                traces.add(tier_for(evidence, rules, previous, candidate, overridden).trace)
    return traces


TRACES = sorted(every_trace())


def test_the_grid_reaches_every_kind_of_decision() -> None:
    text = " ".join(TRACES)
    for words in (
        "promoted from",
        "must hold for two cycles too",
        "demoted from",
        "second consecutive miss",
        "first narrow miss",
        "no index this cycle",
        "a reviewer's override",
        "as before",
        "significant decline",
        "62.5",
        "upper bound",
        "predictability",
        "scored cycle(s)",
        "rater(s)",
        "provisional: no index",
        "Strategic: ",
    ):
        assert words in text, f"no trace with {words!r}: the grid misses a rule"


@pytest.mark.parametrize("language", ["fr", "de", "es", "ja"])
def test_every_fragment_the_engine_writes_is_known_and_translated(language: str) -> None:
    say, english = say_in(language), say_in("en")
    for trace in TRACES:
        for fragment in trace.split("; "):
            written, known = fragment_in(fragment, say)
            assert known, f"the scorecard cannot read {fragment!r} (from {trace!r})"
            assert written != fragment, f"{fragment!r} left in English in {language}"
        assert trace_in(trace, english) == trace, "English reads as the engine wrote it"


def test_an_unknown_fragment_is_kept_as_written() -> None:
    trace = "Approved: RI 60 [52–68]; a reason from a later engine"
    assert trace_in(trace, say_in("fr")).endswith("; a reason from a later engine")
