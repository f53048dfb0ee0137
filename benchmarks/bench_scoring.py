"""Benchmark: scoring one cycle of the benchmark world end to end, against the per-group path.

Run with `make bench` (or `python benchmarks/bench_scoring.py --help`). The world is the
5,000-relationship one (1,960 sites) with 8 staff per site answering; the engine scores
both directions from an in-memory table. The naive path (one pingouin call per target
for its per-target statistics) is timed on a sample and extrapolated for the speed-up.
"""

from __future__ import annotations

import time

import click
import pandas as pd
from _report import machine, peak_rss_mb, report

from scoring.config import ScoringConfig
from scoring.engine import score
from surveys.world import WorldParameters, bundled_specs, generate_world


def naive_seconds_per_target(answers: pd.DataFrame, items: pd.DataFrame, sample: int) -> float:
    """Time the per-group path: pingouin's alpha and ICC for each target, one call each."""
    import pingouin as pg

    likert = items.index[items["kind"] == "likert"]
    rated = answers[answers["item"].isin(likert)].dropna(subset=["value"])
    targets = rated["target"].drop_duplicates().head(sample)
    start = time.perf_counter()
    for target in targets:
        group = rated[rated["target"] == target]
        wide = group.pivot_table(index="rater", columns="item", values="value")
        if len(wide) >= 2:
            pg.cronbach_alpha(wide)
        long = group.groupby(["rater", "item"], as_index=False)["value"].mean()
        balanced = long.pivot_table(index="item", columns="rater", values="value").dropna()
        if balanced.shape[0] >= 2 and balanced.shape[1] >= 2:
            stacked = balanced.stack().rename("value").reset_index()
            pg.intraclass_corr(stacked, targets="item", raters="rater", ratings="value")
    return (time.perf_counter() - start) / max(1, len(targets))


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
    baseline = peak_rss_mb()
    figures: dict[str, object] = {
        "machine": machine(),
        "answers": sum(len(table) for table in answers.values()),
        "rss_before_scoring_mb": round(baseline),
    }
    total = 0.0
    config = ScoringConfig()
    for direction, spec in specs.items():
        items = spec.item_table()
        mine = answers[direction]
        start = time.perf_counter()
        result = score(mine, items, spec.scale_points, direction, config)
        seconds = time.perf_counter() - start
        total += seconds
        figures[f"{direction}_answers"] = len(mine)
        figures[f"{direction}_targets"] = len(result.targets)
        figures[f"{direction}_s"] = round(seconds, 2)
        per_target = naive_seconds_per_target(mine, items, sample)
        figures[f"{direction}_naive_s_extrapolated"] = round(per_target * len(result.targets), 1)
    figures["engine_total_s"] = round(total, 2)
    figures["peak_rss_mb"] = round(peak_rss_mb())
    naive = sum(v for k, v in figures.items() if k.endswith("naive_s_extrapolated"))  # type: ignore[misc]
    figures["speed_up"] = round(naive / total, 1)
    report("Scoring benchmark", figures, "scoring")


if __name__ == "__main__":
    main()
