"""Benchmark: scorecards per second on 1 and 2 processes, and a whole cycle's batch.

Builds a synthetic world in a fresh SQLite file, scores its closed cycles, then
1. renders the same 200 partner scorecards' PDFs with 1 and with 2 worker processes
   (scorecards per second; peak memory of the workers);
   and, in this process, 40 of them the way `pdf_of` renders them and the way plain
   WeasyPrint does (no shared fonts or stylesheet, the collector running), beside a
   reference document of known shape (two A4 pages, a 28-row four-column table, ten
   inline SVG sparklines of 20 points, PDF/UA): a scorecard's cost as a ratio to it;
2. runs `render_cycle` over the whole latest cycle (every partner, portfolio and network
   scorecard, each for its audiences) into a fresh folder;
3. runs it again with nothing changed (every scorecard skipped by its hash).
Run with `make bench` or `python benchmarks/bench_scorecards.py --help`; figures go to
benchmarks/results/scorecards.json and the README.
"""

from __future__ import annotations

import asyncio
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click
from _report import machine, peak_rss_mb, report

from scoring.config import ScoringConfig
from surveys.infra.database import apply_migrations, engine_for, prepare, use_engine
from surveys.infra.settings import parse_database_url
from surveys.results.cycle_scoring import score_closed_cycles
from surveys.results.score_runs import scored_cycles
from surveys.scorecards import cycle_results, pdf_of, pdf_workers, render_cycle
from surveys.scorecards._batch import cycle_jobs, rendered_html
from surveys.world import WorldParameters, build_world

SAMPLE = 200


async def build(folder: str, sites: int) -> str:
    """A scored world in a fresh SQLite file; return its latest scored cycle."""
    engine = engine_for(parse_database_url(f"sqlite:///{folder}/bench.sqlite"))
    use_engine(engine)
    await prepare(engine)
    await apply_migrations()
    await build_world(WorldParameters(sites=sites, cycles=3, raters=3), actor="bench")
    await score_closed_cycles(ScoringConfig(), "bench", "bench")
    return str((await scored_cycles())[0]["key"])


async def sample_html(cycle: str) -> tuple[list[str], int]:
    """The HTML of SAMPLE partner scorecards, and how many scorecards the cycle has."""
    results = await cycle_results(cycle)
    jobs = cycle_jobs(results, "a4", None)
    partners = [job for job in jobs if job.kind.value == "partner"]
    step = max(1, len(partners) // SAMPLE)
    return [rendered_html(results, job) for job in partners[::step][:SAMPLE]], len(jobs)


def rate(pages: list[str], processes: int) -> float:
    """Scorecards per second with `processes` workers, their start-up excluded."""
    with pdf_workers(processes) as pool:
        list(pool.map(pdf_of, pages[:processes]))  # start and warm every worker
        start = time.perf_counter()
        list(pool.map(pdf_of, pages, chunksize=4))
        return len(pages) / (time.perf_counter() - start)


def reference_html() -> str:
    """The reference document: two A4 pages of a 28-row, four-column table and ten inline
    SVG sparklines of 20 points, in the scorecards' font, tagged like them."""
    rng = random.Random(7)
    rows = "".join(
        f"<tr><th>Site {n:02d}</th><td>{rng.uniform(40, 90):.1f}</td>"
        f"<td>{rng.uniform(0, 1):.2f}</td><td>{rng.choice(['up', 'flat', 'down'])}</td></tr>"
        for n in range(28)
    )
    lines = []
    for n in range(10):
        points = " ".join(f"{x * 6},{rng.uniform(2, 28):.1f}" for x in range(20))
        lines.append(
            f'<p>Trend {n}: <svg width="120" height="30" role="img" aria-label="trend {n}">'
            f'<polyline points="{points}" fill="none" stroke="#1f4e8c"/></svg></p>'
        )
    text = "<p>" + "Reliability of a relationship, measured both ways. " * 40 + "</p>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reference</title>'
        "<style>@page { size: A4; margin: 13mm } body { font-family: 'Noto Sans'; "
        "font-size: 9pt } table { border-collapse: collapse; width: 100% } "
        "td, th { border-bottom: 1px solid #d5dbe3; padding: 2.5pt 4pt } "
        ".next { break-before: page }</style></head><body><main><h1>Reference</h1>"
        f"<table><thead><tr><th>Site</th><th>Index</th><th>Alpha</th><th>Trend</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>{text}"
        f'<div class="next">{"".join(lines)}{text}</div></main></body></html>'
    )


def plain_pdf(html: str) -> bytes:
    """What `pdf_of` did before its speed-ups: WeasyPrint as it comes."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=2)
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(pdf_variant="pdf/ua-1")
    return pdf


def seconds_each(render: Callable[[str], bytes], pages: list[str]) -> float:
    """Mean seconds a document, in this process, after one warm-up."""
    render(pages[0])
    start = time.perf_counter()
    for page in pages:
        render(page)
    return (time.perf_counter() - start) / len(pages)


@click.command()
@click.option(
    "--sites",
    default=220,
    show_default=True,
    help="220 sites ≈ 1,000 partner scorecards in a cycle.",
)
@click.option("--no-batch", is_flag=True, help="Skip the whole cycle's batch (minutes).")
def main(sites: int, no_batch: bool) -> None:
    """Time scorecard PDFs (1 and 2 processes) and a whole cycle's batch, cold and warm."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        cycle = asyncio.run(build(folder, sites))
        prepared = time.perf_counter() - start
        pages, scorecards = asyncio.run(sample_html(cycle))
        in_process = pages[:40]
        scorecard_s = seconds_each(pdf_of, in_process)
        plain_s = seconds_each(plain_pdf, in_process)
        reference_s = seconds_each(pdf_of, [reference_html()] * 20)
        one = rate(pages, 1)
        two = rate(pages, 2)
        workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out = Path(folder) / "out"
        batch: dict[str, object] = {}
        if not no_batch:
            start = time.perf_counter()
            first = asyncio.run(render_cycle(cycle, out, "a4", 2))
            batch_s = time.perf_counter() - start
            start = time.perf_counter()
            again = asyncio.run(render_cycle(cycle, out, "a4", 2))
            batch = {
                "batch_scorecards": scorecards,
                "batch_written": len(first.written),
                "batch_failed": len(first.failed),
                "batch_s": round(batch_s, 1),
                "rerun_unchanged_s": round(time.perf_counter() - start, 1),
                "rerun_skipped": again.skipped,
            }
    report(
        "Scorecards benchmark",
        {
            "machine": machine(),
            "world": f"{sites} sites, 3 cycles; built and scored in {prepared:.0f} s",
            "sample": f"{len(pages)} partner scorecards",
            "scorecard_s_pdf_of": round(scorecard_s, 3),
            "scorecard_s_plain_weasyprint": round(plain_s, 3),
            "reference_document_s": round(reference_s, 3),
            "scorecard_to_reference": round(scorecard_s / reference_s, 2),
            "plain_to_reference": round(plain_s / reference_s, 2),
            "per_second_1_process": round(one, 1),
            "per_second_2_processes": round(two, 1),
            "speed_up": round(two / one, 2),
            "worker_peak_rss_mb": round(workers_mb),
            **batch,
            "main_peak_rss_mb": round(peak_rss_mb()),
        },
        "scorecards",
    )


if __name__ == "__main__":
    main()
