"""A cycle's live progress: counts per group, furthest behind first, and who to chase."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from piccolo.engine.base import Engine

from surveys.cycles.invitations import Invitation
from surveys.cycles.life_cycle import create_cycle, open_cycle
from surveys.cycles.progress import GROUPINGS, cycle_status, not_answered
from surveys.infra.mail import Mailer, Outbox
from surveys.infra.pagination import PastLastPageError

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


async def a_running_cycle(tmp_path: Path) -> pd.DataFrame:
    """Open 2027-Q1 and move some invitations on; return every invitation with its groups."""
    await create_cycle("2027-Q1", "Q1 2027", NOW + dt.timedelta(days=90), NOW)
    mailer = Mailer("k", "https://x.example", "a@b.org", Outbox(tmp_path / "outbox"))
    await open_cycle("2027-Q1", NOW, mailer)
    ids = [
        row["id"]
        for row in await Invitation.select(Invitation.id)
        .where(Invitation.cycle.key == "2027-Q1")
        .order_by(Invitation.id)
    ]
    moves = {"opened": ids[0:40:4], "in_progress": ids[1:40:4], "submitted": ids[2:60:3]}
    for status, chosen in moves.items():
        await Invitation.update(
            {Invitation.status: status, Invitation.submitted_at: NOW, Invitation.sent_at: NOW}
        ).where(Invitation.id.is_in(chosen))
    await Invitation.update(
        {Invitation.undeliverable_at: NOW, Invitation.delivery_problem: "550 gone"}
    ).where(Invitation.id.is_in(ids[-3:]))
    return pd.DataFrame(
        await Invitation.select(
            Invitation.respondent,
            Invitation.status,
            Invitation.undeliverable_at,
            Invitation.respondent.organisation.slug.as_alias("organisation"),
            Invitation.respondent.organisation.country.as_alias("country"),
            Invitation.respondent.role.as_alias("role"),
            Invitation.instrument.direction.as_alias("direction"),
        ).where(Invitation.cycle.key == "2027-Q1")
    )


async def test_status_counts_each_stage_per_group_furthest_behind_first(
    world_db: Engine, tmp_path: Path
) -> None:
    table = await a_running_cycle(tmp_path)
    table["country"] = table["country"].fillna("")
    reached = table["status"].map(
        {"created": 0, "sent": 0, "opened": 1, "in_progress": 2, "submitted": 3}
    )
    table = table.assign(
        invited=1,
        opened=(reached >= 1).astype(int),
        in_progress=(reached >= 2).astype(int),
        submitted=(reached >= 3).astype(int),
        undeliverable=table["undeliverable_at"].notna().astype(int),
    )
    counts = ["invited", "opened", "in_progress", "submitted", "undeliverable"]
    for by in GROUPINGS:
        report = await cycle_status("2027-Q1", by)
        expected = table.groupby(by)[counts].sum()
        people = table.groupby(by)["respondent"].nunique()
        got = {row.key: [getattr(row, c) for c in counts] for row in report.rows}
        assert got == {k: v.tolist() for k, v in expected.iterrows()}, by
        assert {row.key: row.people for row in report.rows} == people.to_dict()
        rates = [row.response_rate for row in report.rows]
        assert rates == sorted(rates), "furthest behind first"
        assert [getattr(report.total, c) for c in counts] == table[counts].sum().tolist()
        assert report.total.people == table["respondent"].nunique()
    assert report.total.submitted == len(range(2, 60, 3))
    directions = (await cycle_status("2027-Q1", "organisation")).rows
    assert {row.direction for row in directions} == {"site_rates_sponsor", "sponsor_rates_site"}
    with pytest.raises(ValueError, match="group by one of"):
        await cycle_status("2027-Q1", "colour")  # type: ignore[arg-type]


async def test_those_who_have_not_answered_are_listed_a_page_at_a_time(
    world_db: Engine, tmp_path: Path
) -> None:
    table = await a_running_cycle(tmp_path)
    waiting = table[table["status"] != "submitted"]
    first = await not_answered("2027-Q1", per_page=10)
    assert first.total == waiting["respondent"].nunique() and len(first.items) == 10
    second = await not_answered("2027-Q1", page=2, per_page=10)
    assert not {p.person_id for p in first.items} & {p.person_id for p in second.items}
    ordered = [(p.organisation, p.name) for p in first.items + second.items]
    assert ordered == sorted(ordered)
    someone = second.items[0]
    partners = await Invitation.select(Invitation.target.name.as_alias("name")).where(
        (Invitation.cycle.key == "2027-Q1")
        & (Invitation.respondent == someone.person_id)
        & (Invitation.status != "submitted")
    )
    assert someone.partners == tuple(sorted(row["name"] for row in partners))
    assert someone.reminders == 0
    assert someone.last_email is None or someone.last_email.tzinfo is not None
    found = await not_answered("2027-Q1", someone.email.split("@")[0].upper())
    assert [p.person_id for p in found.items] == [someone.person_id]
    assert (await not_answered("2027-Q1", "100%_sure")).total == 0
    refused = [p for p in (await not_answered("2027-Q1", per_page=500)).items if p.undeliverable]
    assert {p.undeliverable for p in refused} == {"550 gone"}
    with pytest.raises(PastLastPageError):
        await not_answered("2027-Q1", page=first.pages + 1, per_page=10)
