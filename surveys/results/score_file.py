"""Answers from elsewhere: reading an analyst's CSV for `rapport score-file`, writing the results.

The CSV is long format with the header `cycle,rater,rater_org,target,item,value`; an empty
value is missing, `NA` is not applicable. Every problem names the file, the line and
the column, and nothing is written unless the whole file scores.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring.config import ScoringConfig
from scoring.engine import ScoreResult
from scoring.items import ANSWER_COLUMNS
from surveys.infra.errors import FileError
from surveys.instruments import InstrumentSpec, bundled_specs_by_key, parse_instrument

NOT_APPLICABLE = "NA"


def read_answers_csv(path: Path) -> pd.DataFrame:
    """Return the answers in `path` in the engine's format, or raise FileError on a bad line."""
    options: dict[str, Any] = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
    try:
        # Arrow's multithreaded reader is ten times faster on millions of rows, but names
        # no line when a row is malformed; the C reader then reads it again to say where
        try:
            raw = pd.read_csv(path, engine="pyarrow", **options)
        except pd.errors.ParserError:
            raw = pd.read_csv(path, engine="c", **options)
    except FileNotFoundError:
        raise FileError(path, "file", "no such file") from None
    except pd.errors.EmptyDataError:
        raise FileError(
            path, "file", f"is empty; expected the header {','.join(ANSWER_COLUMNS)}"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise FileError(
            path, "file", f"not a readable CSV ({str(error).strip().splitlines()[0]})"
        ) from None
    missing = [c for c in ANSWER_COLUMNS if c not in raw.columns]
    if missing:
        raise FileError(
            path,
            "header",
            f"missing column(s) {', '.join(missing)}; expected {','.join(ANSWER_COLUMNS)}",
            1,
        )
    for column in ("cycle", "rater", "target", "item"):
        codes, texts = pd.factorize(raw[column])
        empty = (texts.str.strip() == "")[codes]
        if empty.any():
            raise FileError(path, column, "is empty", int(np.flatnonzero(empty)[0]) + 2)
    # a few distinct texts among millions of values: convert each text once
    codes, texts = pd.factorize(raw["value"])
    stripped = pd.Series(texts, dtype=object).str.strip()
    is_na = (stripped == NOT_APPLICABLE).to_numpy()
    is_empty = (stripped == "").to_numpy()
    numbers = pd.to_numeric(stripped.where(~is_na & ~is_empty), errors="coerce").to_numpy(float)
    unreadable = np.isnan(numbers) & ~is_na & ~is_empty
    if unreadable[codes].any():
        line = int(np.flatnonzero(unreadable[codes])[0])
        raise FileError(
            path, "value", f"{stripped.iloc[codes[line]]!r} is not a number, empty or NA", line + 2
        )
    answers = raw[list(ANSWER_COLUMNS)].copy()
    answers["value"] = numbers[codes]
    answers["not_applicable"] = is_na[codes]
    return answers


def instrument_for(key_or_path: str) -> InstrumentSpec:
    """Return a bundled instrument by key, or the instrument in a TOML file."""
    bundled = bundled_specs_by_key()
    if key_or_path in bundled:
        return bundled[key_or_path]
    path = Path(key_or_path)
    if not path.exists():
        known = ", ".join(sorted(bundled))
        raise FileError(
            key_or_path, "instrument", f"neither a bundled instrument ({known}) nor a file"
        )
    return parse_instrument(path)


def code_version() -> str:
    """Return Rapport's version, with the git commit when run from a checkout."""
    try:
        release = version("rapport")
    except PackageNotFoundError:
        release = "unknown"
    git = shutil.which("git")
    if git is None:
        return release
    try:
        commit = subprocess.run(  # noqa: S603  (a fixed git command, no user input)
            [git, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return release
    return f"{release}+{commit}" if commit else release


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: the same input always has the same digest."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_results(
    result: ScoreResult, out: Path, config: ScoringConfig, spec: InstrumentSpec, source: Path
) -> list[Path]:
    """Write targets.csv, dimensions.csv, reliability.csv, importance.csv, flags.csv and run.json.

    Files are written beside each other under temporary names and renamed at the end,
    so a failure leaves the previous results (or nothing), never half a run.
    """
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "targets.csv": result.targets,
        "dimensions.csv": result.dimensions,
        "reliability.csv": result.reliability,
        "importance.csv": result.importance,
        "flags.csv": result.flags,
    }
    run: dict[str, Any] = {
        "code_version": code_version(),
        "instrument": {"key": spec.key, "version": spec.version, "digest": spec.digest},
        "input": {"file": str(source), "sha256": file_digest(source)},
        "config": config.as_dict(),
        "empty_cells": result.notes,
    }
    staged = []
    for name, table in tables.items():
        temporary = out / f".{name}.tmp"
        printable = table.copy()
        for column in printable.columns:
            if printable[column].dtype == bool:
                printable[column] = printable[column].map({True: "true", False: "false"})
        printable.to_csv(temporary, index=False, na_rep="")
        staged.append((temporary, out / name))
    temporary = out / ".run.json.tmp"
    temporary.write_text(json.dumps(run, indent=2, ensure_ascii=False))
    staged.append((temporary, out / "run.json"))
    for temporary, final in staged:
        temporary.replace(final)
    return [final for _, final in staged]
