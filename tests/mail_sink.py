"""What a real SMTP server on localhost (aiosmtpd, served by the `inbox` fixture in
conftest) does with the mail it is sent: keeps it, answers "try later", or refuses some
recipients, as a test asks."""

from __future__ import annotations

import asyncio
import email
from email import policy
from typing import Any


class Inbox:
    """An SMTP handler that keeps what it accepts and can be told to refuse."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.busy = 0
        """Answer 451 (try later) to this many more messages."""
        self.refuse: set[str] = set()
        """Recipients answered 550 (never)."""
        self.delay = 0.0
        """Seconds each message takes to be accepted (a slow server)."""

    async def handle_RCPT(  # noqa: N802  (aiosmtpd calls handlers by these names)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.busy:
            self.busy -= 1
            return "451 busy, try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"
