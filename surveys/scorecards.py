"""Scorecards: the rendered PDF (and HTML twin) of one partner, portfolio or network."""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.constraints import Check
from piccolo.table import Table

from surveys.cycles import Cycle
from surveys.organisations import Organisation, Person
from surveys.score_runs import ScoreRun


class ScorecardKind(StrEnum):
    """Which scorecard."""

    partner = "partner"
    portfolio = "portfolio"
    network = "network"


class Scorecard(Table):
    """One rendered scorecard: subject, audience, language, and where its file is."""

    run = ForeignKey(ScoreRun, on_delete=OnDelete.cascade, null=False, index=True)
    cycle = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=10, choices=ScorecardKind)
    subject = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    audience = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=True)
    """The organisation it is for; null for the subject itself."""
    language = Varchar(length=8, default="en")
    content_hash = Varchar(length=64)
    """SHA-256 of the rendered HTML: unchanged scorecards are not rendered again."""
    file_path = Varchar(length=500, null=True, default=None)
    rendered_at = Timestamptz()
    partner_reply = Text(null=True, default=None)
    """The rated partner's written response, printed beside the scores."""
    partner_reply_by = ForeignKey(Person, on_delete=OnDelete.set_null, null=True)
    partner_reply_at = Timestamptz(null=True, default=None)

    scorecard_kind_is_known = Check("kind IN ('partner', 'portfolio', 'network')")
