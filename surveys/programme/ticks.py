"""The programme's heartbeat: at each tick, work out from the database what is due, and do
it, each step as a job the console shows.

`tick` is the whole of it, given the time: tests move the time forward and call it; the
worker and the embedded server call it every minute. Nothing is remembered between ticks
but what the database holds, so a restart loses nothing. Two processes ticking at once do
each step once: a job of one kind on one cycle runs once at a time (`start_job`), and
each step checks again, once its job is started, that it is still due.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from surveys.attempts import forget_quiet_keys
from surveys.cycles.cycle import Cycle
from surveys.cycles.letters import Held, SendReport
from surveys.cycles.life_cycle import create_cycle
from surveys.directory.audit import Act
from surveys.infra.i18n import N_
from surveys.instruments import Direction
from surveys.jobs import (
    Job,
    JobBusyError,
    JobRecord,
    JobState,
    Progress,
    interrupted_jobs,
    job_by_id,
    run_job,
    start_step,
)
from surveys.jobs.beats import beat
from surveys.programme.planning import plan_ahead
from surveys.programme.programme import (
    PlannedCycle,
    PlannedRecord,
    ProgrammeRecord,
    planned_cycle,
    planned_cycles,
    the_programme,
)
from surveys.programme.reviewer_mail import tell_reviewers
from surveys.programme.schedule import ScheduleError, Step, due_step, reminder_rounds_due
from surveys.programme.steps import (
    Tools,
    closing,
    inviting,
    opening,
    publishing,
    reminding,
    scoring,
    sending_scorecards,
)

log = logging.getLogger(__name__)

ACTOR = "programme"
"""Who the audit log and the jobs name for what the programme does."""
RETRY = dt.timedelta(minutes=15)
"""How long a step that failed waits before it is tried again (a mail server down, a cycle
with no answers to score yet): long enough not to hammer, short enough to catch up."""
TICK_SECONDS = 60


@dataclass(frozen=True)
class StepRun:
    """A step a tick took, and how its job ended (None: it was deferred to a worker)."""

    key: str
    step: Step
    job: JobRecord | None


Defer = Callable[[Step, str], Awaitable[None]]
"""Hands a due step to the job queue instead of running it here (PostgreSQL workers)."""


async def tick(now: dt.datetime, tools: Tools, defer: Defer | None = None) -> list[StepRun]:
    """Do every step of the programme due at `now` (or `defer` each to the job queue);
    return what was done.

    One step per cycle per tick, in the order the cycle goes through them; the next tick
    takes the step after.
    """
    await interrupted_jobs(dt.datetime.now(dt.UTC))  # a step whose worker died runs again
    await forget_quiet_keys()
    programme = await the_programme()
    if programme is None or programme.paused:
        return []
    try:
        await plan_ahead(now)
    except ScheduleError:  # planning the horizon must not hold up what is due today
        log.exception("the programme could not plan ahead; the planned cycles go on")
    runs = []
    for planned in await planned_cycles():
        if planned.retry_after is not None and planned.retry_after > now:
            continue
        step = due_step(programme.rules, planned.dates, planned.done, now)
        if step is None:
            continue
        if defer is not None:
            try:
                await defer(step, planned.key)
            except JobBusyError:
                continue  # it waits for a worker already
            runs.append(StepRun(planned.key, step, None))
            continue
        job = await run_step(step, planned.key, tools, now)
        if job is not None:
            runs.append(StepRun(planned.key, step, job))
    return runs


async def run_step(step: Step, key: str, tools: Tools, now: dt.datetime) -> JobRecord | None:
    """Run one step of the programme as a job, if it is still due; None if it is not, or
    if the same job is already running elsewhere.

    A scorecard batch with `tools.scorecard_batch` set is only fanned out here: its job
    stays running while workers render the scorecards, and ends with their mailing.
    """
    programme = await the_programme()
    if programme is None or programme.paused:
        return None

    async def still_due() -> bool:
        planned = await planned_cycle(key)
        return due_step(programme.rules, planned.dates, planned.done, now) == step

    act = Act(ACTOR, now)
    try:
        job_id = await start_step(step.value, key, act, still_due)
    except JobBusyError:
        return None
    if job_id is None:
        return None
    if step == Step.scorecards and tools.scorecard_batch is not None:
        await tools.scorecard_batch(key, job_id, act)
        return await job_by_id(job_id)

    async def work(progress: Progress) -> Mapping[str, Any]:
        return await _step(step, key, programme, tools, act, progress)

    job = await run_job(job_id, work)
    if job.state == JobState.failed:
        await _retry_later(key, now)
    return job


async def _step(
    step: Step,
    key: str,
    programme: ProgrammeRecord,
    tools: Tools,
    act: Act,
    progress: Progress,
) -> Mapping[str, Any]:
    """The work of one step, once its job is started (and so no other runs it)."""
    planned = await planned_cycle(key)
    now = act.at
    if step == Step.open:
        await _created(planned, programme, now)
        summary, mail = await opening(key, act, tools, progress)
        await _mail_went(key, mail, now, {PlannedCycle.invited_at: now})
        return summary
    if step == Step.invite:
        summary, mail = await inviting(key, act, tools, progress)
        await _mail_went(key, mail, now, {PlannedCycle.invited_at: now})
        return summary
    if step == Step.remind:
        rounds = reminder_rounds_due(programme.rules, planned.dates.closes_at, now)
        summary, mail = await reminding(
            key, act, tools, progress, programme.rules.most_reminders, _spacing(programme)
        )
        await _mail_went(key, mail, now, {PlannedCycle.reminder_rounds: rounds})
        return summary
    if step == Step.close:
        return await closing(key, act)
    if step == Step.score:
        return await scoring(key, act, progress)
    if step in (Step.tell_reviewers, Step.remind_reviewers):
        return await _reviewers_told(step, planned, tools, now, progress)
    if step == Step.publish:
        return await publishing(key, act)
    summary = await sending_scorecards(key, act, tools, progress)
    await mark_scorecards_sent(key, now)
    return summary


async def mark_scorecards_sent(key: str, now: dt.datetime) -> None:
    """The planned cycle's last step is done: every scorecard rendered and e-mailed (those
    that failed are listed on the batch's job, to be tried again from the console)."""
    await _mark(key, {PlannedCycle.scorecards_done_at: now})


def _spacing(programme: ProgrammeRecord) -> int:
    """Days at least between two e-mails to one person: the shortest gap between the
    invitation and the first round, or between two rounds (so a round never holds back
    someone the e-mail before reached), at least one."""
    rules = programme.rules
    days = sorted(rules.reminder_days)
    gaps = [b - a for a, b in itertools.pairwise(days)]
    if days:
        gaps.append(rules.open_days - 1 - days[-1])  # from the opening to the first round
    return max(1, min(gaps, default=1))


async def _created(planned: PlannedRecord, programme: ProgrammeRecord, now: dt.datetime) -> None:
    """The planned cycle's cycle, created (as a draft) if it is not yet, and tied to it."""
    if planned.cycle_id is not None:
        return
    chosen = {
        direction: pinned
        for direction, pinned in (
            (Direction.site_rates_sponsor, programme.site_instrument),
            (Direction.sponsor_rates_site, programme.sponsor_instrument),
        )
        if pinned is not None
    }
    existing = await Cycle.select(Cycle.id).where(Cycle.key == planned.key).first()
    cycle_id = (
        existing["id"]
        if existing is not None
        else await create_cycle(
            planned.key, planned.key, planned.dates.closes_at, now, ACTOR, chosen
        )
    )
    await PlannedCycle.update({PlannedCycle.cycle: cycle_id}).where(
        (PlannedCycle.id == planned.id) & PlannedCycle.cycle.is_null()
    )


async def _mail_went(key: str, mail: SendReport, now: dt.datetime, done: Mapping[Any, Any]) -> None:
    """Mark a round of letters done, or, if the mail server could not take some now, try
    again later (the letters that went are not sent twice: each was claimed). Letters that
    can never go (an address refused for good, a link made with another key) are listed on
    the job and do not hold up the next steps."""
    if mail.held.get(Held.failed, 0):
        await _retry_later(key, now)
    else:
        await _mark(key, done)


async def _reviewers_told(
    step: Step, planned: PlannedRecord, tools: Tools, now: dt.datetime, progress: Progress
) -> Mapping[str, Any]:
    kind = "ready" if step == Step.tell_reviewers else "reminder"
    progress.note(step=N_("e-mailing the tier reviewers"))
    sent = await tell_reviewers(planned.key, kind, planned.dates.review_ends_at, tools.mailer, now)
    for line in sent.failed:
        await progress.failed(line)
    column = (
        PlannedCycle.reviewers_told_at if kind == "ready" else PlannedCycle.reviewers_reminded_at
    )
    if sent.again:
        await _retry_later(planned.key, now)
    else:
        await _mark(planned.key, {column: now})
    return {N_("e-mailed"): str(sent.sent), N_("sent before"): str(sent.already)}


async def _mark(key: str, values: Mapping[Any, Any]) -> None:
    await PlannedCycle.update({**values, PlannedCycle.retry_after: None}).where(
        PlannedCycle.key == key
    )


async def _retry_later(key: str, now: dt.datetime) -> None:
    """Try the cycle's step again later, waiting longer after each failure (15 minutes,
    30, an hour… at most a day): a passing fault is caught up soon, one that needs a person
    (a cycle nobody answered, which cannot be scored) is not retried every quarter hour."""
    failures = await Job.count().where(
        (Job.subject == key) & (Job.started_by == ACTOR) & (Job.state == JobState.failed)
    )
    wait = min(RETRY * 2 ** max(0, failures - 1), LONGEST_WAIT)
    await PlannedCycle.update({PlannedCycle.retry_after: now + wait}).where(PlannedCycle.key == key)


LONGEST_WAIT = dt.timedelta(days=1)


async def tick_forever(
    tools: Tools, stop: asyncio.Event, every: float = TICK_SECONDS, role: str = "serve"
) -> None:
    """Tick every `every` seconds until `stop` is set, beating as `role`; a tick that fails
    is logged and the next one tries again (a database gone for a minute loses nothing)."""
    while not stop.is_set():
        try:
            now = dt.datetime.now(dt.UTC)
            await beat(role, now)
            await tick(now, tools)
        except Exception:  # the loop must outlive a bad tick: the next one starts afresh
            log.exception("the programme's tick failed; trying again in %s s", every)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
