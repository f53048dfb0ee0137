"""Every scorecard of a cycle, rendered in a process pool into one folder.

A scorecard whose HTML has not changed since its PDF was written is skipped (the HTML's
hash is kept with the file), so a second run, or a run that resumes after an interruption,
renders only what is missing or changed. Each PDF is written to a temporary name and
renamed, so a file is whole or absent, never half-written; a failure on one scorecard is
reported and the rest go on.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

from surveys.cycles.cycle import checked_cycle_key
from surveys.infra.database import writing_transaction
from surveys.infra.spreadsheets import spreadsheet_safe
from surveys.scorecards._partner import PartnerScorecard, partner_scorecard
from surveys.scorecards._portfolio import (
    NetworkScorecard,
    PortfolioScorecard,
    network_scorecard,
    portfolio_scorecard,
)
from surveys.scorecards._render import content_hash, pdf_of, pdf_workers, scorecard_html
from surveys.scorecards._results import CycleResults, ScorecardError, cycle_results
from surveys.scorecards._table import RenderedScorecard, ScorecardKind, scorecard_key


@dataclass(frozen=True)
class Job:
    """One scorecard to make: whose, as whom it is seen, for whom, in which language."""

    kind: ScorecardKind
    subject: int
    view: int | None
    audience: int
    language: str
    paper: str
    key: str
    """Its stable name (`scorecard_key`), also its path under the batch's folder."""


@dataclass
class BatchReport:
    """What a batch did."""

    written: list[str] = field(default_factory=list)
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(scorecard, reason) for each one that could not be made."""


def cycle_jobs(results: CycleResults, paper: str, audiences: set[str] | None) -> list[Job]:
    """Every scorecard of the cycle: each sponsor's view of each of its sites (for the
    sponsor and for the site), how the sites see each sponsor and CRO (for itself), each
    sponsor's portfolio and each network's sites (for the sponsor, the network)."""
    jobs = []

    def add(kind: ScorecardKind, subject: int, view: int | None, audience: int) -> None:
        org = results.orgs[audience]
        if audiences is not None and org.slug not in audiences:
            return
        by = results.orgs[view].slug if view is not None else None
        key = scorecard_key(
            kind.value, results.orgs[subject].slug, by, org.slug, org.language, paper
        )
        jobs.append(Job(kind, subject, view, audience, org.language, paper, key))

    for run, target, view in sorted(results.indices, key=lambda k: (k[1], k[2] or 0)):
        if run != results.run:
            continue
        subject = results.orgs[target]
        if subject.kind == "site" and view is not None:
            readers = [view, target]
        elif subject.kind in {"sponsor", "cro"} and view is None:
            readers = [target]
        else:
            continue
        for audience in readers:
            add(ScorecardKind.partner, target, view, audience)
    sponsors = {view for (run, _, view) in results.indices if run == results.run and view}
    for sponsor in sorted(s for s in sponsors if results.orgs[s].kind == "sponsor"):
        add(ScorecardKind.portfolio, sponsor, None, sponsor)
    for network in sorted(o.id for o in results.orgs.values() if o.kind == "network"):
        add(ScorecardKind.network, network, None, network)
    return jobs


def rendered_html(results: CycleResults, job: Job) -> str:
    """The HTML of one job's scorecard."""
    card: PartnerScorecard | PortfolioScorecard | NetworkScorecard
    if job.kind == ScorecardKind.portfolio:
        card = portfolio_scorecard(results, job.subject, job.language, job.paper)
    elif job.kind == ScorecardKind.network:
        card = network_scorecard(results, job.subject, job.audience, job.language, job.paper)
    else:
        card = partner_scorecard(
            results, job.subject, job.view, job.audience, job.language, job.paper
        )
    return scorecard_html(job.kind.value, card, job.language)


async def render_cycle(
    cycle_key: str,
    out: Path,
    paper: str = "a4",
    processes: int = 2,
    audiences: set[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BatchReport:
    """Render a scored cycle's scorecards into `out`, skipping those unchanged since the last
    run; return what was written, skipped and what failed (with why)."""
    results = await cycle_results(cycle_key)
    jobs = cycle_jobs(results, paper, audiences)
    if audiences is not None:
        served = {results.orgs[job.audience].slug for job in jobs}
        if unknown := sorted(audiences - served):
            raise ScorecardError(
                f"cycle {cycle_key} has no scorecard for {', '.join(unknown)}: an audience is "
                "the slug of a sponsor, CRO, site or network that was rated or rated others"
            )
    done = {
        r["key"].removeprefix(f"{cycle_key}/"): r["content_hash"]
        for r in await RenderedScorecard.select(
            RenderedScorecard.key, RenderedScorecard.content_hash
        ).where(RenderedScorecard.cycle == results.cycle_id)
    }
    report = BatchReport()
    folder = out / checked_cycle_key(cycle_key)  # a folder name only from a checked key
    todo: list[tuple[Job, str, str]] = []
    for job in jobs:
        try:
            html = rendered_html(results, job)
        except Exception as error:  # one scorecard that cannot be laid out: list it, go on
            report.failed.append((job.key, f"{type(error).__name__}: {error}"))
            continue
        digest = content_hash(html)
        if done.get(job.key) == digest and (folder / f"{job.key}.pdf").is_file():
            report.skipped += 1
        else:
            todo.append((job, html, digest))
    total = len(todo)
    if progress:
        progress(0, total)
    if todo:
        with pdf_workers(max(1, processes)) as pool:
            rendered = _rendered(pool, todo, 2 * max(1, processes))
            for finished, (job, digest, outcome) in enumerate(rendered, start=1):
                failure = await _keep(results, folder, job, digest, outcome)
                if failure is None:
                    report.written.append(job.key)
                else:
                    report.failed.append((job.key, failure))
                if progress:
                    progress(finished, total)
    try:
        _write_index(folder, results, jobs)
    except OSError as error:
        raise ScorecardError(
            f"could not write {folder / 'index.csv'}: {error.strerror or error} "
            f"({len(report.written)} scorecard(s) were written whole; run again to finish)"
        ) from None
    return report


def stored_key(cycle_key: str, card_key: str) -> str:
    """How a written scorecard is kept: its key within its cycle (the same partner's
    scorecard for the same reader is made again every cycle)."""
    return f"{cycle_key}/{card_key}"


async def batch_keys(cycle_key: str, paper: str = "a4") -> list[str]:
    """The key of every scorecard of a scored cycle: a batch spread over many processes
    gives each its share by key (`render_card`)."""
    return [job.key for job in cycle_jobs(await cycle_results(cycle_key), paper, None)]


async def render_card(
    cycle_key: str,
    card_key: str,
    out: Path,
    pdf: Callable[[str], Awaitable[bytes]],
    batch: int,
    paper: str = "a4",
) -> bool:
    """Render one scorecard of a batch into `out` unless it is unchanged; return whether it
    was written. Raises ScorecardError (or the renderer's error) if it cannot be made.

    Safe to run twice, or in two processes at once: the same HTML is skipped once its PDF
    is on disk, and a file is written whole under a name of its own, then renamed. The
    cycle's results are read once per `batch` in each process (a batch shows the cycle as
    it was when its first scorecard was made here).
    """
    results = await _results_of(cycle_key, batch)
    jobs = {job.key: job for job in cycle_jobs(results, paper, None)}
    if card_key not in jobs:
        raise ScorecardError(f"cycle {cycle_key} has no scorecard {card_key}")
    job = jobs[card_key]
    html = rendered_html(results, job)
    digest = content_hash(html)
    folder = out / checked_cycle_key(cycle_key)
    stored = (
        await RenderedScorecard.select(RenderedScorecard.content_hash)
        .where(RenderedScorecard.key == stored_key(cycle_key, card_key))
        .first()
    )
    if stored and stored["content_hash"] == digest and (folder / f"{card_key}.pdf").is_file():
        return False
    failure = await _keep(results, folder, job, digest, await pdf(html))
    if failure is not None:
        raise ScorecardError(failure)
    return True


_results_kept: dict[tuple[str, int], CycleResults] = {}


async def _results_of(cycle_key: str, batch: int) -> CycleResults:
    """A cycle's results, read once per batch in this process: a batch's scorecards come
    one by one to each worker, and reading the whole cycle for each would cost more than
    its PDF."""
    kept = _results_kept.get((cycle_key, batch))
    if kept is None:
        _results_kept.clear()  # one batch at a time: memory stays one cycle's
        kept = _results_kept[(cycle_key, batch)] = await cycle_results(cycle_key)
    return kept


def _rendered(
    pool: Executor, todo: list[tuple[Job, str, str]], window: int
) -> Iterator[tuple[Job, str, bytes | BaseException]]:
    """Each job's PDF (or why it failed), in order, with at most `window` in flight (two per
    worker), so memory stays flat however many scorecards a cycle has."""
    pending: list[tuple[Job, str, Future[bytes]]] = []
    queue = iter(todo)
    for job, html, digest in queue:
        pending.append((job, digest, pool.submit(pdf_of, html)))
        while len(pending) >= window:
            yield _outcome(*pending.pop(0))
    while pending:
        yield _outcome(*pending.pop(0))


def _outcome(
    job: Job, digest: str, future: Future[bytes]
) -> tuple[Job, str, bytes | BaseException]:
    try:
        return job, digest, future.result()
    except Exception as error:
        return job, digest, error


async def _keep(
    results: CycleResults, folder: Path, job: Job, digest: str, outcome: bytes | BaseException
) -> str | None:
    """Write one PDF whole (temporary name, then rename) and record it; or say why not."""
    if isinstance(outcome, BaseException):
        return f"{type(outcome).__name__}: {outcome}"
    path = folder / f"{job.key}.pdf"
    partial = path.with_suffix(f".pdf.{os.getpid()}.partial")  # two processes never share one
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(outcome)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        return f"could not write {path}: {error.strerror or error}"
    key = stored_key(results.cycle, job.key)
    async with writing_transaction(RenderedScorecard._meta.db):
        await RenderedScorecard.delete().where(
            (RenderedScorecard.cycle == results.cycle_id)
            & RenderedScorecard.key.is_in([key, job.key])  # and as kept before cycles were
        )
        await RenderedScorecard.insert(
            RenderedScorecard(
                key=key,
                cycle=results.cycle_id,
                run=results.run,
                kind=job.kind.value,
                subject=job.subject,
                audience=job.audience,
                language=job.language,
                content_hash=digest,
                file_path=f"{job.key}.pdf",
                rendered_at=dt.datetime.now(dt.UTC),
            )
        )
    return None


def _write_index(folder: Path, results: CycleResults, jobs: list[Job]) -> None:
    """index.csv beside the PDFs: one line per scorecard, whatever this run rendered."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / "index.csv.partial"
    with partial.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "file",
                "kind",
                "partner",
                "rated_by",
                "audience",
                "language",
                "reliability_index",
                "ri_low",
                "ri_high",
            ]
        )
        for job in jobs:
            index = results.index(job.subject, job.view)
            writer.writerow(
                [
                    spreadsheet_safe(cell)
                    for cell in (
                        f"{job.key}.pdf",
                        job.kind.value,
                        results.orgs[job.subject].name,
                        results.orgs[job.view].name if job.view is not None else "all sites",
                        results.orgs[job.audience].name,
                        job.language,
                        *(
                            _figure(f)
                            for f in (index.reliability_index, index.ri_low, index.ri_high)
                        ),
                    )
                ]
            )
    os.replace(partial, folder / "index.csv")


def _figure(value: float | None) -> str:
    """A figure as index.csv writes it: one decimal, blank where hidden."""
    return "" if value is None else f"{float(str(value)):.1f}"
