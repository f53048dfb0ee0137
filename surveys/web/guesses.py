"""Who is guessing survey links: a per-address count of lookups that found nothing.

A real respondent's link always works, so only failed lookups count: a hospital whose
staff share one outgoing address can answer as much as it likes, while someone trying
tokens meets a "please wait" page after RAPPORT_LINK_RATE misses a minute. Counts live
in each server process's memory, which is enough to make guessing 256-bit tokens
(already hopeless) also slow.
"""

from __future__ import annotations

import time
from collections import deque

WINDOW_SECONDS = 60.0


class Guesses:
    """Failed lookups per address within the last minute."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._misses: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        misses = self._misses.setdefault(address, deque())
        while misses and misses[0] <= now - WINDOW_SECONDS:
            misses.popleft()
        if not misses:
            del self._misses[address]  # forget quiet addresses
            return deque()
        return misses

    def blocked(self, address: str, now: float | None = None) -> bool:
        """Whether an address has missed too often in the last minute."""
        return len(self._recent(address, now or time.monotonic())) >= self.limit

    def missed(self, address: str, now: float | None = None) -> None:
        """Count one lookup that found no invitation."""
        moment = now or time.monotonic()
        self._recent(address, moment)
        self._misses.setdefault(address, deque()).append(moment)
