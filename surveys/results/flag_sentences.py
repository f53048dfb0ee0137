"""Escalation flags in the reader's language, written from the figures the runs stored.

The engine stores each flag's detail in its own English ("RI 15 [13–17], below 2025-Q3's
lower bound 27"). Every surface that prints a flag to a reader (a scorecard, the review
meeting pack, the trends page) says the same instead from the figures of the flag's view
in the run that raised it and in the run of the scored cycle before (`cycle_before`, as
a scorecard's trend line takes it), numbers written as the language writes them.

Only a cell the run marked as shown carries figures (DESIGN.md §4): where one is missing
or hidden, the sentence goes without figures. A drop is quoted with figures only when
they show it (the engine compared with its own re-estimate of the cycle before, which is
not stored).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from surveys.infra.i18n import N_, Text, number, percent
from surveys.results.score_runs import SCORED, TargetIndex, scored_cycles, shown_number

SIGNIFICANT_DROP = "significant_drop"
RESPONSE_COLLAPSE = "response_collapse"

FlagView = tuple[int, int, int | None]
"""(run, target, rater organisation): one view of a partner in one run; None pools every
rater."""


class IndexFigures(Protocol):
    """What a flag's sentence quotes of one view's index in one run; None where the figure
    is missing or the run hid the cell."""

    @property
    def reliability_index(self) -> float | None: ...

    @property
    def ri_low(self) -> float | None: ...

    @property
    def ri_high(self) -> float | None: ...

    @property
    def response_rate(self) -> float | None: ...


@dataclass(frozen=True)
class FlagFigures:
    """One view's index in one run as a flag may quote it: a hidden figure is None."""

    reliability_index: float | None = None
    ri_low: float | None = None
    ri_high: float | None = None
    response_rate: float | None = None


NO_FIGURES = FlagFigures()
"""A view no one rated in a run (or one read without figures): nothing to quote."""


def flag_sentence(
    kind: str,
    now: IndexFigures,
    before: IndexFigures,
    previous_cycle: str | None,
    language: str = "en",
) -> str | None:
    """A significant drop or a response-rate collapse in `language`, from the view's index
    in the flag's run (`now`) and in the cycle before's (`before`); None for another kind
    (a dimension under its floor is said with the dimension's name)."""
    if kind == SIGNIFICANT_DROP:
        return drop_sentence(now, before, previous_cycle, language)
    if kind == RESPONSE_COLLAPSE:
        return collapse_sentence(now, before, language)
    return None


def drop_sentence(
    now: IndexFigures, before: IndexFigures, previous_cycle: str | None, language: str = "en"
) -> str:
    """A significant drop, quoted with figures only when they show it."""
    found = [now.reliability_index, now.ri_low, now.ri_high, before.ri_low]
    figures = [float(f) for f in found if f is not None]
    if previous_cycle is None or len(figures) < len(found) or figures[2] >= figures[3]:
        return Text(
            N_("A significant drop: this cycle's interval lies wholly below the previous one's.")
        ).render(language)
    value, low, high, was = (number(f, language) for f in figures)
    return Text(
        N_(
            "A significant drop: index %(value)s [%(low)s–%(high)s], below "
            "%(cycle)s's lower bound of %(was)s."
        ),
        {"value": value, "low": low, "high": high, "cycle": previous_cycle, "was": was},
    ).render(language)


def collapse_sentence(now: IndexFigures, before: IndexFigures, language: str = "en") -> str:
    """A response rate that collapsed, with both rates when both are shown."""
    now_rate, was_rate = now.response_rate, before.response_rate
    if now_rate is None or was_rate is None:
        return Text(N_("The response rate collapsed since the last cycle.")).render(language)
    return Text(
        N_("The response rate collapsed: %(rate)s, down from %(was)s."),
        {"rate": percent(float(now_rate), language), "was": percent(float(was_rate), language)},
    ).render(language)


@dataclass(frozen=True)
class CycleBefore:
    """The scored cycle before a run's, and the run its figures come from."""

    key: str
    run: int


async def cycle_before(run: int, statuses: tuple[str, ...] = SCORED) -> CycleBefore | None:
    """The scored (or published) cycle before the one `run` scored, with its latest run, as
    a scorecard's trend line takes it; None for the first scored cycle, a run that is not
    its cycle's latest, or a cycle before that is not in `statuses` (a reader who sees
    published cycles only is quoted no figure of an unpublished one)."""
    scored = await scored_cycles()
    runs = [int(str(c["run"])) for c in scored]
    if run not in runs or runs.index(run) + 1 >= len(scored):
        return None
    previous = scored[runs.index(run) + 1]
    if str(previous["status"]) not in statuses:
        return None
    return CycleBefore(str(previous["key"]), int(str(previous["run"])))


async def flag_figures(runs: Iterable[int], targets: Iterable[int]) -> dict[FlagView, FlagFigures]:
    """The indices of these targets in these runs, in every view, as a flag may quote them
    (a figure of a cell the run hid is None)."""
    wanted_runs, wanted_targets = sorted(set(runs)), sorted(set(targets))
    if not wanted_runs or not wanted_targets:
        return {}
    rows = await TargetIndex.select(
        TargetIndex.run,
        TargetIndex.target,
        TargetIndex.rater_organisation,
        TargetIndex.reliability_index,
        TargetIndex.ri_low,
        TargetIndex.ri_high,
        TargetIndex.response_rate,
        TargetIndex.shown,
    ).where(TargetIndex.run.is_in(wanted_runs) & TargetIndex.target.is_in(wanted_targets))
    return {
        (int(r["run"]), int(r["target"]), r["rater_organisation"]): FlagFigures(
            shown_number(r["reliability_index"], bool(r["shown"])),
            shown_number(r["ri_low"], bool(r["shown"])),
            shown_number(r["ri_high"], bool(r["shown"])),
            shown_number(r["response_rate"], bool(r["shown"])),
        )
        for r in rows
    }


async def flag_sentences(
    run: int,
    flags: Iterable[tuple[str, int, int | None]],
    language: str = "en",
    statuses: tuple[str, ...] = SCORED,
) -> dict[tuple[str, int, int | None], str]:
    """(kind, target, rater organisation) → the sentence of each significant drop and
    response-rate collapse among these flags of `run`, in `language` (other kinds left out),
    quoting the cycle before only if it is in `statuses` (what the reader may see)."""
    wanted = [f for f in flags if f[0] in (SIGNIFICANT_DROP, RESPONSE_COLLAPSE)]
    if not wanted:
        return {}
    previous = await cycle_before(run, statuses)
    runs = [run] if previous is None else [run, previous.run]
    figures = await flag_figures(runs, (target for _, target, _ in wanted))
    found: dict[tuple[str, int, int | None], str] = {}
    for kind, target, rater in wanted:
        now = figures.get((run, target, rater), NO_FIGURES)
        before = figures.get((previous.run, target, rater), NO_FIGURES) if previous else NO_FIGURES
        said = flag_sentence(kind, now, before, previous.key if previous else None, language)
        if said is not None:
            found[(kind, target, rater)] = said
    return found
