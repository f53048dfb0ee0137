"""The tier's rule trace in the scorecard's language.

The tier engine (`scoring.tiers`) writes each decision's reasons as one English sentence,
stored with the assignment when the cycle is scored: "Approved (provisional): RI 56
[46–65]; Preferred not met: lower bound 46 < 65". The sentence is made of a small, fixed
set of fragments joined by "; ", so the scorecard reads it back fragment by fragment and
writes each in the reader's language; runs stored before this existed read the same way.
A test walks the engine through every rule and checks that each fragment it writes is
known here; an unknown fragment would stay in English rather than be lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from surveys.infra.i18n import N_
from surveys.results.tier_assignments import Tier
from surveys.scorecards._words import TIER_NAMES, Say

NUMBER = r"(-?\d+(?:\.\d+)?|n/a)"
TIER = r"(Strategic|Preferred|Approved|Watch)"
WAS = TIER + r"( \(a reviewer's override\))?"

Writer = Callable[[re.Match[str], Say], str]


def _tier(name: str, say: Say) -> str:
    return say(TIER_NAMES[Tier[name.lower()]])


def _was(match: re.Match[str], say: Say, at: int = 1) -> str:
    """The tier held before, and whether a reviewer had set it."""
    name = _tier(match.group(at), say)
    return say(N_("%(tier)s (a reviewer's override)"), tier=name) if match.group(at + 1) else name


def _numbers(message: str) -> Writer:
    """A fragment whose only variable parts are figures, in order: a, b, c."""

    def write(match: re.Match[str], say: Say) -> str:
        return say(message, **dict(zip("abc", match.groups(), strict=False)))

    return write


def _with_was(message: str) -> Writer:
    def write(match: re.Match[str], say: Say) -> str:
        figures = dict(zip("abc", match.groups()[2:], strict=False))
        return say(message, was=_was(match, say), **figures)

    return write


FRAGMENTS: tuple[tuple[re.Pattern[str], Writer], ...] = tuple(
    (re.compile(pattern), writer)
    for pattern, writer in (
        (rf"RI {NUMBER} \[{NUMBER}–{NUMBER}\]", _numbers(N_("RI %(a)s [%(b)s–%(c)s]"))),
        (r"provisional: no index", _numbers(N_("provisional: no index"))),
        (rf"upper bound {NUMBER} < {NUMBER}", _numbers(N_("upper bound %(a)s < %(b)s"))),
        (rf"lower bound {NUMBER} < {NUMBER}", _numbers(N_("lower bound %(a)s < %(b)s"))),
        (rf"lower bound {NUMBER} ≥ {NUMBER}", _numbers(N_("lower bound %(a)s ≥ %(b)s"))),
        (rf"quality {NUMBER} < {NUMBER}", _numbers(N_("quality %(a)s < %(b)s"))),
        (rf"predictability {NUMBER} < {NUMBER}", _numbers(N_("predictability %(a)s < %(b)s"))),
        (
            rf"significant decline to {NUMBER} < {NUMBER}",
            _numbers(N_("significant decline to %(a)s < %(b)s")),
        ),
        (rf"{NUMBER} scored cycle\(s\) < {NUMBER}", _numbers(N_("%(a)s scored cycle(s) < %(b)s"))),
        (rf"{NUMBER} rater\(s\) < {NUMBER}", _numbers(N_("%(a)s rater(s) < %(b)s"))),
        (rf"as before, {WAS}", _with_was(N_("as before, %(was)s"))),
        (rf"stays {WAS}: no index this cycle", _with_was(N_("stays %(was)s: no index this cycle"))),
        (
            rf"stays {WAS}: a promotion must hold for two consecutive cycles",
            _with_was(N_("stays %(was)s: a promotion must hold for two consecutive cycles")),
        ),
        (
            rf"stays {WAS}: first narrow miss \(a demotion needs two\)",
            _with_was(N_("stays %(was)s: first narrow miss (a demotion needs two)")),
        ),
        (
            rf"promoted from {WAS}: held for two cycles",
            _with_was(N_("promoted from %(was)s: held for two cycles")),
        ),
        (
            rf"demoted from {WAS}: missed by at least {NUMBER}",
            _with_was(N_("demoted from %(was)s: missed by at least %(a)s")),
        ),
        (
            rf"demoted from {WAS}: second consecutive miss",
            _with_was(N_("demoted from %(was)s: second consecutive miss")),
        ),
    )
)
LABEL = re.compile(rf"{TIER}( \(provisional\))?: (.+)")
"""The decision's tier heads the first fragment: "Approved (provisional): RI 56 [46–65]"."""
NOT_MET = re.compile(rf"{TIER} not met: (.+)")
MUST_HOLD = re.compile(
    rf"promoted from {WAS}: held for two cycles \({TIER} must hold for two "
    r"cycles too\)"
)


def trace_in(trace: str, say: Say) -> str:
    """The stored rule trace written with `say` (the scorecard's language)."""
    return "; ".join(fragment_in(fragment, say)[0] for fragment in trace.split("; "))


def fragment_in(fragment: str, say: Say) -> tuple[str, bool]:
    """One fragment of a trace in the reader's language, and whether it was recognised
    (an unknown one comes back as it was written)."""
    if match := MUST_HOLD.fullmatch(fragment):
        held = N_(
            "promoted from %(was)s: held for two cycles (%(tier)s must hold for two cycles too)"
        )
        return say(held, was=_was(match, say), tier=_tier(match.group(3), say)), True
    if match := NOT_MET.fullmatch(fragment):
        rest, known = fragment_in(match.group(2), say)
        return say(
            N_("%(tier)s not met: %(reason)s"), tier=_tier(match.group(1), say), reason=rest
        ), known
    if match := LABEL.fullmatch(fragment):
        rest, known = fragment_in(match.group(3), say)
        tier = _tier(match.group(1), say)
        if match.group(2):
            return say(N_("%(tier)s (provisional): %(reason)s"), tier=tier, reason=rest), known
        return say(N_("%(tier)s: %(reason)s"), tier=tier, reason=rest), known
    for pattern, write in FRAGMENTS:
        if match := pattern.fullmatch(fragment):
            return write(match, say), True
    return fragment, False
