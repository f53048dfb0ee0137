"""Scorecards e-mailed to their audience, through the same delivery as invitations.

The audience of a scorecard is an organisation; its readers are the people there who hold
an account with a grant on it. Each person gets the PDF attached, once: what was sent is
kept (scorecard, content hash, person), so running the mailing again sends only what is
new or changed, and a failed delivery is reported and tried again next time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

from surveys.accounts.credentials import AccessGrant
from surveys.cycles.life_cycle import Mailer
from surveys.infra.i18n import translated
from surveys.infra.mail import MAIL_DOMAIN, DeliveryError
from surveys.infra.templating import environment
from surveys.scorecards._table import RenderedScorecard, ScorecardMailing


@dataclass
class MailReport:
    """What a mailing did."""

    sent: int = 0
    already: int = 0
    """Scorecards each person had already been sent."""
    failed: list[str] = field(default_factory=list)


async def mail_scorecards(
    cycle_key: str,
    out: Path,
    mailer: Mailer,
    now: dt.datetime,
    audiences: set[str] | None = None,
) -> MailReport:
    """E-mail each written scorecard of a cycle to its audience's readers, once each."""
    card = RenderedScorecard
    rows = await card.select(
        card.id,
        card.key,
        card.content_hash,
        card.file_path,
        card.language,
        card.audience,
        card.audience.slug.as_alias("audience_slug"),
        card.subject.name.as_alias("subject"),
        card.kind,
    ).where(card.cycle.key == cycle_key)
    readers = await _readers({r["audience"] for r in rows})
    sent = {
        r["key"]
        for r in await ScorecardMailing.select(ScorecardMailing.key).where(
            ScorecardMailing.scorecard.is_in([r["id"] for r in rows] or [0])
        )
    }
    report = MailReport()
    for row in rows:
        if audiences is not None and row["audience_slug"] not in audiences:
            continue
        for person in readers.get(row["audience"], []):
            key = f"{row['key']}/{row['content_hash'][:16]}/{person['id']}"
            if key in sent:
                report.already += 1
                continue
            path = out / cycle_key / row["file_path"]
            try:
                message = _message(row, person, path.read_bytes(), cycle_key, key, mailer, now)
                await mailer.delivery.deliver(message, person["email"])
            except (OSError, DeliveryError) as error:
                report.failed.append(f"{row['key']} to {person['email']}: {error}")
                continue
            await ScorecardMailing.insert(
                ScorecardMailing(key=key, scorecard=row["id"], person=person["id"], sent_at=now)
            )
            report.sent += 1
    return report


async def _readers(organisations: set[int]) -> dict[int, list[dict[str, object]]]:
    """The people of each organisation who sign in to read its results."""
    grant = AccessGrant
    rows = await grant.select(
        grant.organisation,
        grant.account.person.id.as_alias("id"),
        grant.account.person.name.as_alias("name"),
        grant.account.person.email.as_alias("email"),
    ).where(
        grant.organisation.is_in(list(organisations) or [0])
        & grant.account.active.eq(True)
        & grant.account.person.active.eq(True)
    )
    found: dict[int, dict[object, dict[str, object]]] = {}
    for row in rows:
        found.setdefault(row["organisation"], {})[row["id"]] = row
    return {org: list(people.values()) for org, people in found.items()}


def _message(
    row: dict[str, object],
    person: dict[str, object],
    pdf: bytes,
    cycle: str,
    key: str,
    mailer: Mailer,
    now: dt.datetime,
) -> EmailMessage:
    """The scorecard as an e-mail in the audience's language, the PDF attached."""
    language = str(row["language"])
    context = translated(
        {
            "name": person["name"],
            "subject": row["subject"],
            "cycle": cycle,
            "link": f"{mailer.public_url}/",
        },
        language,
    )
    message = EmailMessage()
    message["From"] = mailer.sender
    message["To"] = formataddr((str(person["name"]), str(person["email"])))
    message["Subject"] = (
        environment().get_template("email/scorecard_subject.txt").render(context).strip()
    )
    message["Date"] = format_datetime(now)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<scorecard-{digest}@{MAIL_DOMAIN}>"
    message.set_content(environment().get_template("email/scorecard.txt").render(context))
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"scorecard-{cycle}.pdf"
    )
    message["Content-Language"] = language
    return message
