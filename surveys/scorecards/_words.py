"""The words a scorecard is written in: names of layers, kinds, tiers and statuses, and
the `say` that writes a marked text in the audience's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from surveys.infra.i18n import N_, Text
from surveys.results.tier_assignments import Tier

LAYER_NAMES = {
    "quality": N_("Quality"),
    "dependability": N_("Dependability"),
    "speed": N_("Speed"),
    "cost": N_("Cost"),
}
KIND_NAMES = {
    "site": N_("Investigator site"),
    "sponsor": N_("Sponsor"),
    "cro": N_("CRO"),
    "network": N_("Site network"),
}
SIDE_NAMES = {"sponsor": N_("sponsor"), "site": N_("site")}
STATUS_NAMES = {
    "open": N_("open"),
    "in_progress": N_("in progress"),
    "done": N_("done"),
    "dropped": N_("dropped"),
}
TIER_NAMES = {
    Tier.strategic: N_("Strategic"),
    Tier.preferred: N_("Preferred"),
    Tier.approved: N_("Approved"),
    Tier.watch: N_("Watch"),
}

Say = Callable[..., str]
"""A text marked with N_ and its values, written in the scorecard's language."""


def say_in(language: str) -> Say:
    """Write texts in `language` (the scorecard's audience's)."""

    def say(message: str, **values: Any) -> str:
        return Text(message, values).render(language)

    return say


def tier_change(now: Tier | None, before: Tier | None, say: Say) -> str | None:
    """A tier's move since the last cycle in words: "up 1", "down 2", "same" or "new"."""
    if now is None:
        return None
    if before is None:
        return say(N_("new"))
    if now == before:
        return say(N_("same"))
    if now < before:
        return say(N_("up %(n)s"), n=int(before - now))
    return say(N_("down %(n)s"), n=int(now - before))


def tier_name(tier: Tier | None, say: Say) -> str | None:
    """A tier as readers say it: its number and its name ("3 Approved")."""
    return f"{tier.value} {say(TIER_NAMES[tier])}" if tier is not None else None
