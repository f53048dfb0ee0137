"""Who may see what: the one place every page and API route asks (DESIGN.md §5).

A viewer's reach is worked out once per request from their grants and the
organisations' ties (a site's network, the CRO that acts for a sponsor), and every
query is then scoped by it: routes never fetch first and filter afterwards.

- A sponsor user sees their sponsor's portfolio: every site it works with.
- A CRO user sees the portfolio of each sponsor it acts for, limited to the sites it
  works with on that sponsor's behalf.
- A site user sees their site; a network's user sees each site of the network.
- A relationship manager sees the organisations they manage (managing a network
  includes its sites).
- Seeing a whole portfolio means every site the sponsor works with (a relationship
  exists), not every site there is: one sponsor's view of a site exists only then.
- Everyone but an administrator works on one side: a person at a sponsor or CRO
  reaches portfolios only (a site's page shows every sponsor's view of it, and one
  sponsor's ratings are not another's to read); a person at a site or network reaches
  sites only (a sponsor's tiers are the sponsor's). Grants across the line are ignored.
- An administrator sees everything, and alone publishes a cycle.
- Tiers are reviewed by the sponsor's own users, its relationship managers and
  administrators.
- A partner's reply to its scorecard is its own words: only its own people write it (a
  user grant at that organisation itself), not its network's, its relationship managers
  or an administrator, though they may read the scorecard.

Anonymity thresholds are not decided here: they come with the score run (`shown`
flags) and every view reads only rows whose flag allows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from surveys.accounts.credentials import AccessGrant, Account, GrantRole, SignedIn
from surveys.directory.organisations import Organisation, OrgKind, Relationship


@dataclass(frozen=True)
class Reach:
    """The organisations a viewer may open, by what they may open them for."""

    administrator: bool = False
    portfolios: dict[int, frozenset[int] | None] = field(default_factory=dict)
    """Sponsor id → the sites of its portfolio the viewer may see (None: all of them)."""
    sites: frozenset[int] = frozenset()
    """Sites whose own results (how sponsors rate them, their view of sponsors) may be seen."""
    managed: frozenset[int] = frozenset()
    """Organisations a relationship manager manages (trends, tier review)."""
    networks: frozenset[int] = frozenset()
    """Networks whose sites may be seen side by side."""
    own: frozenset[int] = frozenset()
    """Sponsors, CROs and sites the viewer works for, by a user grant at the organisation
    itself (not through its network, nor as its relationship manager): how sites see a
    sponsor or CRO is theirs to read, and what a partner replies to its scorecard theirs to
    write."""

    def portfolio_sites(self, sponsor_id: int) -> frozenset[int] | None:
        """The sites of a sponsor's portfolio in reach; None means every one of them.

        Raises PermissionError if the portfolio is out of reach altogether.
        """
        if self.administrator:
            return None
        if sponsor_id not in self.portfolios:
            raise PermissionError("not your portfolio")
        return self.portfolios[sponsor_id]

    def may_see_portfolio(self, sponsor_id: int) -> bool:
        """Whether any of a sponsor's portfolio is in reach (portfolio_sites says how much)."""
        return self.administrator or sponsor_id in self.portfolios

    def may_see_site(self, site_id: int) -> bool:
        """Whether a site's own results are in reach."""
        return self.administrator or site_id in self.sites

    def may_see_network(self, network_id: int) -> bool:
        """Whether a network's sites may be seen side by side."""
        return self.administrator or network_id in self.networks

    def may_see_relationship(self, sponsor_id: int, site_id: int, *, works_with: bool) -> bool:
        """Whether the viewer may open a relationship's meeting pack and work on its action
        items.

        Both sides may, each through its own reach (a CRO user for the sites it works on, a
        network's user for its sites), where the relationship exists (`works_with`): a
        sponsor seen whole is every site it works with, and a site's people see the
        sponsors that work with it, not every organisation there is.
        """
        if not works_with:
            return False
        if self.administrator or site_id in self.sites:
            return True
        if sponsor_id not in self.portfolios:
            return False
        sites = self.portfolios[sponsor_id]
        return sites is None or site_id in sites

    def may_see_sites_view(self, sponsor_id: int, site_id: int) -> bool:
        """Whether the viewer may read how a site's raters see its sponsor, in that
        relationship: the site's own side, the sponsor's own users and administrators; not
        a CRO's users, from whom the portfolio withholds the sites' view as well."""
        return (
            self.administrator
            or site_id in self.sites
            or (sponsor_id in self.portfolios and self.portfolios[sponsor_id] is None)
        )

    def may_see_trends(self, organisation_id: int) -> bool:
        """Whether the viewer may compare an organisation's sites over the cycles: the
        organisations a relationship manager manages (DESIGN.md §5)."""
        return self.administrator or organisation_id in self.managed

    def may_review_tiers(self, sponsor_id: int) -> bool:
        """Whether the viewer may accept or override the tiers a sponsor gives its sites.

        The tiers belong to the sponsor: its own users review them, as do its
        relationship managers and administrators; a CRO user, who sees part of the
        portfolio, does not.
        """
        return self.administrator or (
            sponsor_id in self.portfolios and self.portfolios[sponsor_id] is None
        )

    def may_see_partner_scorecard(
        self, subject: int, subject_kind: str, view: int | None, *, works_with: bool
    ) -> bool:
        """Whether the viewer may read a partner scorecard.

        A site's scorecard is one sponsor's view of it (`view`), and there is one only where
        that sponsor works with the site (`works_with`: a relationship between them exists).
        It goes to the same people as their review meeting: the sponsor's people (a CRO's
        for the sites it works on) and the site's own. Without the relationship there is
        nothing to read, for anyone: a viewer who sees a sponsor's whole portfolio sees the
        sites it works with, not every site there is.

        A sponsor's or CRO's scorecard is how every site sees it (no `view`): its own
        people, and a sponsor's relationship managers.
        """
        if subject_kind == OrgKind.site:
            return view is not None and self.may_see_relationship(
                view, subject, works_with=works_with
            )
        return view is None and (
            self.administrator or subject in self.own or self.may_review_tiers(subject)
        )

    def may_reply_to_scorecard(self, subject: int) -> bool:
        """Whether the viewer speaks for the rated partner, who may answer its scorecard.

        The reply is printed as the partner's own words, so only its own people write it: a
        network's people, a relationship manager and an administrator may read the
        scorecard, but do not speak for the partner.
        """
        return subject in self.own

    @property
    def may_publish(self) -> bool:
        """Publishing a cycle freezes every sponsor's tiers: administrators only."""
        return self.administrator


@dataclass(frozen=True)
class Viewer:
    """A signed-in person and what they may reach."""

    who: SignedIn
    """The account, and the person behind it (for the audit log)."""
    reach: Reach
    """Worked out afresh for each request, so a revoked grant takes effect at once."""


@dataclass(frozen=True)
class _Grant:
    """One grant of an account, with the kind of organisation it is over."""

    role: GrantRole
    organisation: int
    """The organisation's id (administrators' grants, over none, are read apart)."""
    kind: OrgKind

    @property
    def on_sponsor_side(self) -> bool:
        """Whether the grant is over a sponsor or a CRO (else a site or a network)."""
        return self.kind in {OrgKind.sponsor, OrgKind.cro}


@dataclass
class _Reaching:
    """A reach being worked out, grant by grant."""

    portfolios: dict[int, frozenset[int] | None] = field(default_factory=dict)
    sites: set[int] = field(default_factory=set)
    managed: set[int] = field(default_factory=set)
    networks: set[int] = field(default_factory=set)
    own: set[int] = field(default_factory=set)

    def reach(self) -> Reach:
        """The reach worked out, frozen."""
        return Reach(
            administrator=False,
            portfolios=self.portfolios,
            sites=frozenset(self.sites),
            managed=frozenset(self.managed),
            networks=frozenset(self.networks),
            own=frozenset(self.own),
        )


async def reach_of(account_id: int) -> Reach:
    """Work out an account's reach from its grants and the organisations' ties."""
    rows = await AccessGrant.select(
        AccessGrant.role,
        AccessGrant.organisation,
        AccessGrant.organisation._.kind.as_alias("kind"),
    ).where(AccessGrant.account == account_id)
    if any(g["role"] == GrantRole.administrator for g in rows):
        return Reach(administrator=True)
    home = (
        await Account.select(Account.person._.organisation._.kind.as_alias("kind"))
        .where(Account.id == account_id)
        .first()
    )
    # A person works on one side. One sponsor's ratings of a site are not another
    # sponsor's to read, and a site's people do not read sponsors' portfolios or set
    # their tiers (DESIGN.md §5): grants that reach across are ignored.
    sponsor_side = home is not None and home["kind"] in {OrgKind.sponsor, OrgKind.cro}
    reaching = _Reaching()
    for row in rows:
        grant = _Grant(GrantRole(row["role"]), int(row["organisation"]), OrgKind(row["kind"]))
        if grant.on_sponsor_side == sponsor_side:
            await _add(reaching, grant)
    return reaching.reach()


async def _add(reaching: _Reaching, grant: _Grant) -> None:
    """Add what one grant (on the account's own side) lets its holder reach."""
    org, kind, role = grant.organisation, grant.kind, grant.role
    if role == GrantRole.relationship_manager:
        reaching.managed.add(org)
        if kind == OrgKind.sponsor:
            reaching.portfolios[org] = None
        elif kind == OrgKind.site:
            reaching.sites.add(org)
        elif kind == OrgKind.network:
            reaching.networks.add(org)
            reaching.sites.update(await _network_sites(org))
            reaching.managed.update(await _network_sites(org))
    elif role == GrantRole.sponsor_user and kind == OrgKind.sponsor:
        reaching.portfolios[org] = None
        reaching.own.add(org)
    elif role == GrantRole.sponsor_user and kind == OrgKind.cro:
        reaching.own.add(org)
        for sponsor, cro_sites in (await _sites_through_cro(org)).items():
            sites = reaching.portfolios.get(sponsor, frozenset())
            if sites is not None:  # a sponsor seen whole stays whole
                reaching.portfolios[sponsor] = sites | cro_sites
    elif role == GrantRole.site_user and kind == OrgKind.site:
        reaching.sites.add(org)
        reaching.own.add(org)
    elif role == GrantRole.site_user and kind == OrgKind.network:
        reaching.networks.add(org)
        reaching.sites.update(await _network_sites(org))


async def _network_sites(network_id: int) -> set[int]:
    """The sites of a network."""
    rows = await Organisation.select(Organisation.id).where(
        (Organisation.network == network_id) & (Organisation.kind == OrgKind.site.value)
    )
    return {int(r["id"]) for r in rows}


async def _sites_through_cro(cro_id: int) -> dict[int, frozenset[int]]:
    """Sponsor → the sites a CRO works with on that sponsor's behalf (active relationships)."""
    rows = await Relationship.select(Relationship.sponsor, Relationship.site).where(
        (Relationship.cro == cro_id) & Relationship.active.eq(True)
    )
    found: dict[int, set[int]] = {}
    for row in rows:
        found.setdefault(int(row["sponsor"]), set()).add(int(row["site"]))
    return {sponsor: frozenset(s) for sponsor, s in found.items()}
