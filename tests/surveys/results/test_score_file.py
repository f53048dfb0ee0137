"""`rapport score-file`: an analyst's CSV in, four files out; bad files named by line and column."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.config import ScoringConfig
from scoring.engine import (
    DIMENSION_COLUMNS,
    FLAG_COLUMNS,
    IMPORTANCE_COLUMNS,
    RELIABILITY_COLUMNS,
    TARGET_COLUMNS,
    score,
)
from surveys.infra.errors import FileError
from surveys.results.score_file import read_answers_csv
from surveys.world import WorldParameters, bundled_specs, generate_world

HEADER = "cycle,rater,rater_org,target,item,value\n"


@pytest.fixture(scope="module")
def answers_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    specs = bundled_specs()
    world = generate_world(WorldParameters(seed=3, sites=20, cycles=3), specs)
    table = world.answers_for_scoring("sponsor_rates_site")
    text = table["value"].map(lambda v: "" if np.isnan(v) else str(int(v)))
    text[table["not_applicable"].to_numpy()] = "NA"
    table["value"] = text
    path = tmp_path_factory.mktemp("csv") / "answers.csv"
    table[["cycle", "rater", "rater_org", "target", "item", "value"]].to_csv(path, index=False)
    return path


def rapport(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "surveys", *args], capture_output=True, text=True, timeout=300
    )


def test_score_file_writes_its_files_and_is_repeatable(answers_csv: Path, tmp_path: Path) -> None:
    for out in ("first", "second"):
        result = rapport(
            "score-file",
            str(answers_csv),
            "--instrument",
            "sponsor_rates_site",
            "--out",
            str(tmp_path / out),
        )
        assert result.returncode == 0, result.stderr
    for name in ("targets.csv", "dimensions.csv", "reliability.csv", "importance.csv", "flags.csv"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
    targets = pd.read_csv(tmp_path / "first" / "targets.csv")
    assert tuple(targets.columns) == TARGET_COLUMNS
    assert tuple(pd.read_csv(tmp_path / "first" / "dimensions.csv").columns) == DIMENSION_COLUMNS
    assert tuple(pd.read_csv(tmp_path / "first" / "reliability.csv").columns) == RELIABILITY_COLUMNS
    importance = pd.read_csv(tmp_path / "first" / "importance.csv")
    assert tuple(importance.columns) == IMPORTANCE_COLUMNS
    assert importance["stated_importance"].dropna().between(0, 100).all()
    assert importance["stated_importance"].notna().mean() > 0.5
    flags = pd.read_csv(tmp_path / "first" / "flags.csv")
    assert tuple(flags.columns) == FLAG_COLUMNS
    assert set(flags["flag"]) <= {"significant_drop", "under_floor"}, "no invitations, no rates"
    assert sorted(targets["cycle"].unique()) == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert targets["reliability_index"].between(0, 100).all()
    # trends need three scored cycles: only the last cycle has them
    assert targets.loc[targets["cycle"] < "2026-Q3", "trend_slope"].isna().all()
    assert targets.loc[targets["cycle"] == "2026-Q3", "trend_slope"].notna().any()
    run = json.loads((tmp_path / "first" / "run.json").read_text())
    assert run["config"] == ScoringConfig().as_dict()
    assert run["instrument"]["key"] == "sponsor_rates_site"
    assert len(run["input"]["sha256"]) == 64
    assert "trend_slope" in run["empty_cells"]


def test_file_results_equal_the_engine_on_the_same_answers(
    answers_csv: Path, tmp_path: Path
) -> None:
    spec = bundled_specs()["sponsor_rates_site"]
    expected = score(
        read_answers_csv(answers_csv), spec.item_table(), 5, spec.direction, ScoringConfig()
    )
    rapport(
        "score-file", str(answers_csv), "--instrument", "sponsor_rates_site", "--out", str(tmp_path)
    )
    written = pd.read_csv(tmp_path / "targets.csv")
    np.testing.assert_allclose(
        written["reliability_index"], expected.targets["reliability_index"], rtol=0, atol=1e-12
    )
    assert written["tier"].tolist() == expected.targets["tier"].tolist()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "c,r,o,t,data_matches_source,four\n",
            "answers.csv:2: value: 'four' is not a number, empty or NA",
        ),
        (
            "c,r,o,t,data_matches_source,3\nc,,o,t,data_matches_source,3\n",
            "answers.csv:3: rater: is empty",
        ),
        (
            "c,r,o,t,data_matches_source,3\nc,r,o,t,data_matches_source,3,9\n",
            "answers.csv: file: not a readable CSV .*Expected 6 fields in line 3, saw 7",
        ),
        ("c,r,o,t,data_matches_source,3\nc,r,o\n", "answers.csv:3: target: is empty"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(HEADER + body)
    with pytest.raises(FileError, match=message):
        read_answers_csv(path)


def test_an_empty_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("")
    with pytest.raises(FileError, match=r"answers.csv: file: is empty; expected the header cycle,"):
        read_answers_csv(path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("cycle,rater,target,item,value\nc,r,t,i,3\n")
    with pytest.raises(FileError, match=r"answers.csv:1: header: missing column\(s\) rater_org"):
        read_answers_csv(path)


def test_out_of_scale_answer_is_one_line_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(HEADER + "c,r,o,t,data_matches_source,3\nc,r,o,t,source_complete,9\n")
    result = rapport(
        "score-file",
        str(path),
        "--instrument",
        "sponsor_rates_site",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{path}: line 3, column value: 9 is not an answer on the 1–5 scale" in result.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_instrument_and_bad_config_are_one_line(tmp_path: Path, answers_csv: Path) -> None:
    result = rapport("score-file", str(answers_csv), "--instrument", "nope", "--out", str(tmp_path))
    assert result.returncode == 1
    assert "neither a bundled instrument" in result.stderr
    config = tmp_path / "scoring.toml"
    config.write_text("[tiers]\nstrategic_lowerbound = 1\n")
    result = rapport(
        "score-file",
        str(answers_csv),
        "--instrument",
        "sponsor_rates_site",
        "--config",
        str(config),
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 1
    assert "tiers.strategic_lowerbound: unknown setting" in result.stderr
