"""The home pages: a signed-in person's workspaces, and the directory (administrators)."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.accounts.policy import Viewer
from surveys.directory.organisations import OrganisationListing
from surveys.workspaces.places import Workspace


@dataclass(frozen=True)
class KindGroup:
    """The organisations of one kind, as the home page lists them."""

    kind: str
    """sponsor, cro, network or site."""
    title: str
    """The group's heading, in English (marked with `N_`: the page translates it)."""
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
    area_names: dict[str, str]
    """Therapeutic area code → its name, for every area listed."""


@dataclass(frozen=True)
class WorkspacesContext:
    """A signed-in person's home page: the workspaces they may open."""

    viewer: Viewer
    """Who is signed in."""
    workspaces: tuple[Workspace, ...]
    """Portfolios, trends, tier reviews, networks and sites, by name."""
