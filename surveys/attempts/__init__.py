"""Who keeps trying: attempts per key (an address, an e-mail) counted in the database, so
that every server process on every machine counts them together.

The contract is **count first, atomically**: `AttemptLimit.take` records an attempt and
says whether it is within the limit in one statement, so a burst of concurrent requests,
through any number of processes, gets exactly `limit` attempts through, never more:
checking, awaiting a lookup or a password check, and recording afterwards let 300
concurrent guesses all through. A caller counts before the work it limits, and
`give_back` returns an attempt that turned out not to be a guess (a password that
matched).

The pace is the generic cell rate algorithm (GCRA, as in ATM networks and redis-cell):
each key keeps one time, when its allowance is next whole (`paced_until`). `limit`
attempts may come at once; after that, one more each `60 / limit` seconds: `limit` a
minute for a client that keeps knocking, which is slowed, not locked out for good. One
row per key, one upsert per attempt, and rows whose time has passed carry nothing and are
swept away (`forget_quiet_keys`).

Sign-ins count every attempt, per address and per e-mail, before the password is checked
(a match gives its attempt back); requests for a reset link count per address. Survey
links count only lookups that found nothing (`surveys.web.survey.looked_up`), so a
working link always opens, even from a hospital's shared address that someone else is
guessing from.

May import: `surveys.infra`.
"""

from __future__ import annotations

import time

from piccolo.columns import DoublePrecision, Serial, Varchar
from piccolo.constraints import Unique
from piccolo.table import Table

from surveys.infra.database import write_turn

WINDOW_SECONDS = 60.0


class AttemptPace(Table):
    """One key's pace: when its allowance of attempts is next whole."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    bucket = Varchar(length=20)
    """What is limited: `link`, `sign_in`."""
    key = Varchar(length=254)
    """Whose attempts: an address or an e-mail."""
    paced_until = DoublePrecision()
    """Seconds since the epoch (every machine's clock, shared)."""

    attempt_pace_one_per_key = Unique(["bucket", "key"])


_TAKE = (
    'INSERT INTO attempt_pace (bucket, "key", paced_until) VALUES ({}, {}, {}) '
    'ON CONFLICT (bucket, "key") DO UPDATE SET paced_until = '
    "(CASE WHEN attempt_pace.paced_until > {} THEN attempt_pace.paced_until ELSE {} END) + {} "
    "WHERE (CASE WHEN attempt_pace.paced_until > {} THEN attempt_pace.paced_until ELSE {} END)"
    " <= {} RETURNING paced_until"
)
"""Count and judge in one statement: a new key starts its pace; a known one moves its pace
on only if that keeps it within the window, and the row comes back only then (the
conflicting row is locked while the condition is judged, on PostgreSQL as on SQLite)."""


class AttemptLimit:
    """At most `limit` attempts a minute per key, counted across every process."""

    def __init__(self, bucket: str, limit: int) -> None:
        self.bucket = bucket
        self.limit = limit
        self.interval = WINDOW_SECONDS / limit
        """Seconds one attempt uses of the allowance."""

    async def take(self, key: str, now: float | None = None) -> bool:
        """Count one attempt for `key` if it is within the limit; say whether it was.

        An attempt refused is not counted, so the pause ends as the allowance refills,
        however often a client knocks meanwhile.
        """
        moment = time.time() if now is None else now
        engine = AttemptPace._meta.db
        async with write_turn(engine):
            counted = await AttemptPace.raw(
                _TAKE,
                self.bucket,
                key[:254],
                moment + self.interval,
                moment,
                moment,
                self.interval,
                moment,
                moment,
                moment + WINDOW_SECONDS - self.interval,
            )
        return bool(counted)

    async def give_back(self, key: str) -> None:
        """Return the latest attempt counted for `key`: it proved not to be a guess."""
        async with write_turn(AttemptPace._meta.db):
            await AttemptPace.raw(
                "UPDATE attempt_pace SET paced_until = paced_until - {} "
                'WHERE bucket = {} AND "key" = {}',
                self.interval,
                self.bucket,
                key[:254],
            )


async def forget_quiet_keys(now: float | None = None) -> int:
    """Delete the paces that have run out (their keys have their whole allowance again);
    return how many. Run at each of the programme's ticks."""
    moment = time.time() if now is None else now
    async with write_turn(AttemptPace._meta.db):
        gone = (
            await AttemptPace.delete()
            .where(AttemptPace.paced_until < moment)
            .returning(AttemptPace.id)
        )
    return len(gone)
