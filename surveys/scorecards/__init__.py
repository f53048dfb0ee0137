"""Scorecards: what a sponsor and a site sit down with, from a stored score run.

`_table` keeps the files a batch wrote, the mailings and the partners' replies;
`_results` loads a cycle's stored results once (`_reading` queries them, as the typed
rows of `_rows`); a `_brief` says what one scorecard is about and in which language;
`_partner` (one partner) and `_portfolio` (a sponsor's portfolio, a network's sites) lay
the results out as one typed context per scorecard, in words from `_words`, sentences
from `_sentences` and rule traces from `_trace`; `_render` turns a context into HTML (the
page the browser shows) and that same HTML into a PDF in worker processes; `_batch`
renders a whole cycle, `_mailing` sends what it wrote, `_replies` keeps a partner's
answer to its scorecard.

May import: `scoring`, `surveys.infra`, `surveys.charts` and every domain package below it.
"""

from surveys.scorecards._batch import BatchReport, batch_keys, render_card, render_cycle
from surveys.scorecards._mailing import MailReport, mail_scorecards
from surveys.scorecards._partner import PartnerScorecard, partner_scorecard
from surveys.scorecards._portfolio import (
    NetworkScorecard,
    PortfolioScorecard,
    network_scorecard,
    portfolio_scorecard,
)
from surveys.scorecards._render import (
    PAPERS,
    close_web_pool,
    content_hash,
    inline_styles,
    pdf_in_worker,
    pdf_of,
    pdf_workers,
    scorecard_html,
)
from surveys.scorecards._replies import REPLY_LIMIT, ReplyError, write_reply
from surveys.scorecards._results import CycleResults, ScorecardError, cycle_results
from surveys.scorecards._table import (
    PartnerReply,
    RenderedScorecard,
    ScorecardKind,
    ScorecardMailing,
    reply_key,
    scorecard_key,
)

__all__ = [
    "PAPERS",
    "REPLY_LIMIT",
    "BatchReport",
    "CycleResults",
    "MailReport",
    "NetworkScorecard",
    "PartnerReply",
    "PartnerScorecard",
    "PortfolioScorecard",
    "RenderedScorecard",
    "ReplyError",
    "ScorecardError",
    "ScorecardKind",
    "ScorecardMailing",
    "batch_keys",
    "close_web_pool",
    "content_hash",
    "cycle_results",
    "inline_styles",
    "mail_scorecards",
    "network_scorecard",
    "partner_scorecard",
    "pdf_in_worker",
    "pdf_of",
    "pdf_workers",
    "portfolio_scorecard",
    "render_card",
    "render_cycle",
    "reply_key",
    "scorecard_html",
    "scorecard_key",
    "write_reply",
]
