"""Demo sign-ins: one account per kind of reader of results, on people of the demo world."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from piccolo.custom_types import Combinable

from surveys.accounts.credentials import GrantRole, create_account
from surveys.directory.organisations import Organisation, OrgKind, Person, Relationship

DEMO_PASSWORD = "rapport-demo-password"  # noqa: S105  (public by design: demo only)
"""Every demo account's password: the demo world is public, so is this."""


@dataclass(frozen=True)
class DemoLogin:
    """One demo account: whom it plays, how it signs in, and what it sees."""

    who: str
    email: str
    sees: str


@dataclass(frozen=True)
class DemoOrganisation:
    """An organisation of the demo world that a demo account is given."""

    id: int
    name: str
    slug: str


async def demo_logins(now: dt.datetime) -> list[DemoLogin]:
    """Create (or refresh) the demo accounts and return who signs in as what."""
    sponsor = await _first(Organisation.kind == OrgKind.sponsor.value)
    cro = await _first(Organisation.kind == OrgKind.cro.value)
    network = await _first(Organisation.kind == OrgKind.network.value)
    if sponsor is None or network is None:
        return []
    site = await _first(
        (Organisation.kind == OrgKind.site.value) & (Organisation.network == network.id)
    )
    plan: list[tuple[str, DemoOrganisation | None, GrantRole, str]] = [
        ("administrator", sponsor, GrantRole.administrator, "everything"),
        ("sponsor user", sponsor, GrantRole.sponsor_user, f"{sponsor.name}'s portfolio"),
        (
            "relationship manager",
            sponsor,
            GrantRole.relationship_manager,
            f"{sponsor.name}'s portfolio, tier review and trends across its sites",
        ),
        ("network director", network, GrantRole.site_user, f"the sites of {network.name}"),
    ]
    if cro is not None:
        plan.append(("CRO user", cro, GrantRole.sponsor_user, f"{cro.name}'s sites"))
    if site is not None:
        plan.append(("site coordinator", site, GrantRole.site_user, f"{site.name}"))
    await _network_director(network, now)
    logins: list[DemoLogin] = []
    used: set[int] = set()
    for label, organisation, role, sees in plan:
        if organisation is None:
            continue
        person = (
            await Person.select(Person.id, Person.email)
            .where((Person.organisation == organisation.id) & Person.id.not_in(list(used) or [-1]))
            .first()
        )
        if person is None:
            continue
        used.add(person["id"])
        grants: list[tuple[GrantRole, int | None]] = [
            (role, None if role == GrantRole.administrator else organisation.id)
        ]
        if role == GrantRole.relationship_manager:
            grants.append((GrantRole.relationship_manager, network.id))
        await create_account(person["email"], grants, now, DEMO_PASSWORD)
        logins.append(DemoLogin(label, person["email"], sees))
    return logins


async def _first(condition: Combinable) -> DemoOrganisation | None:
    """The first organisation (by id) that meets a condition and has relationships."""
    rows = (
        await Organisation.select(Organisation.id, Organisation.name, Organisation.slug)
        .where(condition)
        .order_by(Organisation.id)
    )
    for row in rows:
        linked = await Relationship.exists().where(
            (Relationship.sponsor == row["id"])
            | (Relationship.site == row["id"])
            | (Relationship.cro == row["id"])
            | (Relationship.site.network == row["id"])
        )
        if linked:
            return DemoOrganisation(id=int(row["id"]), name=row["name"], slug=row["slug"])
    return None


async def _network_director(network: DemoOrganisation, now: dt.datetime) -> None:
    """Give the demo network a director (the synthetic world has no one at a network)."""
    if await Person.exists().where(Person.organisation == network.id):
        return
    await Person.insert(
        Person(
            organisation=network.id,
            name="Dana Whitfield",
            role="executive",
            email=f"dana.whitfield@{network.slug}.example",
            language="en",
            created_at=now,
        )
    )
