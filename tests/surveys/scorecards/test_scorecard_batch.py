"""A cycle's scorecards in bulk: written whole, skipped when unchanged, resumed after an
interruption, a failure on one reported while the rest go on; the command's clear errors."""

from __future__ import annotations

import csv
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


async def test_each_scorecard_is_mailed_to_its_readers_once(
    scored_world_db: Engine, tmp_path: Path
) -> None:
    import datetime as dt
    from email import message_from_bytes

    from surveys.accounts.credentials import GrantRole, create_account
    from surveys.directory.organisations import Person
    from surveys.infra.mail import Mailer, Outbox
    from surveys.scorecards import mail_scorecards

    key = await latest_scored()
    now = dt.datetime.now(dt.UTC)
    sponsor = (
        await Organisation.select(Organisation.id, Organisation.slug)
        .where(Organisation.kind == "sponsor")
        .first()
    )
    readers = await Person.select(Person.email).where(Person.organisation == sponsor["id"])
    for person in readers[:2]:
        await create_account(person["email"], [(GrantRole.sponsor_user, sponsor["id"])], now)
    audience = {str(sponsor["slug"])}
    written = await render_cycle(key, tmp_path, "a4", 1, audience)
    outbox = Outbox(tmp_path / "outbox")
    mailer = Mailer("k", "https://rapport.example.org", "Rapport <r@example.org>", outbox)

    first = await mail_scorecards(key, tmp_path, mailer, now, audience)
    assert first.failed == [] and first.sent == 2 * len(written.written)
    letters = [message_from_bytes(f.read_bytes()) for f in (tmp_path / "outbox").iterdir()]
    assert {str(m["To"]).split("<")[1].rstrip(">") for m in letters} == {
        p["email"] for p in readers[:2]
    }
    attached = [
        part for m in letters for part in m.walk() if part.get_content_type() == "application/pdf"
    ]
    assert len(attached) == len(letters)
    assert all(part.get_payload(decode=True).startswith(b"%PDF-") for part in attached)
    assert (
        "https://rapport.example.org/"
        in letters[0].get_payload(0).get_payload(decode=True).decode()
    )

    again = await mail_scorecards(key, tmp_path, mailer, now, audience)
    assert again.sent == 0 and again.already == first.sent, "never the same scorecard twice"
