"""What a demo needs of a built world: its open cycle kept open, and fresh links into it.

The world's cycles have fixed dates; a demo (or a test that answers a survey) runs on
any later day, so each run moves the open cycle's close on and issues links it can show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from surveys.cycles.cycle import Cycle
from surveys.cycles.invitations import Invitation
from surveys.infra.database import writing_transaction
from surveys.infra.tokens import link_token, new_nonce, token_hash
from surveys.world._tables import SimulatedWorld

DEMO_OPEN_DAYS = 28
"""How long the demo's open cycle stays open after each `rapport demo`."""


async def keep_open_cycles_open(now: dt.datetime) -> None:
    """Keep the open cycles, and their links, open for DEMO_OPEN_DAYS from `now`.

    The synthetic world's cycles have fixed dates (its open cycle closes on 1 December
    2026), so without this a demo, or a test that answers a survey, would find that cycle
    closed once the calendar had passed it.
    """
    closes = now + dt.timedelta(days=DEMO_OPEN_DAYS)
    async with writing_transaction(Cycle._meta.db):
        open_cycles = [
            row["id"] for row in await Cycle.select(Cycle.id).where(Cycle.status == "open")
        ]
        if open_cycles:
            await Cycle.update({Cycle.closes_at: closes}).where(
                Cycle.id.is_in(open_cycles) & (Cycle.closes_at < closes)
            )
            await Invitation.update({Invitation.expires_at: closes}).where(
                Invitation.cycle.is_in(open_cycles) & (Invitation.expires_at < closes)
            )


async def sample_links(
    base_url: str, now: dt.datetime, secret: str, count: int = 3
) -> list[dict[str, Any]]:
    """Issue fresh links for a few open invitations (one per language where possible).

    Only hashes are stored, so the demo cannot show an existing link: it replaces the
    token of a handful of invitations and prints those links instead. The synthetic
    world's open cycle has fixed dates, so a demo run months later would hand out links
    to a closed survey; each run therefore keeps that cycle open for DEMO_OPEN_DAYS more.
    """
    if not await SimulatedWorld.exists():
        return []
    await keep_open_cycles_open(now)
    rows = (
        await Invitation.select(
            Invitation.id,
            Invitation.respondent.name,
            Invitation.respondent.language,
            Invitation.target.name,
        )
        .where((Invitation.cycle.status == "open") & (Invitation.status.is_in(["created", "sent"])))
        .order_by(Invitation.id)
    )
    chosen: list[dict[str, Any]] = []
    languages: set[str] = set()
    for row in rows:
        if row["respondent.language"] not in languages:
            chosen.append(row)
            languages.add(row["respondent.language"])
        if len(chosen) == count:
            break
    links = []
    for row in chosen:
        # a derivable link (like a real cycle's), so the demo can also e-mail it
        nonce = new_nonce()
        token = link_token(secret, nonce)
        await Invitation.update(
            {Invitation.token_hash: token_hash(token), Invitation.token_nonce: nonce}
        ).where(Invitation.id == row["id"])
        links.append(
            {
                "url": f"{base_url}/s/{token}",
                "respondent": row["respondent.name"],
                "language": row["respondent.language"],
                "target": row["target.name"],
                "invitation": row["id"],
            }
        )
    return links
