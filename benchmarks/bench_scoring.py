"""Benchmark: scoring one cycle of the benchmark world end to end, against the per-group path.

Run with `make bench` (or `python benchmarks/bench_scoring.py --help`). The world is the
5,000-relationship one (1,960 sites) with 8 staff per site answering; the engine scores
both directions from an in-memory table. The naive path (one pingouin call per target
for its per-target statistics) is timed on a sample and extrapolated for the speed-up.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import pandas as pd
from _report import machine, peak_rss_mb, report, reset_peak

from scoring.config import ScoringConfig
from scoring.engine import score
from scoring.items import ANSWER_COLUMNS
from surveys.world import WorldParameters, bundled_specs, generate_world


def naive_seconds_per_target(answers: pd.DataFrame, items: pd.DataFrame, sample: int) -> float:
    """Time the per-group path on `sample` targets: what the engine gives per target, by pingouin.

    For each target (iterated with one groupby, not a scan per target): its raters'
    dimension scores, then pingouin's t interval of each dimension's mean (the engine's
    low/high), and pingouin's one-way ICC over its raters and items (behind λ).
    """
    import warnings

    import pingouin as pg

    likert = items[items["kind"] == "likert"]
    rated = answers[answers["item"].isin(likert.index)].dropna(subset=["value"])
    chosen = rated["target"].drop_duplicates().head(sample)
    rated = rated[rated["target"].isin(chosen)]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pingouin warns on tiny groups; the engine does not
        for _target, group in rated.groupby("target"):
            group = group.assign(dimension=group["item"].map(likert["dimension"]))
            scores = group.groupby(["rater", "dimension"])["value"].mean().reset_index()
            for _dimension, per_dimension in scores.groupby("dimension"):
                if len(per_dimension) >= 2:
                    pg.ttest(per_dimension["value"], 0, confidence=0.90)
            long = group.groupby(["rater", "item"], as_index=False)["value"].mean()
            balanced = long.pivot_table(index="item", columns="rater", values="value").dropna()
            if balanced.shape[0] >= 2 and balanced.shape[1] >= 2:
                stacked = balanced.stack().rename("value").reset_index()
                pg.intraclass_corr(stacked, targets="item", raters="rater", ratings="value")
    return (time.perf_counter() - start) / max(1, len(chosen))


@click.command()
@click.option("--sites", default=1960, show_default=True, help="1,960 sites ≈ 5,000 relationships.")
@click.option("--raters", default=8, show_default=True, help="Staff per site who answer.")
@click.option("--sample", default=60, show_default=True, help="Targets timed on the naive path.")
def main(sites: int, raters: int, sample: int) -> None:
    """Time the engine on one cycle of the benchmark world, and the naive path on a sample."""
    specs = bundled_specs()
    world = generate_world(WorldParameters(sites=sites, cycles=1, raters=raters), specs)
    answers = {direction: world.answers_for_scoring(direction) for direction in specs}
    del world
    figures: dict[str, object] = {
        "machine": machine(),
        "answers": sum(len(table) for table in answers.values()),
        "generation_peak_rss_mb": round(peak_rss_mb()),
    }
    reset_peak()
    figures["rss_before_scoring_mb"] = round(peak_rss_mb())
    total = 0.0
    config = ScoringConfig()
    targets = {}
    for direction, spec in specs.items():
        start = time.perf_counter()
        result = score(answers[direction], spec.item_table(), spec.scale_points, direction, config)
        seconds = time.perf_counter() - start
        total += seconds
        targets[direction] = len(result.targets)
        figures[f"{direction}_answers"] = len(answers[direction])
        figures[f"{direction}_targets"] = targets[direction]
        figures[f"{direction}_s"] = round(seconds, 2)
        del result
    figures["engine_total_s"] = round(total, 2)
    figures["scoring_peak_rss_mb"] = round(peak_rss_mb())
    naive = 0.0
    for direction, spec in specs.items():
        per_target = naive_seconds_per_target(answers[direction], spec.item_table(), sample)
        figures[f"{direction}_naive_s_extrapolated"] = round(per_target * targets[direction], 1)
        naive += per_target * targets[direction]
    figures["speed_up"] = round(naive / total, 1)
    figures.update(score_file_figures(answers))
    report("Scoring benchmark", figures, "scoring")


CHILD = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from _report import peak_rss_mb
from surveys.cli import main
try:
    main(sys.argv[1:])
finally:
    print(peak_rss_mb(), file=sys.stderr)
"""
"""Runs `rapport` with the given arguments, then prints its own peak memory (MB)."""


def score_file_figures(answers: dict[str, pd.DataFrame]) -> dict[str, object]:
    """Time `rapport score-file` end to end (a fresh process) on each direction as a CSV."""
    figures: dict[str, object] = {}
    total = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for direction, table in answers.items():
            path = Path(folder) / f"{direction}.csv"
            text = table["value"].map(lambda v: "" if v != v else str(int(v)))
            text[table["not_applicable"].to_numpy()] = "NA"
            table.assign(value=text)[list(ANSWER_COLUMNS)].to_csv(path, index=False)
            out = Path(folder) / direction
            arguments = ["score-file", str(path), "--instrument", direction, "--out", str(out)]
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", CHILD, *arguments],
                check=True,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - start
            total += seconds
            # the child reports its own peak: RUSAGE_CHILDREN would count this process's too
            child = float(done.stderr.strip().splitlines()[-1])
            figures[f"score_file_{direction}_mb_on_disk"] = round(path.stat().st_size / 1e6)
            figures[f"score_file_{direction}_s"] = round(seconds, 2)
            figures[f"score_file_{direction}_peak_rss_mb"] = round(child)
    figures["score_file_total_s"] = round(total, 2)
    return figures


if __name__ == "__main__":
    main()
