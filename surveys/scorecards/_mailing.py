"""Scorecards e-mailed to their audience, through the same delivery as invitations.

The audience of a scorecard is an organisation; it is mailed to the people there marked
to receive results, whether or not they hold an account (the rule is
`surveys.directory.recipients`). Each person gets the PDF attached, named for whose
scorecard it is and which cycle, once: each letter is claimed before it is sent (by
scorecard, content hash and person), so running the mailing again, or in two processes at
once, sends only what is new or changed; a failed delivery gives its claim back, is
reported and tried again next time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

from surveys.directory.recipients import Recipient, results_recipients
from surveys.infra.i18n import choose_language, translated
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
    unread: list[str] = field(default_factory=list)
    """Audiences (by slug) with no one marked to receive their results."""


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


async def mail_scorecards(
    cycle_key: str,
    out: Path,
    mailer: Mailer,
    now: dt.datetime,
    audiences: set[str] | None = None,
) -> MailReport:
    """E-mail each written scorecard of a cycle to its audience's recipients, once each."""
    cards = await _written(cycle_key)
    readers = await results_recipients({card.audience for card in cards})
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
        if not readers.get(card.audience) and card.audience_slug not in report.unread:
            report.unread.append(card.audience_slug)
        for person in readers.get(card.audience, []):
            key = f"{card.key}/{card.content_hash[:16]}/{person.id}"
            if key in sent:
                report.already += 1
                continue
            path = out / cycle_key / card.file_path
            try:
                message = _message(card, person, path.read_bytes(), cycle_key, key, mailer, now)
            except (OSError, ValueError, TypeError) as error:  # no file, or unwritable headers
                report.failed.append(f"{card.key} to {person.email}: {error}")
                continue
            claimed = (
                await ScorecardMailing.insert(
                    ScorecardMailing(key=key, scorecard=card.id, person=person.id, sent_at=now)
                )
                .on_conflict(target=ScorecardMailing.key, action="DO NOTHING")
                .returning(ScorecardMailing.id)
            )
            if not claimed:  # another process sends it
                report.already += 1
                continue
            try:
                await mailer.delivery.deliver(message, person.email)
            except DeliveryError as error:
                await ScorecardMailing.delete().where(ScorecardMailing.key == key)
                report.failed.append(f"{card.key} to {person.email}: {error}")
                continue
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


def attachment_name(subject: str, cycle: str) -> str:
    """The PDF's file name: "Rapport scorecard – <whose> – <cycle>.pdf", safe to save."""
    safe = " ".join(_UNSAFE.sub(" ", f"{subject} – {cycle}").split())
    return f"Rapport scorecard – {safe}.pdf"


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
"""Characters a file name cannot hold on some system, or that a header would mangle."""


def _message(
    card: ScorecardToMail,
    person: Recipient,
    pdf: bytes,
    cycle: str,
    key: str,
    mailer: Mailer,
    now: dt.datetime,
) -> EmailMessage:
    """The scorecard as an e-mail in the person's language, the PDF attached under a name
    that says whose scorecard it is and for which cycle."""
    language = choose_language(person.language, card.language)
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
    # a non-ASCII name is written the RFC 2231 way (filename*=utf-8''…), which mail
    # clients read; characters no file system takes are dropped
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=attachment_name(card.subject, cycle)
    )
    message["Content-Language"] = language
    return message
