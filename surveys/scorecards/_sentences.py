"""Sentences a partner scorecard composes from its figures, in the reader's language:
escalation flags, the reliability notes, how a dimension moved, the trend in words.

The engine stores its own English; a scorecard says the same from the figures it prints,
so a figure the run hid never reaches a sentence either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.indices import RWG_AGREEMENT
from scoring.reliability import ALPHA_FLOOR
from surveys.infra.i18n import N_, number, percent
from surveys.instruments import Direction
from surveys.results.flag_sentences import flag_sentence
from surveys.results.score_runs import TrendArrow
from surveys.scorecards._brief import ScorecardBrief
from surveys.scorecards._rows import ShownIndex, StoredFlag
from surveys.scorecards._words import Say

SAME_ANSWERS = 1e-9
"""An interval narrower than this is every rater giving the same answers."""


@dataclass(frozen=True)
class Footnote:
    """A reliability note in plain words."""

    text: str


def flag_text(brief: ScorecardBrief, flag: StoredFlag) -> str:
    """An escalation flag in the reader's language, its figures taken from the results.

    The flag's stored detail is the scoring engine's English; the scorecard says the same
    from the figures it prints, in the words the meeting pack and the trends page use too
    (`surveys.results.flag_sentences`). A figure of a hidden cell is blank in the results,
    so the sentence then goes without it (a response-rate collapse on a hidden pooled
    index, for one).
    """
    results = brief.results
    now = results.index(flag.target, flag.rater_organisation)
    before = results.previous_index(flag.target, flag.rater_organisation)
    if (
        flag.kind == "under_floor"
        and flag.dimension is not None
        and flag.dimension in results.dimension_info
    ):
        return _under_floor_text(brief, flag, flag.dimension)
    said = flag_sentence(flag.kind, now, before, results.previous_cycle, brief.language)
    return str(flag.detail) if said is None else said


def _under_floor_text(brief: ScorecardBrief, flag: StoredFlag, dimension: int) -> str:
    """A dimension under its floor, with the estimate held against the floor when shown."""
    say, language = brief.say, brief.language
    name = brief.dimension_name(dimension)
    limit = float(brief.results.dimension_info[dimension].floor)
    floor = number(limit, language, 0 if limit.is_integer() else 1)
    cells = brief.results.dimensions.get(
        (brief.results.run, flag.target, flag.rater_organisation), []
    )
    cell = next((r for r in cells if r.dimension == dimension), None)
    mean = cell.mean if cell else None
    estimate = cell.shrunk if cell and cell.shrunk is not None else mean
    if estimate is None:
        return say(
            N_("%(dimension)s is under its floor of %(floor)s."), dimension=name, floor=floor
        )
    digits = 1 if round(float(estimate)) >= limit else 0  # never "50 against a floor of 50"
    value = number(float(estimate), language, digits)
    written_mean = number(float(mean), language) if mean is not None else value
    if written_mean != number(float(estimate), language):  # held against the shrunk estimate
        return say(
            N_(
                "%(dimension)s is under its floor: %(value)s after shrinkage (raters' "
                "mean %(mean)s) against a floor of %(floor)s."
            ),
            dimension=name,
            value=value,
            mean=written_mean,
            floor=floor,
        )
    return say(
        N_("%(dimension)s is under its floor: %(value)s against a floor of %(floor)s."),
        dimension=name,
        value=value,
        floor=floor,
    )


def footnotes(brief: ScorecardBrief, index: ShownIndex) -> tuple[Footnote, ...]:
    """The reliability notes in plain words: alpha, shrinkage, agreement, intervals, and
    what an interval of no width means where one is printed."""
    notes = (
        _alpha_note(brief),
        _shrinkage_note(brief, index),
        _agreement_note(brief),
        _interval_note(brief),
        _same_answers_note(brief),
    )
    return tuple(note for note in notes if note is not None)


def _alpha_note(brief: ScorecardBrief) -> Footnote | None:
    """How well each dimension's questions agree, naming those under the alpha floor."""
    say, language, results = brief.say, brief.language, brief.results
    direction = Direction.rating(brief.subject.kind)
    alphas = [
        (brief.dimension_name(d), a.alpha, a.low_alpha)
        for d, a in results.alphas.items()
        if results.dimension_info[d].direction == direction and a.alpha is not None
    ]
    if not alphas:
        return None
    low = number(min(a for _, a, _ in alphas), language, 2)
    high = number(max(a for _, a, _ in alphas), language, 2)
    weak = ", ".join(name for name, _, flagged in alphas if flagged)
    if weak:
        return Footnote(
            say(
                N_(
                    "The questions of each dimension agree with one another (Cronbach's alpha "
                    "%(low)s to %(high)s this cycle, over every rater); under %(floor)s, so "
                    "read with care: %(weak)s."
                ),
                low=low,
                high=high,
                weak=weak,
                floor=number(ALPHA_FLOOR, language, 2),
            )
        )
    return Footnote(
        say(
            N_(
                "The questions of each dimension agree with one another (Cronbach's alpha "
                "%(low)s to %(high)s this cycle, over every rater)."
            ),
            low=low,
            high=high,
        )
    )


def _shrinkage_note(brief: ScorecardBrief, index: ShownIndex) -> Footnote | None:
    """How far the index leans on the partner's own answers, and why."""
    if index.shrinkage is None:
        return None
    language = brief.language
    weight, n = float(index.shrinkage), int(index.n_raters or 0)
    values = {
        "n": n,
        "own": percent(weight, language),
        "rest": percent(1 - weight, language),
        "weight": number(weight, language, 2),
    }
    if n == 1:
        return Footnote(
            brief.say(
                N_(
                    "With 1 rater, the index leans %(own)s on this partner's own answers and "
                    "%(rest)s on the average partner (shrinkage, λ = %(weight)s), so a few "
                    "enthusiastic or harsh raters cannot top or sink it."
                ),
                **values,
            )
        )
    return Footnote(
        brief.say(
            N_(
                "With %(n)s raters, the index leans %(own)s on this partner's own answers "
                "and %(rest)s on the average partner (shrinkage, λ = %(weight)s), so a few "
                "enthusiastic or harsh raters cannot top or sink it."
            ),
            **values,
        )
    )


def _agreement_note(brief: ScorecardBrief) -> Footnote | None:
    """How well the raters agree with one another (median rwg over the dimensions)."""
    rwg = [r.rwg for r in brief.cells if r.rwg is not None]
    if not rwg:
        return None
    agreement = float(np.median(rwg))
    value = number(agreement, brief.language, 2)
    if agreement >= RWG_AGREEMENT:
        return Footnote(
            brief.say(
                N_(
                    "Raters agree well with one another (median rwg %(rwg)s; 1 is full "
                    "agreement, 0 no more than chance)."
                ),
                rwg=value,
            )
        )
    return Footnote(
        brief.say(
            N_(
                "Raters agree only partly with one another (median rwg %(rwg)s; 1 is full "
                "agreement, 0 no more than chance)."
            ),
            rwg=value,
        )
    )


def _interval_note(brief: ScorecardBrief) -> Footnote:
    """What the intervals mean, and why a cell with too few raters shows no number."""
    level, k = percent(brief.results.level, brief.language), brief.k
    if k > 1:
        return Footnote(
            brief.say(
                N_(
                    "Intervals are %(level)s intervals: the true score lies inside in about "
                    "%(level)s of cases. A cell with fewer than %(k)s raters shows no number, so "
                    "no one's answers can be picked out."
                ),
                level=level,
                k=k,
            )
        )
    return Footnote(
        brief.say(
            N_(
                "Intervals are %(level)s intervals: the true score lies inside in about "
                "%(level)s of cases."
            ),
            level=level,
        )
    )


def _same_answers_note(brief: ScorecardBrief) -> Footnote | None:
    """Where an interval of no width is printed: agreement among a few raters, not certainty."""
    if not any(
        r.low is not None and r.high is not None and r.high - r.low < SAME_ANSWERS
        for r in brief.cells
    ):
        return None
    agreed = N_(
        "An interval such as [75–75] means every rater gave that dimension the same "
        "answers; from a few raters it shows their agreement, not certainty."
    )
    return Footnote(brief.say(agreed))


def moved(brief: ScorecardBrief, change: float, significant: bool) -> str:
    """How far a dimension moved since the last cycle, and whether that is more than noise."""
    say = brief.say
    n = number(abs(change), brief.language)
    if round(change) == 0:
        return say(N_("no change"))
    if change > 0:
        return (
            say(N_("up by %(n)s, a real change"), n=n)
            if significant
            else say(N_("up by %(n)s, within the noise"), n=n)
        )
    return (
        say(N_("down by %(n)s, a real change"), n=n)
        if significant
        else say(N_("down by %(n)s, within the noise"), n=n)
    )


def trend_words(trend: TrendArrow, slope: float | None, say: Say) -> str | None:
    """The trend line's direction in words, with its slope."""
    if trend is TrendArrow.unknown or slope is None:
        return None
    words = {
        TrendArrow.flat: N_("steady (%(slope)s a cycle, not significant)"),
        TrendArrow.up: N_("improving (%(slope)s points a cycle)"),
        TrendArrow.down: N_("declining (%(slope)s points a cycle)"),
    }
    return say(words[trend], slope=f"{slope:+.1f}")
