"""Scorecards: what a sponsor and a site sit down with, from a stored score run.

`_table` keeps the files a batch wrote and the partners' replies; `_results` loads a
cycle's stored results once; `_partner`, `_portfolio` and `_network` lay them out as one
typed context per scorecard; `_render` turns a context into HTML (the page the browser
shows) and that same HTML into a PDF in worker processes; `_batch` renders a whole cycle.
"""

from surveys.scorecards._table import (
    PartnerReply,
    RenderedScorecard,
    ScorecardKind,
    reply_key,
    scorecard_key,
)

__all__ = ["PartnerReply", "RenderedScorecard", "ScorecardKind", "reply_key", "scorecard_key"]
