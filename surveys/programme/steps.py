"""The work of each step of a cycle, as a job runs it: the same functions whether an
administrator starts the step from the console or the programme's worker does.

Each takes the cycle's key, who acts and when (`Act`), what the work needs (`Tools`), and
the job's `Progress`; it returns the job's summary (label → value, labels marked for
translation). Each is safe to run twice: opening and closing move the cycle's status
only from the one before, letters are claimed before they are sent, and scorecards
already written and sent with the same content are skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from surveys.cycles.letters import SendReport, send_invitations, send_reminders
from surveys.cycles.life_cycle import close_cycle, open_cycle
from surveys.directory.audit import Act
from surveys.infra.i18n import N_
from surveys.infra.mail import Mailer
from surveys.infra.settings import Settings, programme_scoring_config
from surveys.jobs import Progress, Work
from surveys.results.cycle_scoring import score_cycle
from surveys.results.score_file import code_version
from surveys.results.tier_review import publish_cycle
from surveys.scorecards import mail_scorecards, render_cycle

ScorecardBatch = Callable[[str, int, Act], Awaitable[None]]
"""Spreads a cycle's scorecards (key, the batch's job id, who acts) over the workers."""


@dataclass(frozen=True)
class Tools:
    """What the steps need from the installation: how to mail, where scorecards go, and how
    many processes render PDFs."""

    mailer: Mailer
    scorecards_dir: Path
    pdf_processes: int
    reminders: int
    """Reminders a person gets at most, when an administrator reminds by hand."""
    reminder_days: int
    """Days between two e-mails to one person, when an administrator reminds by hand."""
    scorecard_batch: ScorecardBatch | None = None
    """How a scorecard batch is spread over worker processes (the job queue's fan-out);
    None renders it here, in this process's pool."""

    def with_batch(self, batch: ScorecardBatch) -> Tools:
        """These tools, spreading scorecard batches with `batch`."""
        return replace(self, scorecard_batch=batch)

    @classmethod
    def from_settings(cls, settings: Settings) -> Tools:
        """The tools the settings describe."""
        return cls(
            Mailer.from_settings(settings),
            settings.var_dir / "scorecards",
            max(1, settings.workers),
            settings.reminders,
            settings.reminder_days,
        )


Summary = Mapping[str, Any]


async def opening(
    key: str, act: Act, tools: Tools, progress: Progress
) -> tuple[Summary, SendReport]:
    """Open a draft cycle and send its invitations; the summary, and how the mail went."""
    opened = await open_cycle(
        key, act.at, tools.mailer, act.actor, lambda step: progress.note(step=step)
    )
    for line in opened.mail.failed:
        await progress.failed(line)
    return {
        N_("invited"): f"{sum(opened.invited.values()):,}",
        N_("mail"): opened.mail.summary(),
    }, opened.mail


async def inviting(
    key: str, act: Act, tools: Tools, progress: Progress
) -> tuple[Summary, SendReport]:
    """Send the invitations of an open cycle not sent yet (an opening cut short)."""
    progress.note(step=N_("sending invitations"))
    sent = await send_invitations(key, act.at, tools.mailer)
    for line in sent.failed:
        await progress.failed(line)
    return {N_("mail"): sent.summary()}, sent


async def reminding(
    key: str, act: Act, tools: Tools, progress: Progress, most: int, days: int
) -> tuple[Summary, SendReport]:
    """Remind those who have not answered, at most `most` times, `days` apart at least."""
    progress.note(step=N_("sending reminders"))
    sent = await send_reminders(key, act.at, tools.mailer, most, days)
    for line in sent.failed:
        await progress.failed(line)
    return {N_("mail"): sent.summary()}, sent


async def closing(key: str, act: Act) -> Summary:
    """Close an open cycle."""
    submitted = await close_cycle(key, act.at, act.actor)
    return {N_("responses"): f"{submitted:,}"}


async def scoring(key: str, act: Act, progress: Progress) -> Summary:
    """Score a closed cycle (or score a scored one again) and store the run."""
    summary = await score_cycle(
        key,
        programme_scoring_config(),
        code_version(),
        act.actor,
        lambda s: progress.note(step=s),
    )
    scored = ", ".join(
        f"{n} {direction.replace('_', ' ')} target(s)" for direction, n in summary.targets.items()
    )
    silent = ", ".join(d.replace("_", " ") for d in summary.unanswered)
    return {
        N_("run"): str(summary.run_id),
        N_("scored"): f"{scored} from {summary.answers:,} answers",
        N_("not scored (no answers)"): silent or N_("none"),
        N_("tiers computed"): str(summary.tiers.computed),
        N_("perception gaps"): str(summary.gaps),
        N_("escalation flags"): str(summary.flags),
    }


async def publishing(key: str, act: Act) -> Summary:
    """Publish a scored cycle: its tiers freeze."""
    return {N_("tiers published"): str(await publish_cycle(key, act))}


async def sending_scorecards(key: str, act: Act, tools: Tools, progress: Progress) -> Summary:
    """Render every scorecard of the cycle, then e-mail each to its audience (only what is
    new or changed since the last time)."""
    progress.note(step=N_("rendering the scorecards"))
    rendered = await render_cycle(
        key,
        tools.scorecards_dir,
        processes=tools.pdf_processes,
        progress=lambda finished, total: progress.note(done=finished, total=total),
    )
    for name, why in rendered.failed:
        await progress.failed(f"{name}: {why}")
    progress.note(step=N_("e-mailing the scorecards"))
    mailed = await mail_scorecards(key, tools.scorecards_dir, tools.mailer, act.at)
    for line in mailed.failed:
        await progress.failed(line)
    return {
        N_("scorecards written"): str(len(rendered.written)),
        N_("unchanged"): str(rendered.skipped),
        N_("e-mailed"): str(mailed.sent),
        N_("sent before"): str(mailed.already),
    }


CONSOLE_KINDS = ("open", "remind", "score", "scorecards")
"""The steps an administrator starts as background work from a cycle's page."""


def console_work(kind: str, key: str, act: Act, tools: Tools) -> Work:
    """The work of a step an administrator starts from the console (`CONSOLE_KINDS`):
    reminders follow the settings' rule for reminding by hand."""

    async def work(progress: Progress) -> Summary:
        if kind == "open":
            return (await opening(key, act, tools, progress))[0]
        if kind == "remind":
            most, days = tools.reminders, tools.reminder_days
            return (await reminding(key, act, tools, progress, most, days))[0]
        if kind == "score":
            return await scoring(key, act, progress)
        if kind == "scorecards":
            return await sending_scorecards(key, act, tools, progress)
        raise ValueError(f"no console step {kind!r}")

    return work
