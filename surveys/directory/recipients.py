"""Who receives an organisation's results (its scorecards) by e-mail: the one rule.

A person's `receives_results` decides when it is set (True or False). Left unset, the
rule goes by role:

- at a site, its principal investigator and its site director;
- at a sponsor or a CRO, its relationship contacts: the people named on one of the
  organisation's active relationships (those who work with the sites it is rated by);
- at a network, no one (a network's readers are chosen one by one).

Whether the person holds an account does not matter. Deactivated and erased people never
receive anything. The console shows this rule beside each person (`RULE`), and the
scorecard mailing asks `results_recipients` for each audience.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveys.directory.organisations import OrgKind, Person, RelationshipContact, Role

SITE_RECIPIENT_ROLES = frozenset({Role.pi.value, Role.site_director.value})
"""Roles at a site that receive its results unless told otherwise."""

RULE = (
    "Unless set per person: at a site, the principal investigator and the site director; "
    "at a sponsor or CRO, the contacts named on its relationships; at a network, no one. "
    "Deactivated or erased people never receive results."
)
"""The rule in one sentence, as the console shows it."""


@dataclass(frozen=True)
class Recipient:
    """Someone an organisation's results are e-mailed to."""

    id: int
    name: str
    email: str
    language: str
    organisation: int


def receives_by_default(kind: str, role: str, relationship_contact: bool) -> bool:
    """Whether someone whose `receives_results` is unset receives their organisation's
    results: by the organisation's kind, their role, and whether they are named on one of
    its relationships."""
    if kind == OrgKind.site:
        return role in SITE_RECIPIENT_ROLES
    if kind in (OrgKind.sponsor, OrgKind.cro):
        return relationship_contact
    return False


async def results_recipients(organisations: set[int]) -> dict[int, list[Recipient]]:
    """Return, for each of these organisations, the people who receive its results."""
    if not organisations:
        return {}
    people = await Person.select(
        Person.id,
        Person.name,
        Person.email,
        Person.language,
        Person.role,
        Person.organisation,
        Person.receives_results,
        Person.organisation._.kind.as_alias("kind"),
    ).where(
        Person.organisation.is_in(sorted(organisations))
        & Person.active.eq(True)
        & Person.erased_at.is_null()
    )
    contacts = await _relationship_contacts(organisations)
    found: dict[int, list[Recipient]] = {}
    for person in sorted(people, key=lambda row: (row["name"], row["id"])):
        decided = person["receives_results"]
        if decided is None:
            decided = receives_by_default(person["kind"], person["role"], person["id"] in contacts)
        if decided:
            found.setdefault(person["organisation"], []).append(
                Recipient(
                    id=person["id"],
                    name=person["name"],
                    email=person["email"],
                    language=person["language"],
                    organisation=person["organisation"],
                )
            )
    return found


async def _relationship_contacts(organisations: set[int]) -> set[int]:
    """People named on an active relationship of their own organisation (as its sponsor
    or its CRO)."""
    contact = RelationshipContact
    rows = await contact.select(
        contact.person,
        contact.person._.organisation.as_alias("organisation"),
        contact.relationship._.sponsor.as_alias("sponsor"),
        contact.relationship._.cro.as_alias("cro"),
    ).where(
        contact.person._.organisation.is_in(sorted(organisations))
        & contact.relationship._.active.eq(True)
    )
    return {row["person"] for row in rows if row["organisation"] in (row["sponsor"], row["cro"])}
