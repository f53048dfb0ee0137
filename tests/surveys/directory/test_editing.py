"""One directory record at a time: the rules each change is held to, and the commands that
make the same changes as the console's forms."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from click.testing import CliRunner
from piccolo.engine.base import Engine

from surveys.cli import main
from surveys.directory.audit import Act, AuditEntry
from surveys.directory.editing import (
    DirectoryEditError,
    OrganisationFields,
    PersonFields,
    create_organisation,
    create_person,
    create_relationship,
    set_contacts,
    set_person_active,
)
from surveys.directory.listing import organisations_page, people_page, relationships_page
from surveys.directory.organisations import (
    Organisation,
    OrgKind,
    Person,
    Relationship,
    RelationshipContact,
    Role,
)
from surveys.infra.pagination import PastLastPageError
from tests.conftest import url_of

ACT = Act("test", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


async def _three(db: Engine) -> dict[str, int]:
    """A network with a site, a sponsor and a CRO acting for it."""
    network = await create_organisation(OrganisationFields("Nordnetz", OrgKind.network), ACT)
    sponsor = await create_organisation(OrganisationFields("Acme Pharma", OrgKind.sponsor), ACT)
    cro = await create_organisation(
        OrganisationFields("Fast CRO", OrgKind.cro, acts_for=sponsor), ACT
    )
    site = await create_organisation(
        OrganisationFields("Klinikum Süd", OrgKind.site, country="DE", network=network), ACT
    )
    return {"network": network, "sponsor": sponsor, "cro": cro, "site": site}


@pytest.mark.anyio
async def test_each_change_is_held_to_the_directory_rules(db: Engine) -> None:
    orgs = await _three(db)
    refusals = {
        "network for a sponsor": OrganisationFields(
            "Beta Bio", OrgKind.sponsor, network=orgs["network"]
        ),
        "a CRO acting for a site": OrganisationFields(
            "Slow CRO", OrgKind.cro, acts_for=orgs["site"]
        ),
        "a second Klinikum Süd": OrganisationFields("Klinikum Sud", OrgKind.site),
    }
    said = {}
    for what, fields in refusals.items():
        with pytest.raises(DirectoryEditError) as refused:
            await create_organisation(fields, ACT)
        said[what] = (refused.value.field, str(refused.value))
    assert said == {
        "network for a sponsor": ("network", "only a site belongs to a network"),
        "a CRO acting for a site": ("acts_for", "a CRO acts for a sponsor"),
        "a second Klinikum Süd": (
            "name",
            "an organisation with the short name klinikum-sud exists",
        ),
    }
    pi = await create_person(PersonFields("Dr. A", "a@sud.example", Role.pi, orgs["site"]), ACT)
    with pytest.raises(DirectoryEditError, match="a pi works at a site"):
        await create_person(PersonFields("B", "b@acme.example", Role.pi, orgs["sponsor"]), ACT)
    with pytest.raises(DirectoryEditError, match="not at a network"):
        await create_person(PersonFields("C", "c@nord.example", Role.cra, orgs["network"]), ACT)
    manager = await create_person(
        PersonFields("M", "m@acme.example", Role.relationship_manager, orgs["sponsor"]), ACT
    )
    outsider = await create_person(PersonFields("O", "o@fast.example", Role.cra, orgs["cro"]), ACT)
    tie = await create_relationship(orgs["sponsor"], orgs["site"], None, ACT)
    with pytest.raises(DirectoryEditError, match="already works with this site"):
        await create_relationship(orgs["sponsor"], orgs["site"], None, ACT)
    with pytest.raises(DirectoryEditError, match="not a site"):
        await create_relationship(orgs["sponsor"], orgs["cro"], None, ACT)
    with pytest.raises(DirectoryEditError, match="O works at none"):
        await set_contacts(tie, [manager, outsider], ACT)
    await set_contacts(tie, [manager, pi], ACT)
    contacts = await RelationshipContact.select(RelationshipContact.person).where(
        RelationshipContact.relationship == tie
    )
    assert {c["person"] for c in contacts} == {manager, pi}
    await set_person_active(pi, False, ACT)
    assert (await people_page(active=True)).total == 2
    assert (await people_page(search="SUD")).total == 0, "the inactive PI is filtered out"
    assert (await people_page(search="sud", active=None)).total == 1
    assert (await organisations_page(kind=OrgKind.site)).items[0].people == 0
    assert (await relationships_page(search="klinikum")).items[0].contacts == ("Dr. A", "M")
    with pytest.raises(PastLastPageError):
        await organisations_page(number=2, per_page=50)
    audited = await AuditEntry.select(AuditEntry.action, AuditEntry.detail).output(load_json=True)
    creations = [e for e in audited if e["action"] == "person.create"]
    assert len(creations) == 3
    assert not any("@" in str(e["detail"]) for e in creations), "no address in the log"


def test_the_commands_make_the_same_changes(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url_of(db))
    runner = CliRunner()

    def rapport(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    steps = [
        ("directory", "organisation", "add", "Acme Pharma", "--kind", "sponsor"),
        ("directory", "organisation", "add", "Nordnetz", "--kind", "network"),
        (
            "directory",
            "organisation",
            "add",
            "Klinikum Süd",
            "--kind",
            "site",
            "--country",
            "de",
            "--network",
            "nordnetz",
            "--external-id",
            "SITE-7",
        ),
        (
            "directory",
            "person",
            "add",
            "Ana@Sud.example",
            "--name",
            "Dr. Ana",
            "--organisation",
            "klinikum-sud",
            "--role",
            "pi",
            "--language",
            "de-DE",
        ),
        ("directory", "relationship", "add", "acme-pharma", "klinikum-sud"),
        ("directory", "relationship", "contacts", "acme-pharma", "klinikum-sud", "ana@sud.example"),
        ("directory", "person", "edit", "ana@sud.example", "--receives-results", "no"),
        ("directory", "organisation", "edit", "klinikum-sud", "--name", "Klinikum Süd GmbH"),
        ("directory", "relationship", "end", "acme-pharma", "klinikum-sud"),
    ]
    outcomes = [rapport(*step) for step in steps]
    assert [code for code, _ in outcomes] == [0] * len(steps), outcomes
    bad_country = rapport(
        "directory", "organisation", "add", "Elsewhere", "--kind", "site", "--country", "QQ"
    )
    taken = rapport(
        "directory",
        "person",
        "add",
        "ANA@sud.example",
        "--name",
        "Other",
        "--organisation",
        "acme-pharma",
        "--role",
        "cra",
    )
    assert bad_country[0] == 2 and "'QQ' is not an ISO 3166" in bad_country[1]
    assert taken[0] == 1 and "email: ana@sud.example is already Dr. Ana's" in taken[1]

    async def stored() -> tuple[dict, dict, dict, list[str]]:
        site = await Organisation.select().where(Organisation.slug == "klinikum-sud").first()
        person = await Person.select().where(Person.email == "ana@sud.example").first()
        tie = await Relationship.select().first()
        actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action)]
        return site, person, tie, actions

    site, person, tie, actions = asyncio.run(stored())
    assert (site["name"], site["country"], site["external_id"]) == (
        "Klinikum Süd GmbH",
        "DE",
        "SITE-7",
    )
    assert (person["language"], person["receives_results"], person["role"]) == ("de", False, "pi")
    assert tie["active"] is False
    assert actions.count("organisation.create") == 3 and "relationship.deactivate" in actions
