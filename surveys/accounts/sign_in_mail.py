"""The e-mail that carries a one-time link: a sign-in link, a password reset, an invitation.

The sign-in pages (a link someone asked for) and the administrators' commands and console
(an invitation to a new account) send it through this one function, so the link's address
and the words around it are written once. The address is built from the configured public
URL, never from a request's Host header, so a forged header cannot point a link elsewhere.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from urllib.parse import quote

from surveys.accounts.credentials import LINK_MINUTES, LinkPurpose
from surveys.infra.mail import MAIL_DOMAIN, Mailer
from surveys.infra.templating import environment

_ACTIONS = {LinkPurpose.reset: "set a new password", LinkPurpose.sign_in: "sign in"}
"""What each link lets its holder do, as the letter says it."""


def sign_in_address(public_url: str, purpose: LinkPurpose, token: str) -> str:
    """The address of a one-time link: the page that spends it (see surveys.web.auth)."""
    path = "reset" if purpose == LinkPurpose.reset else "link"
    return f"{public_url}/sign-in/{path}/{quote(token)}"


def lifetime_words(lifetime: dt.timedelta) -> str:
    """How long a link works, as the letter says it ("30 minutes", "7 days").

    >>> lifetime_words(dt.timedelta(days=7))
    '7 days'
    """
    minutes = int(lifetime.total_seconds() // 60)
    for unit, size in (("day", 24 * 60), ("hour", 60)):
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


async def send_sign_in_link(
    mailer: Mailer,
    name: str,
    email: str,
    purpose: LinkPurpose,
    token: str,
    now: dt.datetime,
    lifetime: dt.timedelta = dt.timedelta(minutes=LINK_MINUTES),
    invited_by: str | None = None,
) -> None:
    """E-mail a one-time link to `email` only.

    `invited_by` names who gave the account, for an invitation (a sign-in link that lives
    INVITATION_DAYS); without it the letter answers a request the person made. Raises
    DeliveryError when the mail server will not take the message.
    """
    if invited_by is not None and purpose != LinkPurpose.sign_in:
        raise ValueError("an invitation carries a sign-in link, not a password reset")
    context = {
        "name": name,
        "action": _ACTIONS[purpose],
        "lifetime": lifetime_words(lifetime),
        "link": sign_in_address(mailer.public_url, purpose, token),
        "invited_by": invited_by,
        "sign_in_page": f"{mailer.public_url}/sign-in",
    }
    message = EmailMessage()
    message["From"] = mailer.sender
    message["To"] = formataddr((name, email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("account", MAIL_DOMAIN)
    message["Subject"] = _subject(purpose, invited_by)
    message.set_content(environment().get_template("email/sign_in.txt").render(context))
    await mailer.delivery.deliver(message, email)


def _subject(purpose: LinkPurpose, invited_by: str | None) -> str:
    if invited_by is not None:
        return f"{invited_by} invited you to Rapport"
    if purpose == LinkPurpose.reset:
        return "Rapport: set a new password"
    return "Rapport: your sign-in link"
