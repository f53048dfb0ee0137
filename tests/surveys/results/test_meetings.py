"""Review meetings: the pack's agenda from the published run, action items, carry-over and
whether a closed item's dimension moved."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from piccolo.engine.base import Engine

from scoring.trends import mean_changes
from surveys.directory.audit import Act, AuditEntry
from surveys.directory.organisations import Relationship
from surveys.instruments import Dimension, Direction
from surveys.results.meetings import (
    ActionInput,
    ActionItem,
    ActionItemError,
    add_action,
    edit_action,
    set_status,
)
from surveys.results.score_runs import DimensionScore, EscalationFlag, PerceptionGap, scored_cycles
from surveys.results.tier_review import publish_cycle
from surveys.workspaces.meeting_pack import meeting_pack

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


async def _publish(count: int) -> list[str]:
    """Publish the oldest `count` scored cycles; return every scored cycle's key, oldest first."""
    keys = [str(c["key"]) for c in reversed(await scored_cycles())]
    for key in keys[:count]:
        await publish_cycle(key, Act("test", NOW))
    return keys


async def _relationship_with_flags() -> tuple[int, int]:
    """A relationship whose sponsor flagged its site in the latest published run."""
    run = int((await scored_cycles(("published",)))[0]["run"])
    for rel in await Relationship.select(Relationship.sponsor, Relationship.site):
        if await EscalationFlag.exists().where(
            (EscalationFlag.run == run)
            & (EscalationFlag.target == rel["site"])
            & (EscalationFlag.rater_organisation == rel["sponsor"])
            & EscalationFlag.shown.eq(True)
        ):
            return rel["sponsor"], rel["site"]
    raise AssertionError("the world raises flags")


async def _site_dimension(key: str = "data_accuracy") -> int:
    row = (
        await Dimension.select(Dimension.id)
        .where(
            (Dimension.key == key)
            & (Dimension.instrument.direction == Direction.sponsor_rates_site)
        )
        .first()
    )
    return int(row["id"])


async def test_the_agenda_comes_from_both_views_of_the_published_run(
    scored_world_db: Engine,
) -> None:
    await _publish(2)
    sponsor, site = await _relationship_with_flags()
    pack = await meeting_pack(sponsor, site, NOW.date())
    run = int((await scored_cycles(("published",)))[0]["run"])
    both = ((EscalationFlag.target == site) & (EscalationFlag.rater_organisation == sponsor)) | (
        (EscalationFlag.target == sponsor) & (EscalationFlag.rater_organisation == site)
    )
    flags = await EscalationFlag.count().where(
        (EscalationFlag.run == run) & EscalationFlag.shown.eq(True) & both
    )
    hidden = await EscalationFlag.count().where(
        (EscalationFlag.run == run) & EscalationFlag.shown.eq(False) & both
    )
    fix = await DimensionScore.count().where(
        (DimensionScore.run == run)
        & (DimensionScore.quadrant == "fix first")
        & DimensionScore.shown.eq(True)
        & DimensionScore.importance_shown.eq(True)
        & (
            ((DimensionScore.target == site) & (DimensionScore.rater_organisation == sponsor))
            | ((DimensionScore.target == sponsor) & (DimensionScore.rater_organisation == site))
        )
    )
    gaps = await PerceptionGap.count().where(
        (PerceptionGap.run == run)
        & (PerceptionGap.site == site)
        & (PerceptionGap.partner == sponsor)
        & PerceptionGap.shown.eq(True)
    )
    kinds = [p.kind for p in pack.agenda]
    assert kinds.count("flag") == flags > 0
    assert kinds.count("fix first") == fix
    assert kinds.count("gap") == min(gaps, 3)
    assert pack.cycle == (await scored_cycles(("published",)))[0]["key"]
    assert hidden == 0 or len(pack.agenda) < flags + hidden + fix + gaps, "hidden flags stay out"


async def test_open_items_carry_over_and_closed_ones_show_whether_their_dimension_moved(
    scored_world_db: Engine,
) -> None:
    keys = await _publish(1)
    sponsor, site = await _relationship_with_flags()
    dimension = await _site_dimension()
    given = ActionInput(
        "Double-check source data", "Study coordinator", "site", str(dimension), "2027-01-31"
    )
    fixed = await add_action(sponsor, site, given, Act("coordinator@example.org", NOW))
    kept = await add_action(
        sponsor, site, ActionInput("Monthly call", "CRA", "sponsor"), Act("cra@example.org", NOW)
    )
    await set_status(sponsor, site, fixed, "done", Act("coordinator@example.org", NOW))
    first = {a.id: a for a in (await meeting_pack(sponsor, site, NOW.date())).actions}
    assert first[fixed].effect is not None and "next cycle" in first[fixed].effect.verdict
    assert not first[kept].carried and first[fixed].overdue is False
    assert first[fixed].due_on == dt.date(2027, 1, 31)

    await publish_cycle(keys[1], Act("test", NOW))
    later = await meeting_pack(sponsor, site, dt.date(2027, 2, 1))
    by_id = {a.id: a for a in later.actions}
    assert by_id[kept].carried and by_id[kept].opened_in == keys[0]
    assert [a.id for a in later.actions] == [kept, fixed], "open items first"
    effect = by_id[fixed].effect
    assert effect is not None
    runs = {str(c["key"]): int(c["run"]) for c in await scored_cycles(("published",))}
    stored = pd.DataFrame(
        await DimensionScore.select(
            DimensionScore.run,
            DimensionScore.n_raters,
            DimensionScore.mean,
            DimensionScore.low,
            DimensionScore.high,
            DimensionScore.shown,
        ).where(
            DimensionScore.run.is_in([runs[keys[0]], runs[keys[1]]])
            & (DimensionScore.target == site)
            & (DimensionScore.rater_organisation == sponsor)
            & (DimensionScore.dimension == dimension)
        )
    ).assign(key=0)
    if stored["shown"].all() and len(stored) == 2:
        now, before = (stored[stored["run"] == runs[k]] for k in (keys[1], keys[0]))
        expected = mean_changes(now, before, ["key"]).iloc[0]
        assert effect.change == pytest.approx(expected["change"])
        assert effect.significant == bool(expected["significant"])
        assert effect.verdict in {
            "improved significantly",
            "declined significantly",
            "no significant change",
            "too few raters to tell a change from noise",
        }
    else:
        assert effect.change is None and "too few responses" in effect.verdict
    actions = [a["action"] for a in await AuditEntry.select(AuditEntry.action)]
    assert actions.count("action.add") == 2 and actions.count("action.status") == 1


WRONG = [
    (ActionInput(" ", "CRA", "sponsor"), "say what is to be done"),
    (ActionInput("Call", "", "sponsor"), "name who will do it"),
    (ActionInput("Call", "CRA", "both"), "sponsor or site"),
    (ActionInput("Call", "CRA", "site", "999999"), "listed dimensions"),
    (ActionInput("Call", "CRA", "site", "", "31/01/2026"), "YYYY-MM-DD"),
    (ActionInput("x" * 201, "CRA", "site"), "under 200"),
    (ActionInput("Call\x00", "CRA", "site"), "cannot be shown"),
    (ActionInput("Call", "CRA", "site", "", "2026-11-24"), "2026-11-24 has passed"),
]


async def test_a_wrong_action_item_is_refused_and_nothing_is_written(
    scored_world_db: Engine,
) -> None:
    await _publish(1)
    rel = await Relationship.select(Relationship.sponsor, Relationship.site).first()
    for given, message in WRONG:
        with pytest.raises(ActionItemError, match=message):
            await add_action(rel["sponsor"], rel["site"], given, Act("x@example.org", NOW))
    assert await ActionItem.count() == 0
    assert not await AuditEntry.exists().where(AuditEntry.action == "action.add")


async def test_a_cros_user_gets_the_pack_without_the_sites_view_of_the_sponsor(
    scored_world_db: Engine,
) -> None:
    await _publish(2)
    run = int((await scored_cycles(("published",)))[0]["run"])
    # a relationship in which the site's raters flagged the sponsor
    flag = (
        await EscalationFlag.select(EscalationFlag.target, EscalationFlag.rater_organisation)
        .where(
            (EscalationFlag.run == run)
            & EscalationFlag.shown.eq(True)
            & (EscalationFlag.target.kind == "sponsor")
            & EscalationFlag.rater_organisation.is_not_null()
        )
        .first()
    )
    sponsor, site = flag["target"], flag["rater_organisation"]
    full = await meeting_pack(sponsor, site, NOW.date())
    partial = await meeting_pack(sponsor, site, NOW.date(), sites_view=False)
    sponsor_name = full.sponsor
    assert any(p.text.startswith(sponsor_name) for p in full.agenda)
    assert not any(p.text.startswith(sponsor_name) for p in partial.agenda)
    assert not any(p.kind == "gap" for p in partial.agenda)
    assert [p for p in partial.agenda] == [
        p for p in full.agenda if p.kind != "gap" and not p.text.startswith(sponsor_name)
    ]


async def test_saying_done_again_keeps_the_cycle_an_item_was_closed_in(
    scored_world_db: Engine,
) -> None:
    keys = await _publish(1)
    sponsor, site = await _relationship_with_flags()
    item = await add_action(sponsor, site, ActionInput("Call", "CRA", "sponsor"), Act("a", NOW))
    await set_status(sponsor, site, item, "done", Act("a", NOW))
    await publish_cycle(keys[1], Act("test", NOW))
    await set_status(sponsor, site, item, "done", Act("a", NOW))
    await set_status(sponsor, site, item, "dropped", Act("a", NOW))
    row = await ActionItem.select(ActionItem.closed_in.key.as_alias("closed_in")).first()
    assert row["closed_in"] == keys[0], "closed in the first cycle, whatever was said later"
    await set_status(sponsor, site, item, "open", Act("a", NOW))
    assert (await ActionItem.select(ActionItem.closed_in).first())["closed_in"] is None
    changes = await AuditEntry.count().where(AuditEntry.action == "action.status")
    assert changes == 3, "saying the same status again is no change"


async def test_an_edit_keeps_a_past_due_date_but_cannot_move_it_to_another(
    scored_world_db: Engine,
) -> None:
    await _publish(1)
    sponsor, site = await _relationship_with_flags()
    given = ActionInput("Call", "CRA", "sponsor", "", "2026-11-25")  # NOW's day: not past
    item = await add_action(sponsor, site, given, Act("a", NOW))
    month_later = Act("b", NOW + dt.timedelta(days=30))
    renamed = ActionInput("Weekly call", "CRA", "sponsor", "", "2026-11-25")
    assert await edit_action(sponsor, site, item, renamed, month_later)
    assert not await edit_action(sponsor, site, item, renamed, month_later), "no change"
    moved = ActionInput("Weekly call", "CRA", "sponsor", "", "2026-12-01")
    with pytest.raises(ActionItemError, match="2026-12-01 has passed") as refused:
        await edit_action(sponsor, site, item, moved, month_later)
    assert refused.value.field == "due_on"
    row = await ActionItem.select(ActionItem.title, ActionItem.due_on).first()
    assert row == {"title": "Weekly call", "due_on": dt.date(2026, 11, 25)}
    edits = await AuditEntry.select(AuditEntry.actor).where(AuditEntry.action == "action.edit")
    assert edits == [{"actor": "b"}], "one entry, for the one edit that changed something"
