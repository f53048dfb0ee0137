"""The rated partner's written reply to its scorecard (as supplier-scorecard tools let
suppliers answer theirs): written before the cycle is published, printed beside the
scores, and kept in the audit log."""

from __future__ import annotations

from surveys.cycles.cycle import Cycle, CycleStatus
from surveys.directory import audit
from surveys.directory.audit import Act
from surveys.infra.database import writing_transaction
from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_, Text
from surveys.scorecards._table import PartnerReply, reply_key

REPLY_LIMIT = 2000
"""Characters a reply may hold: a short answer beside the scores, not a second report."""


class ReplyError(RapportError):
    """A reply cannot be kept; the message says why."""


NOT_WAITING = {
    CycleStatus.draft.value: N_(
        "cycle %(cycle)s is draft: a reply can be written only while a scored cycle waits for "
        "publication"
    ),
    CycleStatus.open.value: N_(
        "cycle %(cycle)s is open: a reply can be written only while a scored cycle waits for "
        "publication"
    ),
    CycleStatus.closed.value: N_(
        "cycle %(cycle)s is closed: a reply can be written only while a scored cycle waits for "
        "publication"
    ),
    CycleStatus.published.value: N_(
        "cycle %(cycle)s is published: a reply can be written only while a scored cycle waits "
        "for publication"
    ),
    "unknown": N_(
        "cycle %(cycle)s is unknown: a reply can be written only while a scored cycle waits "
        "for publication"
    ),
}
"""Why a reply is refused in a cycle that is not scored, one message per status (so the
status is said in the reader's language)."""


async def write_reply(
    cycle_key: str,
    subject_id: int,
    view_id: int | None,
    text: str,
    act: Act,
) -> None:
    """Keep (or replace) the partner's reply to one scorecard of a scored cycle.

    Refused once the cycle is published: what was published is what both sides discussed.
    """
    text = text.strip().replace("\r\n", "\n")
    if not text:
        raise ReplyError(N_("write a reply first: it is empty"))
    if len(text) > REPLY_LIMIT:
        error = ReplyError(
            N_("a reply may be %(limit)s characters at most; this one has %(length)s"),
            limit=f"{REPLY_LIMIT:,}",
            length=f"{len(text):,}",
        )  # the English keeps its thousands separators; a page writes the numbers its way
        error.said = Text(
            error.said.message if error.said else "", {"limit": REPLY_LIMIT, "length": len(text)}
        )
        raise error
    async with writing_transaction(PartnerReply._meta.db):
        cycle = await Cycle.select(Cycle.id, Cycle.status).where(Cycle.key == cycle_key).first()
        if cycle is None or cycle["status"] != CycleStatus.scored.value:
            status = cycle["status"] if cycle else "unknown"
            raise ReplyError(
                NOT_WAITING.get(status, NOT_WAITING["unknown"]), cycle=cycle_key, status=status
            )
        key = reply_key(cycle["id"], subject_id, view_id)
        existing = await PartnerReply.select(PartnerReply.id).where(PartnerReply.key == key).first()
        if existing:
            await PartnerReply.update(
                {
                    PartnerReply.text: text,
                    PartnerReply.person: act.person_id,
                    PartnerReply.written_at: act.at,
                }
            ).where(PartnerReply.id == existing["id"])
            reply_id = existing["id"]
        else:
            rows = await PartnerReply.insert(
                PartnerReply(
                    key=key,
                    cycle=cycle["id"],
                    subject=subject_id,
                    rater_organisation=view_id,
                    text=text,
                    person=act.person_id,
                    written_at=act.at,
                )
            )
            reply_id = rows[0]["id"]
        await audit.record(
            act.actor,
            "scorecard.reply",
            "partner_reply",
            reply_id,
            {"cycle": cycle_key, "text": text},
            act.person_id,
        )
