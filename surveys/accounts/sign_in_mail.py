"""The e-mail that carries a one-time link: a sign-in link, a password reset, an invitation.

The sign-in pages (a link someone asked for) and the administrators' commands and console
(an invitation to a new account) send it through this one function, so the link's address
and the words around it are written once. The address is built from the configured public
URL, never from a request's Host header, so a forged header cannot point a link elsewhere.
The letter is written in its reader's language: their own choice, else their directory
record's (surveys.accounts.credentials.SignedIn.language).
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from urllib.parse import quote

from surveys.accounts.credentials import LINK_MINUTES, LinkPurpose, account_for_email
from surveys.infra.i18n import DEFAULT_LANGUAGE, N_, Text, translated
from surveys.infra.mail import MAIL_DOMAIN, Mailer
from surveys.infra.templating import contained_direction, environment


def sign_in_address(public_url: str, purpose: LinkPurpose, token: str) -> str:
    """The address of a one-time link: the page that spends it (see surveys.web.auth)."""
    path = "reset" if purpose == LinkPurpose.reset else "link"
    return f"{public_url}/sign-in/{path}/{quote(token)}"


def lifetime_parts(lifetime: dt.timedelta) -> tuple[int, str]:
    """How long a link works, as a count and its unit ("day", "hour" or "minute"): the
    letter's template words it in its reader's language.

    >>> lifetime_parts(dt.timedelta(hours=36)), lifetime_parts(dt.timedelta(days=7))
    ((36, 'hour'), (7, 'day'))
    """
    minutes = int(lifetime.total_seconds() // 60)
    for unit, size in (("day", 24 * 60), ("hour", 60)):
        if minutes >= size and minutes % size == 0:
            return minutes // size, unit
    return minutes, "minute"


async def send_sign_in_link(
    mailer: Mailer,
    name: str,
    email: str,
    purpose: LinkPurpose,
    token: str,
    now: dt.datetime,
    lifetime: dt.timedelta = dt.timedelta(minutes=LINK_MINUTES),
    invited_by: str | None = None,
    language: str | None = None,
) -> None:
    """E-mail a one-time link to `email` only, in `language` (by default the language of
    the account with that e-mail: its own choice, else its directory record's).

    `invited_by` names who gave the account, for an invitation (a sign-in link that lives
    INVITATION_DAYS); without it the letter answers a request the person made. Raises
    DeliveryError when the mail server will not take the message.
    """
    if invited_by is not None and purpose != LinkPurpose.sign_in:
        raise ValueError("an invitation carries a sign-in link, not a password reset")
    if language is None:
        who = await account_for_email(email)
        language = who.language if who is not None else DEFAULT_LANGUAGE
    count, unit = lifetime_parts(lifetime)
    context = {
        "name": name,
        "purpose": purpose.value,
        "lifetime_count": count,
        "lifetime_unit": unit,
        "link": sign_in_address(mailer.public_url, purpose, token),
        "invited_by": invited_by,
        "sign_in_page": f"{mailer.public_url}/sign-in",
    }
    message = EmailMessage()
    message["From"] = mailer.sender
    message["To"] = formataddr((name, email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("account", MAIL_DOMAIN)
    message["Subject"] = _subject(purpose, invited_by).render(language)
    letter = environment().get_template("email/sign_in.txt")
    message.set_content(letter.render(translated(context, language)))
    await mailer.delivery.deliver(message, email)


def _subject(purpose: LinkPurpose, invited_by: str | None) -> Text:
    if invited_by is not None:
        inviter = contained_direction(invited_by)
        return Text(N_("%(inviter)s invited you to Rapport"), {"inviter": inviter})
    if purpose == LinkPurpose.reset:
        return Text(N_("Rapport: set a new password"))
    return Text(N_("Rapport: your sign-in link"))
