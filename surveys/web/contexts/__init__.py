"""One typed context per page: what a template may show, and nothing it must compute.

Each context is built by keyword from what one domain function read, with the charts
laid out here (surveys.charts), so the templates only place and format.

- `_home`: the workspaces a person may open, and the directory;
- `_survey`: a survey link's page and the form;
- `_portfolio`: a sponsor's portfolio and tier review;
- `_results`: a site, a network, and trends across institutions;
- `_forms`: pages that keep what was typed after a refusal (meeting, reply, tokens).

May import: `surveys.charts`, `surveys.infra` and the domain's read models.
"""

from surveys.web.contexts._forms import (
    MeetingContext,
    ReplyContext,
    TokenListing,
    TokensContext,
    TypedOverride,
    sentence,
)
from surveys.web.contexts._home import HomeContext, KindGroup, WorkspacesContext
from surveys.web.contexts._portfolio import (
    ACCEPT_ALL,
    PortfolioContext,
    TierReviewContext,
    portfolio_context,
    tier_review_context,
)
from surveys.web.contexts._results import (
    NetworkContext,
    SiteContext,
    TrendsContext,
    member_links,
    network_context,
    site_context,
    trends_context,
)
from surveys.web.contexts._survey import LinkContext, SurveyContext

__all__ = [
    "ACCEPT_ALL",
    "HomeContext",
    "KindGroup",
    "LinkContext",
    "MeetingContext",
    "NetworkContext",
    "PortfolioContext",
    "ReplyContext",
    "SiteContext",
    "SurveyContext",
    "TierReviewContext",
    "TokenListing",
    "TokensContext",
    "TrendsContext",
    "TypedOverride",
    "WorkspacesContext",
    "member_links",
    "network_context",
    "portfolio_context",
    "sentence",
    "site_context",
    "tier_review_context",
    "trends_context",
]
