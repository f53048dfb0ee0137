"""One typed context per page: what a template may show, and nothing it must compute."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.invitations import LinkView
from surveys.organisations import OrganisationListing


@dataclass(frozen=True)
class KindGroup:
    """The organisations of one kind, as the home page lists them."""

    kind: str
    """sponsor, cro, network or site."""
    title: str
    """The group's heading."""
    organisations: tuple[OrganisationListing, ...]
    """Sorted by name."""


@dataclass(frozen=True)
class HomeContext:
    """The home page: every organisation, grouped by kind."""

    groups: tuple[KindGroup, ...]
    """Sponsors, CROs, networks, then sites."""
    total: int
    """How many organisations in all."""
    database: str
    """Which database this instance serves, e.g. "SQLite" or "PostgreSQL"."""


@dataclass(frozen=True)
class LinkContext:
    """The page a survey link leads to."""

    link: LinkView
    """The invitation's state, partner and cycle, as much as may be shown."""
