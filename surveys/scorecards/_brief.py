"""What one scorecard is about and whom it is written for: a cycle's results, the partner,
whose view of it, and the reader's language. Every part of a scorecard is written from it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from surveys.scorecards._results import CycleResults, PeerGroup
from surveys.scorecards._rows import Org, ShownDimensionScore, ShownIndex, View
from surveys.scorecards._words import Say, say_in


@dataclass(frozen=True)
class ScorecardBrief:
    """One scorecard being written: what it shows (a partner in one view of a cycle's
    results) and in which language."""

    results: CycleResults
    subject: Org
    """The partner the scorecard is about (the sponsor of a portfolio, the network)."""
    view_id: int | None
    """The organisation whose raters' view it shows; None for every rater pooled."""
    language: str
    """The reader's language: every word and number is written in it."""

    @cached_property
    def say(self) -> Say:
        """Writes a marked text in the reader's language."""
        return say_in(self.language)

    @property
    def view(self) -> View:
        """(subject, view), as the results key a view."""
        return (self.subject.id, self.view_id)

    @property
    def index(self) -> ShownIndex | None:
        """The subject's index in this view and run; None if no one rated it."""
        return self.results.indices.get((self.results.run, *self.view))

    @property
    def cells(self) -> list[ShownDimensionScore]:
        """The subject's dimension scores in this view and run."""
        return self.results.dimensions.get((self.results.run, *self.view), [])

    @property
    def changes(self) -> dict[int, tuple[float, bool]]:
        """Each dimension's change since the last cycle, and whether it is significant."""
        return self.results.changes.get(self.view, {})

    @property
    def peers(self) -> PeerGroup:
        """The partners the subject is compared with: same kind, rated in the same view (a
        sponsor's sites; every sponsor and CRO for the pooled view), itself included."""
        kind = self.subject.kind
        kinds = frozenset({"sponsor", "cro"} if kind in {"sponsor", "cro"} else {kind})
        return self.results.group(kinds, self.view_id)

    @property
    def k(self) -> int:
        """Raters a cell about the subject needs before it is shown."""
        return self.results.k(self.subject.kind)

    def dimension_name(self, dimension_id: int) -> str:
        """A dimension's name in the reader's language, as its instrument writes it."""
        return self.results.dimension_info[dimension_id].name_in(self.language)
