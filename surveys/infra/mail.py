"""Invitation and reminder e-mails: composed from templates/email/, delivered to an outbox.

A person gets one letter per cycle and round, naming every partner they are asked to
rate, each with its own link, in the person's language. Every message has a Message-ID
made from what it is (which person, which invitations, which kind, which reminder), so
a message is never delivered twice: the outbox refuses a second copy of the same
Message-ID, and a retry after a failure sends the one that failed.
The default delivery writes each message as an `.eml` file under `var/outbox/`, which
any mail client opens; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Protocol

import aiosmtplib

from surveys.infra.errors import RapportError
from surveys.infra.i18n import N_, Text, choose_language, long_date, translated
from surveys.infra.settings import Settings, SMTPServer
from surveys.infra.templating import environment

MAIL_DOMAIN = "rapport.invalid"
"""Right-hand side of Message-IDs; never a real host, so no one else's ids collide."""


@dataclass(frozen=True)
class Survey:
    """One partner a letter asks about, with the survey link for it."""

    invitation_id: int
    partner: str
    """Who is being rated."""
    link: str
    privacy: Text
    """Who will see the answers about this partner (it depends on the direction)."""


@dataclass(frozen=True)
class Letter:
    """One invitation or reminder to one person in one cycle: every partner they rate."""

    cycle_id: int
    person_id: int
    kind: str
    """invitation or reminder."""
    number: int
    """0 for the invitation, 1, 2, … for reminders."""
    name: str
    email: str
    language: str
    organisation: str
    """The respondent's organisation."""
    cycle: str
    deadline: dt.datetime
    """The earliest closing of the letter's links."""
    surveys: tuple[Survey, ...]

    def __post_init__(self) -> None:
        if not self.surveys:
            raise ValueError("a letter asks about one partner at least")

    @property
    def message_id(self) -> str:
        """The message's identity: the same letter (same person, round and invitations)
        always has the same id, and a letter about other invitations another one."""
        ids = ",".join(str(i) for i in sorted(s.invitation_id for s in self.surveys))
        digest = hashlib.sha256(ids.encode()).hexdigest()[:12]
        return (
            f"<cycle-{self.cycle_id}-person-{self.person_id}-{self.kind}-{self.number}"
            f"-{digest}@{MAIL_DOMAIN}>"
        )


def subject_of(letter: Letter, language: str) -> str:
    """The letter's subject in `language`: the partner's name when there is one."""
    reminder = letter.kind == "reminder"
    if len(letter.surveys) == 1:
        values: dict[str, object] = {"partner": letter.surveys[0].partner, "cycle": letter.cycle}
        message = (
            N_("Reminder: how is working with %(partner)s? (%(cycle)s)")
            if reminder
            else N_("How is working with %(partner)s? A 10-minute survey (%(cycle)s)")
        )
    else:
        values = {"count": len(letter.surveys), "cycle": letter.cycle}
        message = (
            N_("Reminder: how is working with your %(count)s partners? (%(cycle)s)")
            if reminder
            else N_("How is working with your %(count)s partners? Short surveys (%(cycle)s)")
        )
    return Text(message, values).render(language)


def compose(letter: Letter, sender: str, now: dt.datetime) -> EmailMessage:
    """Return the letter as a plain-text e-mail with an HTML alternative, in its language."""
    language = choose_language(letter.language)
    subject = subject_of(letter, language)
    context = translated(
        {
            "reminder": letter.kind == "reminder",
            "subject": subject,
            "name": letter.name,
            "organisation": letter.organisation,
            "cycle": letter.cycle,
            "deadline": long_date(letter.deadline, language),
            "surveys": [
                {
                    "partner": survey.partner,
                    "link": survey.link,
                    "privacy": survey.privacy.render(language),
                }
                for survey in letter.surveys
            ],
        },
        language,
    )
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((letter.name, letter.email))
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = letter.message_id
    message.set_content(environment().get_template("email/invitation.txt").render(context))
    message.add_alternative(
        environment().get_template("email/invitation.html").render(context), subtype="html"
    )
    message["Content-Language"] = language  # after the bodies: set_content clears it
    return message


class DeliveryError(RapportError):
    """A message could not be handed over; the message says to whom and why.

    `permanent` is True when the mail server refused for good (a 5xx reply, a refused
    recipient): sending again would fail the same way until the address is corrected.
    `reason` is the server's own words.
    """

    def __init__(self, message: str, permanent: bool = False, reason: str = "") -> None:
        super().__init__(message)
        self.permanent = permanent
        self.reason = reason or message


class Delivery(Protocol):
    """Somewhere e-mails go: the outbox folder, or a mail server."""

    description: str

    async def deliver(self, message: EmailMessage, recipient: str) -> bool:
        """Deliver one message to `recipient` only; False if it had been delivered before.

        Raises DeliveryError. The recipient is given, never read back from the To header,
        so an odd address in a person's record cannot add a second recipient.
        """
        ...


class Outbox:
    """Delivers e-mails as .eml files in one folder, one file per Message-ID."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.description = str(folder)

    def path_of(self, message: EmailMessage) -> Path:
        """Return where a message is (or would be) kept."""
        name = str(message["Message-ID"]).strip("<>").replace("@", "_at_")
        return self.folder / f"{name}.eml"

    async def deliver(self, message: EmailMessage, recipient: str) -> bool:
        """Write the message unless it was delivered before; return whether it was written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.path_of(message)
        if final.exists():
            return False
        temporary = final.with_suffix(".tmp")
        # each letter holds a working survey link: readable by this account only
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "wb") as letter:
            letter.write(message.as_bytes())
        temporary.replace(final)  # whole or not at all
        return True


class SMTPRelay:
    """Hands e-mails to a mail server, retrying what may pass on a second try.

    A refused connection, a dropped line or a 4xx reply ("try again later") is retried
    with growing pauses; a 5xx reply (a refused recipient, say) is not, since it would
    fail the same way. Whatever still fails is raised, never dropped in silence.
    """

    def __init__(self, server: SMTPServer, attempts: int = 3, pause: float = 1.0) -> None:
        self.server = server
        self.attempts = attempts
        self.pause = pause
        self.description = server.display

    async def deliver(self, message: EmailMessage, recipient: str) -> bool:
        """Send one message to `recipient`; raise DeliveryError if the server will not take it."""
        server = self.server
        permanent = False
        for attempt in range(1, self.attempts + 1):
            try:
                await aiosmtplib.send(
                    message,
                    recipients=[recipient],
                    hostname=server.host,
                    port=server.port,
                    username=server.username,
                    password=server.password,
                    use_tls=server.implicit_tls,
                    start_tls=server.start_tls,
                    timeout=30,
                )
                return True
            except aiosmtplib.SMTPRecipientsRefused as error:
                reason = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
                permanent = all(r.code >= 500 for r in error.recipients)
                break  # the server said no to the address: asking again changes nothing
            except aiosmtplib.SMTPResponseException as error:
                reason = f"{error.code} {error.message}"
                if not 400 <= error.code < 500:
                    permanent = error.code >= 500
                    break
            except (aiosmtplib.SMTPException, OSError) as error:
                reason = str(error) or type(error).__name__
            if attempt < self.attempts:
                await asyncio.sleep(self.pause * 2 ** (attempt - 1))
        raise DeliveryError(
            f"{message['To']}: {server.display} did not take the message ({reason})",
            permanent=permanent,
            reason=reason,
        )


def delivery_for(smtp: SMTPServer | None, outbox: Path) -> Delivery:
    """Return the mail server's relay if one is configured, else the outbox folder."""
    return SMTPRelay(smtp) if smtp is not None else Outbox(outbox)


@dataclass(frozen=True)
class Mailer:
    """What sending needs: the key links are derived with, where links point, who sends."""

    secret: str
    public_url: str
    sender: str
    delivery: Delivery

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer:
        """The mailer the settings describe: the SMTP server if one is set, else the outbox."""
        return cls(
            settings.secret_key,
            settings.public_url,
            settings.mail_from,
            delivery_for(settings.smtp, settings.outbox),
        )
