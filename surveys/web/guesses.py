"""Who keeps trying: a per-key count of attempts in the last minute (an address, an e-mail).

The contract is **count first, atomically**: `take` records an attempt and says whether
it is within the limit in one synchronous step, with no `await` between the check and
the record. Every coroutine of the event loop therefore sees the counts the previous one
left, so a burst of concurrent requests gets exactly `limit` attempts through, never
more: checking, awaiting a lookup or a password check, and recording afterwards let
300 concurrent guesses all through. A caller counts before the work it limits, and
`give_back` returns an attempt that turned out not to be a guess (a password that
matched). Whatever keeps these counts later (the database, for several server
processes) must keep that contract: one statement that counts and answers.

Sign-ins count every attempt, per address and per e-mail, before the password is
checked (a match gives its attempt back); requests for a reset link count per address.
Survey links count only lookups that found nothing (`surveys.web.survey.looked_up`), so
a working link always opens, even from a hospital's shared address that someone else is
guessing from. Past its limit an address is still told which links work (the form
against "please wait"): harmless, since no rate of guessing finds a 256-bit token; what
the limit gives is a clear "stop" to a client that keeps missing. Counts live in each
server process's memory.
"""

from __future__ import annotations

import time
from collections import deque

WINDOW_SECONDS = 60.0
SWEEP_AFTER = 1024
"""Keys kept before quiet ones are swept out, so counts for addresses and e-mails that
never come back cannot fill the memory."""


class Guesses:
    """Attempts per key (an address, an e-mail) within the last minute; at most `limit`.

    There is no separate "is it blocked?" question on purpose: asking, awaiting and then
    recording is the race this class exists to close.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._attempts: dict[str, deque[float]] = {}
        self._sweep_at = SWEEP_AFTER

    def take(self, key: str, now: float | None = None) -> bool:
        """Count one attempt for `key` if it is within the limit; say whether it was.

        Synchronous on purpose: the check and the record are one step of the event loop,
        so concurrent requests cannot all pass a check before any of them is recorded.
        An attempt refused is not counted, so the pause ends a minute after the last
        attempt that got through, however often a client knocks meanwhile.
        """
        moment = time.monotonic() if now is None else now
        attempts = self._recent(key, moment)
        if len(attempts) >= self.limit:
            return False
        if key not in self._attempts:
            if len(self._attempts) >= self._sweep_at:
                self._sweep(moment)
            self._attempts[key] = attempts
        attempts.append(moment)
        return True

    def give_back(self, key: str) -> None:
        """Forget the latest attempt counted for `key`: it proved not to be a guess."""
        attempts = self._attempts.get(key)
        if attempts:
            attempts.pop()
        if attempts is not None and not attempts:
            del self._attempts[key]

    def _recent(self, key: str, now: float) -> deque[float]:
        """The attempts of `key` in the minute before `now` (a new, unkept deque if none)."""
        attempts = self._attempts.get(key)
        if attempts is None:
            return deque()
        while attempts and attempts[0] <= now - WINDOW_SECONDS:
            attempts.popleft()
        if not attempts:
            del self._attempts[key]  # forget quiet keys
        return attempts

    def _sweep(self, now: float) -> None:
        """Drop every key with no attempt in the last minute, so that keys which never come
        back (an address, an e-mail typed once) do not pile up."""
        quiet = [k for k, a in self._attempts.items() if not a or a[-1] <= now - WINDOW_SECONDS]
        for key in quiet:
            del self._attempts[key]
        self._sweep_at = max(SWEEP_AFTER, 2 * len(self._attempts))
