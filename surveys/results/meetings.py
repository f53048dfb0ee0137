"""Action items: what the two sides of a relationship agree to do after a review meeting.

An item (what, owner, side, due date, status) belongs to the relationship and may target
one dimension, so a later cycle can show whether that dimension moved. Adding an item and
editing or moving it are each one transaction with their audit entry, and the web page,
the API and any command go through the same checks here (`checked`). The meeting pack the
items are read into is `surveys.workspaces.meeting_pack`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from piccolo.columns import Column, Date, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.constraints import Check
from piccolo.table import Table

from surveys.cycles.cycle import Cycle, CycleStatus
from surveys.directory.audit import Act, record
from surveys.directory.organisations import Person, Relationship
from surveys.infra.database import lock_row, writing_transaction
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_
from surveys.instruments import Dimension, Direction
from surveys.instruments.questionnaires import localised
from surveys.results.score_runs import (
    scored_cycles,
)

TITLE_LIMIT = 200
OWNER_LIMIT = 120
EDITABLE = ("title", "owner", "side", "dimension", "due_on")
"""The fields of an item its two sides may change after adding it (its status apart)."""


class Side(StrEnum):
    """Whose action it is."""

    sponsor = "sponsor"
    site = "site"


class ActionStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    dropped = "dropped"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def closed(self) -> bool:
        return self in {ActionStatus.done, ActionStatus.dropped}


class ActionItem(Table):
    """Something one side of a relationship agreed to do after a review meeting."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    relationship = ForeignKey(Relationship, on_delete=OnDelete.cascade, null=False, index=True)
    opened_in = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=False)
    """The published cycle whose results the item answers."""
    title = Varchar(length=TITLE_LIMIT)
    owner = Varchar(length=OWNER_LIMIT)
    """Who carries it out: a name or a role, as agreed at the meeting."""
    side = Varchar(length=8, choices=Side)
    dimension = ForeignKey(Dimension, on_delete=OnDelete.set_null, null=True)
    """The dimension the item means to move, if any."""
    due_on = Date(null=True, default=None)
    status = Varchar(length=12, choices=ActionStatus, default="open")
    closed_in = ForeignKey(Cycle, on_delete=OnDelete.restrict, null=True)
    """The latest published cycle when the item was closed: its effect shows from the next."""
    created_by = ForeignKey(Person, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    action_item_side_is_known = Check("side IN ('sponsor', 'site')")
    action_item_status_is_known = Check("status IN ('open', 'in_progress', 'done', 'dropped')")
    action_item_title_not_blank = Check("length(trim(title)) > 0")


class ActionItemError(RapportError):
    """An action item that cannot be saved as asked; the message says why, and `field` names
    the form field at fault (None when no one field is)."""

    def __init__(self, message: str, field: str | None = None, **values: Any) -> None:
        super().__init__(message, **values)
        self.field = field


async def relationship_between(sponsor_id: int, site_id: int) -> int | None:
    row = (
        await Relationship.select(Relationship.id)
        .where((Relationship.sponsor == sponsor_id) & (Relationship.site == site_id))
        .first()
    )
    return int(row["id"]) if row else None


async def action_dimensions() -> tuple[tuple[int, str], ...]:
    """Every dimension of the latest version of each direction's instrument."""
    rows = await Dimension.select(
        Dimension.id,
        Dimension.name,
        Dimension.position,
        Dimension.instrument._.direction.as_alias("direction"),
        Dimension.instrument._.version.as_alias("version"),
    ).output(load_json=True)
    latest = {
        d: max(r["version"] for r in rows if r["direction"] == d)
        for d in {r["direction"] for r in rows}
    }
    chosen = [r for r in rows if r["version"] == latest[r["direction"]]]
    chosen.sort(key=lambda r: (r["direction"] != Direction.sponsor_rates_site, r["position"]))
    rated = {
        Direction.sponsor_rates_site: "the site's",
        Direction.site_rates_sponsor: "the sponsor's",
    }
    return tuple(
        (int(r["id"]), f"{localised(r['name'], 'en', '')} ({rated[r['direction']]})")
        for r in chosen
    )


@dataclass(frozen=True)
class ActionInput:
    """What a person typed for an action item, before it is checked."""

    title: str
    owner: str
    side: str
    dimension: str = ""
    due_on: str = ""


def today_of(act: Act) -> dt.date:
    """The day an act happens on: the server's date in UTC, whatever the time zone of the
    people at the meeting, so the page, the API and a command agree on what is past."""
    return act.at.astimezone(dt.UTC).date()


def due_date(text: str, today: dt.date, kept: dt.date | None = None) -> dt.date | None:
    """The due date typed, or None if left blank; refused if it is not a date, or is past.

    A date before `today` is refused unless it is `kept`, the one the item already has: an
    item that fell overdue may still be edited without moving its date, but nobody sets a
    due date that has already gone by.
    """
    if not text:
        return None
    try:
        due = dt.date.fromisoformat(text)
    except ValueError:
        raise ActionItemError(N_("write the due date as YYYY-MM-DD"), "due_on") from None
    if due < today and due != kept:
        raise ActionItemError(
            N_("the due date %(due)s has passed: choose today or a later day"),
            "due_on",
            due=due.isoformat(),
        )
    return due


def checked(
    given: ActionInput,
    dimensions: tuple[tuple[int, str], ...],
    today: dt.date,
    kept: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The item's fields, or ActionItemError naming the first field that is wrong.

    `kept` is the item as stored, when it is edited: its due date may stay though past, and
    its dimension though no longer on the latest instrument, as long as neither changes.
    """
    title, owner = given.title.strip(), given.owner.strip()
    for name, text in (("title", title), ("owner", owner)):
        if not text.isprintable():
            raise ActionItemError(N_("what was typed has a character that cannot be shown"), name)
    if not title:
        raise ActionItemError(N_("say what is to be done"), "title")
    if len(title) > TITLE_LIMIT:
        raise ActionItemError(
            N_("keep what is to be done under %(limit)s characters"), "title", limit=TITLE_LIMIT
        )
    if not owner:
        raise ActionItemError(N_("name who will do it"), "owner")
    if len(owner) > OWNER_LIMIT:
        raise ActionItemError(
            N_("keep the owner under %(limit)s characters"), "owner", limit=OWNER_LIMIT
        )
    if given.side not in {s.value for s in Side}:
        raise ActionItemError(N_("choose the side the action falls to: sponsor or site"), "side")
    dimension = None
    if given.dimension:
        ids = {str(d[0]): d[0] for d in dimensions}
        if kept and kept["dimension"] is not None:
            ids[str(kept["dimension"])] = int(kept["dimension"])
        if given.dimension not in ids:
            raise ActionItemError(N_("choose one of the listed dimensions, or none"), "dimension")
        dimension = ids[given.dimension]
    return {
        "title": title,
        "owner": owner,
        "side": given.side,
        "dimension": dimension,
        "due_on": due_date(given.due_on, today, kept["due_on"] if kept else None),
    }


async def add_action(
    sponsor_id: int,
    site_id: int,
    given: ActionInput,
    act: Act,
) -> int:
    """Record a new action item against the latest published cycle; returns its id."""
    relationship = await relationship_between(sponsor_id, site_id)
    if relationship is None:
        raise ActionItemError(N_("these two organisations do not work together"))
    fields = checked(given, await action_dimensions(), today_of(act))
    async with writing_transaction(ActionItem._meta.db):
        published = await scored_cycles((CycleStatus.published.value,))
        if not published:
            raise ActionItemError(N_("no cycle is published yet: actions follow a published cycle"))
        item = ActionItem(
            relationship=relationship,
            opened_in=published[0]["id"],
            status="open",
            created_by=act.person_id,
            created_at=act.at,
            updated_at=act.at,
            **fields,
        )
        item_id = int((await ActionItem.insert(item))[0]["id"])
        await record(
            act.actor,
            "action.add",
            "action_item",
            item_id,
            {"relationship": relationship, "title": fields["title"], "side": fields["side"]},
            act.person_id,
        )
    return item_id


async def edit_action(
    sponsor_id: int,
    site_id: int,
    item_id: int,
    given: ActionInput,
    act: Act,
) -> bool:
    """Change what an item says (what, owner, side, dimension, due date) with the checks of
    adding one; False if nothing differed, and then nothing is written.

    The audit entry keeps each changed field's value before and after, so the record of what
    the two sides agreed survives an edit.
    """
    relationship = await relationship_between(sponsor_id, site_id)
    dimensions = await action_dimensions()
    async with writing_transaction(ActionItem._meta.db):
        await lock_row(ActionItem, item_id)
        stored = (
            await ActionItem.select(*(ActionItem._meta.get_column_by_name(f) for f in EDITABLE))
            .where((ActionItem.id == item_id) & (ActionItem.relationship == relationship))
            .first()
        )
        if stored is None:
            raise ActionItemError(N_("no such action item in this relationship"))
        fields = checked(given, dimensions, today_of(act), stored)
        changed = {
            name: {"from": _plain(stored[name]), "to": _plain(value)}
            for name, value in fields.items()
            if stored[name] != value
        }
        if not changed:
            return False
        values: dict[Column | str, Any] = {name: value for name, value in fields.items()}
        values[ActionItem.updated_at] = act.at
        await ActionItem.update(values).where(ActionItem.id == item_id)
        await record(
            act.actor,
            "action.edit",
            "action_item",
            item_id,
            {"relationship": relationship, "changed": changed},
            act.person_id,
        )
    return True


def _plain(value: object) -> object:
    """A field's value as the audit log's JSON keeps it (a date as YYYY-MM-DD)."""
    return value.isoformat() if isinstance(value, dt.date) else value


async def set_status(
    sponsor_id: int,
    site_id: int,
    item_id: int,
    status: str,
    act: Act,
) -> bool:
    """Move an item to another status; closing it notes the cycle it was closed in. False
    if the item already had that status, and then nothing is written."""
    if status not in {s.value for s in ActionStatus}:
        raise ActionItemError(N_("choose open, in progress, done or dropped"), "status")
    relationship = await relationship_between(sponsor_id, site_id)
    async with writing_transaction(ActionItem._meta.db):
        mine = (ActionItem.id == item_id) & (ActionItem.relationship == relationship)
        await lock_row(ActionItem, item_id)
        item = await ActionItem.select(ActionItem.status, ActionItem.closed_in).where(mine).first()
        if item is None:
            raise ActionItemError(N_("no such action item in this relationship"))
        if item["status"] == status:
            return False  # a closed item keeps the cycle it was closed in
        was_closed, closing = ActionStatus(item["status"]).closed, ActionStatus(status).closed
        published = await scored_cycles((CycleStatus.published.value,))
        if closing and not was_closed:
            closed_in = published[0]["id"] if published else None
        else:  # done ↔ dropped keeps when it was closed; reopening forgets it
            closed_in = item["closed_in"] if closing else None
        await ActionItem.update(
            {
                ActionItem.status: status,
                ActionItem.updated_at: act.at,
                ActionItem.closed_in: closed_in,
            }
        ).where(ActionItem.id == item_id)
        await record(
            act.actor,
            "action.status",
            "action_item",
            item_id,
            {"from": item["status"], "to": status},
            act.person_id,
        )
    return True
