"""What is kept of scorecards: the files a batch wrote, and the partners' replies."""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import ForeignKey, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.constraints import Check
from piccolo.table import Table

from surveys.cycles.cycle import Cycle
from surveys.directory.organisations import Organisation, Person
from surveys.results.score_runs import ScoreRun


class ScorecardKind(StrEnum):
    """Which scorecard."""

    partner = "partner"
    portfolio = "portfolio"
    network = "network"


class RenderedScorecard(Table):
    """One scorecard file a batch wrote: which one, for whom, in which language and paper."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    key = Varchar(length=300, unique=True)
    """What identifies it: kind, subject, view, audience, language and paper (`scorecard_key`)."""
    cycle = ForeignKey(Cycle, on_delete=OnDelete.cascade, null=False, index=True)
    run = ForeignKey(ScoreRun, on_delete=OnDelete.cascade, null=False)
    kind = Varchar(length=10, choices=ScorecardKind)
    subject = ForeignKey(Organisation, on_delete=OnDelete.cascade, null=False)
    audience = ForeignKey(Organisation, on_delete=OnDelete.cascade, null=False)
    language = Varchar(length=8, default="en")
    content_hash = Varchar(length=64)
    """SHA-256 of the HTML the PDF was made from: an unchanged scorecard is not made again."""
    file_path = Varchar(length=500)
    """Relative to the batch's folder."""
    rendered_at = Timestamptz()

    rendered_scorecard_kind_is_known = Check("kind IN ('partner', 'portfolio', 'network')")


class ScorecardMailing(Table):
    """One scorecard e-mailed to one person: kept so that it is never sent twice."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    key = Varchar(length=400, unique=True)
    """The scorecard's key, its content hash and the person: a changed scorecard goes again."""
    scorecard = ForeignKey(RenderedScorecard, on_delete=OnDelete.cascade, null=False, index=True)
    person = ForeignKey(Person, on_delete=OnDelete.cascade, null=False)
    sent_at = Timestamptz()


class PartnerReply(Table):
    """The rated partner's written answer to its scorecard, printed beside the scores."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    key = Varchar(length=100, unique=True)
    """Cycle, subject and view (`reply_key`): one reply per scorecard, whatever its audience."""
    cycle = ForeignKey(Cycle, on_delete=OnDelete.cascade, null=False, index=True)
    subject = ForeignKey(Organisation, on_delete=OnDelete.cascade, null=False)
    rater_organisation = ForeignKey(Organisation, on_delete=OnDelete.cascade, null=True)
    """Whose view it answers: a sponsor's view of a site; null for the pooled view."""
    text = Text()
    person = ForeignKey(Person, on_delete=OnDelete.set_null, null=True)
    written_at = Timestamptz()


def scorecard_key(
    kind: str, subject: str, view: str | None, audience: str, language: str, paper: str
) -> str:
    """The stable name of one scorecard file, from slugs.

    >>> scorecard_key("partner", "site-a", "pharma", "site-a", "fr", "a4")
    'partner/site-a/by/pharma/for/site-a/fr/a4'
    """
    by = f"/by/{view}" if view else ""
    return f"{kind}/{subject}{by}/for/{audience}/{language}/{paper}"


def reply_key(cycle_id: int, subject_id: int, view_id: int | None) -> str:
    """The one reply a scorecard may carry: per cycle, subject and view.

    >>> reply_key(3, 14, None)
    '3/14/all'
    """
    return f"{cycle_id}/{subject_id}/{view_id if view_id is not None else 'all'}"
