"""How many scorecards (PDFs, and pages) one person may have in the making at once.

A web request's PDF is made by the server's one WeasyPrint worker process
(`surveys.scorecards.pdf_in_worker`), a second or more each, one after another. Without
a bound, one person clicking twenty PDF links (or a script asking for them) queued
twenty renders ahead of everyone else's: the last came after 23 s, and building their
HTML held the event loop meanwhile. So each account may have RENDERS_PER_ACCOUNT PDFs
in the making; one more is refused at once, before any work, with 429 and Retry-After,
which a browser shows as the "Please wait a moment" page (`surveys.web.pages.error_page`).
Other people's PDFs are not held up by it. A scorecard page is built in the event loop
(its results read, its HTML rendered): twenty at once from one person held every other
request for over a second, so pages are bounded the same way, a little more loosely.

Slots are counted in each server process's memory and taken and given back in one
synchronous step each, so concurrent requests cannot overshoot the bound.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from litestar.exceptions import TooManyRequestsException

RENDERS_PER_ACCOUNT = 2
"""PDFs one account may have in the making at once: a page and its other paper size, say."""
RETRY_AFTER_SECONDS = 10
"""What a refusal suggests waiting: about as long as the renders in flight take."""


class RenderSlots:
    """Renders in flight per account, at most `per_account` each."""

    def __init__(self, per_account: int) -> None:
        self.per_account = per_account
        self._held: Counter[int] = Counter()

    @contextmanager
    def held(self, account_id: int) -> Iterator[None]:
        """Hold one of the account's slots while the block runs (a PDF is made), or raise
        TooManyRequestsException (429, with Retry-After) if they are all taken.

        The slot is given back however the block ends, a client that went away included.
        """
        if self._held[account_id] >= self.per_account:
            raise TooManyRequestsException(
                f"You have {self.per_account} scorecards in the making already. "
                f"Please wait a few seconds for them, then ask for this one again",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self._held[account_id] += 1
        try:
            yield
        finally:
            self._held[account_id] -= 1
            if not self._held[account_id]:
                del self._held[account_id]


PAGES_PER_ACCOUNT = 4
"""Scorecard pages one account may have in the making at once: a few tabs opened together."""
PDF_RENDERS = RenderSlots(RENDERS_PER_ACCOUNT)
"""This server process's slots, as it has one PDF worker (`surveys.scorecards`)."""
PAGE_RENDERS = RenderSlots(PAGES_PER_ACCOUNT)
"""This server process's slots for scorecard pages, built in its event loop."""
