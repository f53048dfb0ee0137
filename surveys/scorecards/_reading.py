"""Reading a cycle's stored results for its scorecards: one query per table, every row
typed (`_rows`), with the figures the run hid blanked before anything else sees them."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from surveys.directory.organisations import Organisation, Person, Relationship
from surveys.instruments import Dimension, Direction
from surveys.responses.answers import Answer, ResponseStatus
from surveys.results.meetings import ActionItem
from surveys.results.score_runs import (
    DimensionScore,
    EscalationFlag,
    InstrumentReliability,
    PerceptionGap,
    TargetIndex,
)
from surveys.results.tier_assignments import Tier, TierAssignment, stored_tier, tier_in_force
from surveys.scorecards._rows import (
    Cell,
    DimensionDefinition,
    Org,
    ShownDimensionScore,
    ShownIndex,
    StoredAction,
    StoredAlpha,
    StoredFlag,
    StoredGap,
    StoredReply,
    StoredTier,
    View,
)
from surveys.scorecards._table import PartnerReply


async def shown_indices(runs: list[int]) -> dict[Cell, ShownIndex]:
    """Every view's index in these runs, hidden figures blank."""
    rows = await TargetIndex.select().where(TargetIndex.run.is_in(runs))
    return {
        (r["run"], r["target"], r["rater_organisation"]): ShownIndex.of(shown_only(r)) for r in rows
    }


async def shown_dimension_scores(runs: list[int]) -> dict[Cell, list[ShownDimensionScore]]:
    """Every view's dimension scores in these runs, hidden figures blank."""
    found: dict[Cell, list[ShownDimensionScore]] = defaultdict(list)
    for row in await DimensionScore.select().where(DimensionScore.run.is_in(runs)):
        cell = (row["run"], row["target"], row["rater_organisation"])
        found[cell].append(ShownDimensionScore.of(shown_only(row)))
    return dict(found)


async def shown_flags(run: int) -> dict[View, list[StoredFlag]]:
    """The run's escalation flags that may be shown, by view."""
    found: dict[View, list[StoredFlag]] = defaultdict(list)
    for row in await EscalationFlag.select().where(
        (EscalationFlag.run == run) & EscalationFlag.shown.eq(True)
    ):
        found[(row["target"], row["rater_organisation"])].append(
            StoredFlag(
                target=row["target"],
                rater_organisation=row["rater_organisation"],
                kind=row["kind"],
                dimension=row["dimension"],
                detail=row["detail"],
            )
        )
    return dict(found)


async def tier_assignments(cycle_id: int) -> dict[tuple[int, int], StoredTier]:
    """(assessor, target) → the cycle's tier assignment, as a scorecard prints it."""
    return {
        (r["assessor"], r["target"]): StoredTier(
            tier=tier_in_force(r),
            provisional=bool(r["provisional"]),
            override_reason=r["override_reason"] if r["override_tier"] else None,
            rule_trace=str(r["rule_trace"]),
        )
        for r in await TierAssignment.select().where(TierAssignment.cycle == cycle_id)
    }


async def tiers_in_force(cycle_id: int | None) -> dict[tuple[int, int], Tier]:
    """(assessor, target) → the tier in force in the cycle before, for the tier's movement."""
    if cycle_id is None:
        return {}
    return {
        (r["assessor"], r["target"]): stored_tier(r)
        for r in await TierAssignment.select().where(TierAssignment.cycle == cycle_id)
    }


async def dimension_definitions() -> dict[int, DimensionDefinition]:
    """Every dimension of every instrument version, by id."""
    rows = await Dimension.select(
        Dimension.id,
        Dimension.key,
        Dimension.name,
        Dimension.layer,
        Dimension.position,
        Dimension.mirror_key,
        Dimension.floor,
        Dimension.instrument._.direction.as_alias("direction"),
    ).output(load_json=True)
    return {
        r["id"]: DimensionDefinition(
            id=r["id"],
            key=r["key"],
            name=r["name"],
            layer=r["layer"],
            position=r["position"],
            mirror_key=r["mirror_key"],
            floor=r["floor"],
            direction=r["direction"],
        )
        for r in rows
    }


async def alphas(run: int) -> dict[int, StoredAlpha]:
    """Dimension id → its Cronbach's alpha in the run."""
    return {
        r["dimension"]: StoredAlpha(alpha=r["alpha"], low_alpha=bool(r["low_alpha"]))
        for r in await InstrumentReliability.select().where(InstrumentReliability.run == run)
    }


async def shown_gaps(run: int) -> list[StoredGap]:
    """The run's perception gaps that may be shown."""
    return [
        StoredGap(
            site=r["site"],
            partner=r["partner"],
            mirror=r["mirror"],
            site_view=r["site_view"],
            partner_view=r["partner_view"],
            gap=r["gap"],
        )
        for r in await PerceptionGap.select().where(
            (PerceptionGap.run == run) & PerceptionGap.shown.eq(True)
        )
    ]


async def replies(cycle_id: int) -> dict[str, StoredReply]:
    """The partners' replies to this cycle's scorecards, by `reply_key`."""
    return {
        r["key"]: StoredReply(
            key=r["key"], text=breakable(r["text"]), written_at=r["written_at"], by=r["by"]
        )
        for r in await PartnerReply.select(
            PartnerReply.key,
            PartnerReply.text,
            PartnerReply.written_at,
            PartnerReply.person._.name.as_alias("by"),
        ).where(PartnerReply.cycle == cycle_id)
    }


async def relationship_ids() -> dict[tuple[int, int], int]:
    """(sponsor, site) → the relationship's id, to find its action items."""
    return {
        (r["sponsor"], r["site"]): r["id"]
        for r in await Relationship.select(Relationship.id, Relationship.sponsor, Relationship.site)
    }


async def organisations() -> dict[int, Org]:
    """Every organisation, with the language its scorecards are written in."""
    languages: dict[int, Counter[str]] = defaultdict(Counter)
    for row in await Person.select(Person.organisation, Person.language).where(
        Person.active.eq(True)
    ):
        languages[row["organisation"]][row["language"] or "en"] += 1
    return {
        r["id"]: Org(
            id=r["id"],
            slug=r["slug"],
            name=breakable(r["name"]),
            kind=r["kind"],
            country=r["country"],
            network=r["network"],
            acts_for=r["acts_for"],
            # most common, ties to English, then alphabetically: the same choice every run
            language=min(languages[r["id"]].items(), key=lambda lc: (-lc[1], lc[0] != "en", lc[0]))[
                0
            ]
            if languages[r["id"]]
            else "en",
        )
        for r in await Organisation.select(
            Organisation.id,
            Organisation.slug,
            Organisation.name,
            Organisation.kind,
            Organisation.country,
            Organisation.network,
            Organisation.acts_for,
        )
    }


async def shown_comments(
    cycle_id: int, indices: dict[Cell, ShownIndex], run: int
) -> dict[View, list[str]]:
    """Each view's comments, only where the run allows them, sorted so their order tells
    nothing of who wrote them or when."""
    invitation = Answer.response._.invitation
    rows = await Answer.select(
        invitation._.target.as_alias("target"),
        invitation._.respondent._.organisation.as_alias("rater_org"),
        invitation._.relationship._.sponsor.as_alias("sponsor"),
        invitation._.instrument._.direction.as_alias("direction"),
        Answer.text,
    ).where(
        (invitation._.cycle == cycle_id)
        & (Answer.item._.kind == "text")
        & (Answer.response._.status == ResponseStatus.submitted.value)
        & Answer.text.is_not_null()
        & (Answer.text != "")
    )
    found: dict[View, list[str]] = defaultdict(list)
    for row in rows:
        by_site = row["direction"] == Direction.site_rates_sponsor
        view = row["rater_org"] if by_site else row["sponsor"]
        for key in ((row["target"], None), (row["target"], view)):
            index = indices.get((run, *key))
            if index is not None and index.comments_shown:
                found[key].append(breakable(str(row["text"]).strip()))
    return {key: sorted(texts, key=str.casefold) for key, texts in found.items()}


async def action_items() -> dict[int, list[StoredAction]]:
    """Relationship id → its action items, oldest first."""
    found: dict[int, list[StoredAction]] = defaultdict(list)
    for row in await ActionItem.select(
        ActionItem.relationship,
        ActionItem.title,
        ActionItem.owner,
        ActionItem.side,
        ActionItem.dimension,
        ActionItem.status,
        ActionItem.opened_in._.key.as_alias("opened_in"),
    ).order_by(ActionItem.id):
        found[row["relationship"]].append(
            StoredAction(
                title=row["title"],
                owner=row["owner"],
                side=row["side"],
                status=row["status"],
                dimension=row["dimension"],
                opened_in=row["opened_in"],
            )
        )
    return dict(found)


LONGEST_UNBROKEN = 30
"""Characters a word may run before the PDF may break it: an unbroken 5,000-character word
otherwise costs WeasyPrint minutes to lay out."""


def breakable(text: str) -> str:
    """Untrusted text with a zero-width space every LONGEST_UNBROKEN characters of any longer
    word, so it wraps on paper; it reads and copies the same.

    >>> breakable("a " + "x" * 65).split("\u200b")
    ['a xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'xxxxx']
    """
    words = text.split(" ")
    return " ".join(
        "\u200b".join(w[i : i + LONGEST_UNBROKEN] for i in range(0, len(w), LONGEST_UNBROKEN))
        if len(w) > LONGEST_UNBROKEN
        else w
        for w in words
    )


def shown_only(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with its figures blanked where the run hid them (DESIGN.md §4)."""
    if row.get("shown"):
        if "importance_shown" in row and not row["importance_shown"]:
            return row | {
                "stated_importance": None,
                "derived_importance": None,
                "importance": None,
                "quadrant": None,
            }
        if "trend_shown" in row and not row["trend_shown"]:
            return row | {"trend_slope": None, "trend_p": None, "predictability": None}
        return row
    kept = {
        "id",
        "run",
        "cycle",
        "target",
        "rater_organisation",
        "dimension",
        "shown",
        "comments_shown",
        "trend_shown",
        "importance_shown",
    }
    return {k: (v if k in kept else None) for k, v in row.items()}
