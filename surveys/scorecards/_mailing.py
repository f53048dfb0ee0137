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
from surveys.infra.i18n import translated
from surveys.infra.mail import MAIL_DOMAIN, DeliveryError, Mailer
from surveys.infra.templating import environment
from surveys.scorecards._table import RenderedScorecard, ScorecardMailing


@dataclass
class MailReport:
    """What a mailing did."""

    sent: int = 0
    already: int = 0
    """Scorecards each person had already been sent."""
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScorecardToMail:
    """A scorecard file a batch wrote, as the mailing reads it."""

    id: int
    key: str
    content_hash: str
    file_path: str
    """Relative to the batch's folder."""
    language: str
    audience: int
    audience_slug: str
    subject: str
    """The name of the partner it is about."""


@dataclass(frozen=True)
class ScorecardReader:
    """A person who signs in to read an organisation's results, and so receives its scorecards."""

    id: int
    name: str
    email: str


async def mail_scorecards(
    cycle_key: str,
    out: Path,
    mailer: Mailer,
    now: dt.datetime,
    audiences: set[str] | None = None,
) -> MailReport:
    """E-mail each written scorecard of a cycle to its audience's readers, once each."""
    cards = await _written(cycle_key)
    readers = await _readers({card.audience for card in cards})
    sent = {
        r["key"]
        for r in await ScorecardMailing.select(ScorecardMailing.key).where(
            ScorecardMailing.scorecard.is_in([card.id for card in cards] or [0])
        )
    }
    report = MailReport()
    for card in cards:
        if audiences is not None and card.audience_slug not in audiences:
            continue
        for person in readers.get(card.audience, []):
            key = f"{card.key}/{card.content_hash[:16]}/{person.id}"
            if key in sent:
                report.already += 1
                continue
            path = out / cycle_key / card.file_path
            try:
                message = _message(card, person, path.read_bytes(), cycle_key, key, mailer, now)
                await mailer.delivery.deliver(message, person.email)
            except (OSError, DeliveryError) as error:
                report.failed.append(f"{card.key} to {person.email}: {error}")
                continue
            await ScorecardMailing.insert(
                ScorecardMailing(key=key, scorecard=card.id, person=person.id, sent_at=now)
            )
            report.sent += 1
    return report


async def _written(cycle_key: str) -> list[ScorecardToMail]:
    """Every scorecard file written for the cycle."""
    card = RenderedScorecard
    rows = await card.select(
        card.id,
        card.key,
        card.content_hash,
        card.file_path,
        card.language,
        card.audience,
        card.audience._.slug.as_alias("audience_slug"),
        card.subject._.name.as_alias("subject"),
        card.kind,
    ).where(card.cycle._.key == cycle_key)
    return [
        ScorecardToMail(
            id=r["id"],
            key=r["key"],
            content_hash=r["content_hash"],
            file_path=r["file_path"],
            language=r["language"],
            audience=r["audience"],
            audience_slug=r["audience_slug"],
            subject=r["subject"],
        )
        for r in rows
    ]


async def _readers(organisations: set[int]) -> dict[int, list[ScorecardReader]]:
    """The people of each organisation who sign in to read its results."""
    grant = AccessGrant
    person = grant.account._.person
    rows = await grant.select(
        grant.organisation,
        person._.id.as_alias("id"),
        person._.name.as_alias("name"),
        person._.email.as_alias("email"),
    ).where(
        grant.organisation.is_in(list(organisations) or [0])
        & grant.account._.active.eq(True)
        & person._.active.eq(True)
    )
    found: dict[int, dict[int, ScorecardReader]] = {}
    for row in rows:
        found.setdefault(row["organisation"], {})[row["id"]] = ScorecardReader(
            id=row["id"], name=row["name"], email=row["email"]
        )
    return {org: list(people.values()) for org, people in found.items()}


def _message(
    card: ScorecardToMail,
    person: ScorecardReader,
    pdf: bytes,
    cycle: str,
    key: str,
    mailer: Mailer,
    now: dt.datetime,
) -> EmailMessage:
    """The scorecard as an e-mail in the audience's language, the PDF attached."""
    language = str(card.language)
    context = translated(
        {
            "name": person.name,
            "subject": card.subject,
            "cycle": cycle,
            "link": f"{mailer.public_url}/",
        },
        language,
    )
    message = EmailMessage()
    message["From"] = mailer.sender
    message["To"] = formataddr((str(person.name), str(person.email)))
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
