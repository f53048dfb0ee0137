"""Pages with a form: after a refusal they come back with what was typed, and the
reason said as a sentence (the tier review keeps its typed overrides here too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from surveys.accounts.policy import Viewer
from surveys.infra.i18n import Text, as_sentence
from surveys.results.meetings import ActionInput, ActionStatus, Side
from surveys.scorecards import REPLY_LIMIT
from surveys.workspaces.meeting_pack import Action, MeetingPack
from surveys.workspaces.places import Place


def sentence(error: Exception) -> str:
    """A refusal's message as a sentence for a page: capital first, full stop last."""
    return as_sentence(str(error))


def refusal(error: Exception) -> str | Text:
    """What a page says of a refusal, as a sentence in its reader's language: the text the
    error carries (a RapportError's marked message), else its own message (English, shown
    as it is)."""
    said = getattr(error, "said", None)
    return replace(said, sentence=True) if isinstance(said, Text) else sentence(error)


@dataclass(frozen=True)
class TypedOverride:
    """A tier override as it was typed, kept to show again after a refusal."""

    tier: str
    """The tier chosen, as posted ("" for the computed tier)."""
    reason: str


@dataclass(frozen=True)
class ReplyContext:
    """The rated partner's reply to its scorecard, before the cycle is published."""

    cycle: str
    """The scorecard's cycle."""
    subject: Place
    """The rated partner, who replies."""
    view: Place | None
    """For a site's scorecard, the sponsor whose raters' view it is; else None."""
    text: str
    """The reply as typed (empty at first)."""
    error: str | Text | None
    """Why the reply was not kept; None at first."""
    limit: int = REPLY_LIMIT
    """Characters a reply may have."""


@dataclass(frozen=True)
class MeetingContext:
    """A relationship's review meeting: the pack, its action items and the forms to add and
    edit them."""

    pack: MeetingPack
    """The agenda and action items from the latest published cycle."""
    sponsor_slug: str
    site_slug: str
    """The relationship's two sides, for the page's forms and links."""
    viewer: Viewer
    """Who is signed in."""
    given: ActionInput
    """What was typed, kept after a refusal (blank at first): into the add form, or into
    the edit form of item `refused`."""
    error: str | Text | None = None
    """Why the last change was refused, as a sentence."""
    error_field: str | None = None
    """The form field the refusal names (title, owner, side, dimension, due_on, status)."""
    refused: int | None = None
    """The item whose edit or status change was refused; None for the add form."""
    notice: str | None = None
    """What the last change did ("Saved."), said once after its redirect."""
    noticed: int | None = None
    """The item the notice is about, where it is shown."""
    sides: tuple[Side, ...] = tuple(Side)
    """The sides an item may be owned by."""
    statuses: tuple[ActionStatus, ...] = tuple(ActionStatus)
    """The statuses an item may move to."""

    @property
    def add_form(self) -> ActionInput:
        """The add form's values: what was typed if adding was refused, else blank."""
        return self.given if self.refused is None else ActionInput("", "", "")

    def edit_form(self, action: Action) -> ActionInput:
        """An item's edit form: what was typed if its edit was refused, else the item."""
        if self.refused == action.id and self.error_field != "status":
            return self.given
        return ActionInput(
            title=action.title,
            owner=action.owner,
            side=action.side.value,
            dimension="" if action.dimension_id is None else str(action.dimension_id),
            due_on="" if action.due_on is None else action.due_on.isoformat(),
        )


@dataclass(frozen=True)
class TokenListing:
    """One of a person's API tokens, as their tokens page lists it (never the token)."""

    id: int
    name: str
    """The name its owner gave it, e.g. the BI tool that uses it."""
    prefix: str
    """Its first characters, to tell it from the others."""
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    """None while it works."""

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> TokenListing:
        """A token as surveys.accounts.credentials.api_tokens reads it."""
        return cls(
            id=int(row["id"]),
            name=str(row["name"]),
            prefix=str(row["prefix"]),
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
            revoked_at=row["revoked_at"],
        )


@dataclass(frozen=True)
class TokensContext:
    """A person's own API tokens, and the form to make one."""

    viewer: Viewer
    """Who is signed in: the tokens' owner."""
    tokens: tuple[TokenListing, ...]
    """Newest first."""
    token: str | None
    """A token just made, shown this once; None otherwise."""
    error: str | Text | None
    """Why no token was made; None otherwise."""
    name: str
    """The name typed for a new token, kept after a refusal."""
