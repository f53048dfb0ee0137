"""A cycle's scorecards in bulk: written whole, skipped when unchanged, resumed after an
interruption, a failure on one reported while the rest go on; the command's clear errors."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from surveys.directory.organisations import Organisation
from surveys.scorecards import RenderedScorecard, ScorecardError, render_cycle
from tests.surveys.cli.test_cli import assert_one_clear_line, rapport
from tests.surveys.scorecards.test_scorecards import latest_scored

pytestmark = pytest.mark.anyio


async def a_scored_sponsor() -> tuple[str, set[str]]:
    """The latest scored cycle, and a sponsor to render scorecards for."""
    sponsor = (
        await Organisation.select(Organisation.slug).where(Organisation.kind == "sponsor").first()
    )
    return await latest_scored(), {str(sponsor["slug"])}


async def test_a_batch_writes_each_scorecard_once_and_resumes_where_it_stopped(
    scored_world_db: Engine, tmp_path: Path
) -> None:
    key, audience = await a_scored_sponsor()

    first = await render_cycle(key, tmp_path, "a4", 1, audience)
    assert first.failed == [] and len(first.written) >= 2 and first.skipped == 0
    files = sorted((tmp_path / key).rglob("*.pdf"))
    assert len(files) == len(first.written)
    assert all(f.read_bytes().startswith(b"%PDF-") for f in files)
    assert not list((tmp_path / key).rglob("*.partial")), "no half-written file is left"
    with (tmp_path / key / "index.csv").open(encoding="utf-8") as index:
        listed = [row["file"] for row in csv.DictReader(index)]
    assert sorted(listed) == sorted(f"{name}.pdf" for name in first.written)
    assert await RenderedScorecard.count() == len(first.written)

    again = await render_cycle(key, tmp_path, "a4", 1, audience)
    assert again.written == [] and again.skipped == len(first.written), "nothing changed"

    # an interrupted batch: one PDF never made it to disk
    files[0].unlink()
    resumed = await render_cycle(key, tmp_path, "a4", 1, audience)
    assert len(resumed.written) == 1 and resumed.skipped == len(first.written) - 1


async def test_a_scorecard_that_cannot_be_written_is_reported_and_the_rest_go_on(
    scored_world_db: Engine, tmp_path: Path
) -> None:
    key, audience = await a_scored_sponsor()
    planned = await render_cycle(key, tmp_path / "dry", "a4", 1, audience)
    blocked = tmp_path / "out" / key / f"{planned.written[0]}.pdf"
    blocked.mkdir(parents=True)  # a folder where the file should go: it cannot be replaced
    report = await render_cycle(key, tmp_path / "out", "a4", 1, audience)
    assert [name for name, _ in report.failed] == [planned.written[0]]
    assert "could not write" in report.failed[0][1]
    assert len(report.written) == len(planned.written) - 1, "the others were written"


async def test_an_audience_with_no_scorecard_is_named(
    scored_world_db: Engine, tmp_path: Path
) -> None:
    key, _ = await a_scored_sponsor()
    with pytest.raises(ScorecardError, match="has no scorecard for nobody-at-all"):
        await render_cycle(key, tmp_path, "a4", 1, {"nobody-at-all"})
    assert not (tmp_path / key).exists(), "nothing was written"


def test_the_command_names_a_cycle_that_is_not_scored(blank_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": blank_url, "RAPPORT_VAR_DIR": str(tmp_path / "var")}
    assert rapport("migrate", env=env).returncode == 0
    result = rapport("scorecards", "--cycle", "2031-Q1", "--out", str(tmp_path), env=env)
    assert_one_clear_line(result, "there is no cycle '2031-Q1'")


async def test_each_scorecard_is_mailed_to_its_results_recipients_once(
    scored_world_db: Engine, tmp_path: Path
) -> None:
    import datetime as dt
    from email import message_from_bytes, policy

    from surveys.directory.organisations import Person, Relationship, RelationshipContact
    from surveys.infra.mail import Mailer, Outbox
    from surveys.scorecards import mail_scorecards

    key = await latest_scored()
    now = dt.datetime.now(dt.UTC)
    # by default a sponsor's results go to the people named on its relationships
    contacts = await RelationshipContact.select(
        RelationshipContact.person,
        RelationshipContact.person.organisation.as_alias("organisation"),
        RelationshipContact.relationship.sponsor.as_alias("sponsor"),
    )
    by_sponsor: dict[int, set[int]] = {}
    for row in contacts:
        if row["organisation"] == row["sponsor"]:
            by_sponsor.setdefault(row["sponsor"], set()).add(row["person"])
    busiest = max(by_sponsor, key=lambda org: len(by_sponsor[org]))
    sponsor = (
        await Organisation.select(Organisation.id, Organisation.slug)
        .where(Organisation.id == busiest)
        .first()
    )
    named = sorted(by_sponsor[busiest])
    assert len(named) >= 3
    staff = await Person.select(Person.id, Person.email, Person.role).where(
        Person.organisation == sponsor["id"]
    )
    executive = next(p for p in staff if p["role"] == "executive")
    await Person.update({Person.receives_results: True}).where(Person.id == executive["id"])
    await Person.update({Person.receives_results: False}).where(Person.id == named[0])
    await Person.update({Person.active: False}).where(Person.id == named[1])
    receiving = {p["email"] for p in staff if p["id"] in named[2:]} | {executive["email"]}
    # a site with a name no plain file name holds
    site = await Relationship.select(Relationship.site).where(Relationship.sponsor == sponsor["id"])
    await Organisation.update({Organisation.name: "Höxter University Hospital"}).where(
        Organisation.id == site[0]["site"]
    )
    audience = {str(sponsor["slug"])}
    written = await render_cycle(key, tmp_path, "a4", 1, audience)
    outbox = Outbox(tmp_path / "outbox")
    mailer = Mailer("k", "https://rapport.example.org", "Rapport <r@example.org>", outbox)

    first = await mail_scorecards(key, tmp_path, mailer, now, audience)
    assert first.failed == [] and first.unread == []
    assert first.sent == len(receiving) * len(written.written)
    letters = [
        message_from_bytes(f.read_bytes(), policy=policy.default)
        for f in (tmp_path / "outbox").iterdir()
    ]
    assert {str(m["To"]).split("<")[1].rstrip(">") for m in letters} == receiving
    attached = [
        part for m in letters for part in m.walk() if part.get_content_type() == "application/pdf"
    ]
    assert len(attached) == len(letters)
    assert all(part.get_payload(decode=True).startswith(b"%PDF-") for part in attached)
    names = {part.get_filename() for part in attached}
    assert f"Rapport scorecard – Höxter University Hospital – {key}.pdf" in names
    assert all(
        name.startswith("Rapport scorecard – ") and name.endswith(f" – {key}.pdf") for name in names
    )
    raw = next(
        f.read_bytes()
        for f in (tmp_path / "outbox").iterdir()
        if b"H=C3=B6xter" in f.read_bytes() or b"H%C3%B6xter" in f.read_bytes()
    )
    # RFC 2231: UTF-8, percent-encoded, in continuations (filename*0*, filename*1*, …)
    assert b"filename*0*=utf-8''Rapport%20scorecard%20%E2%80%93%20H%C3%B6xter" in raw
    assert "https://rapport.example.org/" in letters[0].get_body(("plain",)).get_content()

    again = await mail_scorecards(key, tmp_path, mailer, now, audience)
    assert again.sent == 0 and again.already == first.sent, "never the same scorecard twice"


async def test_results_go_by_role_unless_a_person_says_otherwise(scored_world_db: Engine) -> None:
    from surveys.directory.organisations import Person
    from surveys.directory.recipients import receives_by_default, results_recipients

    assert receives_by_default("site", "pi", False) and receives_by_default(
        "site", "site_director", False
    )
    assert not receives_by_default("site", "coordinator", True)
    assert receives_by_default("cro", "cra", True) and not receives_by_default(
        "sponsor", "executive", False
    )
    assert not receives_by_default("network", "executive", True)
    site = await Organisation.select(Organisation.id).where(Organisation.kind == "site").first()
    staff = await Person.select(Person.id, Person.role).where(Person.organisation == site["id"])
    by_role = {p["id"] for p in staff if p["role"] in ("pi", "site_director")}
    found = await results_recipients({site["id"]})
    assert {r.id for r in found[site["id"]]} == by_role
    coordinator = next(p["id"] for p in staff if p["role"] == "coordinator")
    pi = next(p["id"] for p in staff if p["role"] == "pi")
    await Person.update({Person.receives_results: True}).where(Person.id == coordinator)
    await Person.update({Person.receives_results: False}).where(Person.id == pi)
    found = await results_recipients({site["id"]})
    assert {r.id for r in found[site["id"]]} == by_role - {pi} | {coordinator}
    await Person.update({Person.erased_at: dt.datetime.now(dt.UTC)}).where(Person.id == coordinator)
    found = await results_recipients({site["id"]})
    assert coordinator not in {r.id for r in found.get(site["id"], [])}, "erased: never"
