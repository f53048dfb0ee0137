"""Every row of a file checked at once against the cycle's invitations and instruments:
whose response it is, and what each answer means on its item's scale.

The work is done column-wise (pandas) and each distinct code is read once, so a file of
50,000 responses is checked in about the time the score engine takes to read as many.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scoring.items import IMPORTANCE_POINTS
from surveys.infra.i18n import N_, Text
from surveys.responses.answering import without_control_characters
from surveys.responses.imports._mapping import NOT_APPLICABLE, Mapping
from surveys.responses.imports._table import LINE, Said

Answer = tuple[int | None, bool, str | None]
"""(value, not applicable, text): one answer as it is stored."""


@dataclass(frozen=True)
class Checked:
    """The file's responses and answers, ready to store, and what is wrong with them."""

    responses: pd.DataFrame
    """One row per response: line, invitation, email, target."""
    answers: pd.DataFrame
    """One row per answer: line, invitation, item (its id), value, not_applicable, text."""
    problems: tuple[tuple[int, Said], ...]
    """(line, what is wrong)."""


def checked_answers(
    rows: pd.DataFrame,
    items: dict[str, str],
    mapping: Mapping,
    invitations: pd.DataFrame,
    instrument_items: pd.DataFrame,
    cycle_key: str,
) -> Checked:
    """Check the rows against the invitations (email, target → invitation, instrument) and
    the instruments' items (instrument, key, item, kind, scale)."""
    problems: list[tuple[int, Said]] = []
    who = _whose(rows, mapping, problems)
    found = who.merge(invitations, on=["email", "target"], how="left")
    missing = found["invitation"].isna()
    problems += [
        (
            int(r.line),
            _no_invitation(mapping.respondent, cycle_key, r.email, r.target),
        )
        for r in found[missing].itertuples()
    ]
    again = found.duplicated(["email", "target"], keep="first") & ~missing
    firsts = found[~again].drop_duplicates(["email", "target"]).set_index(["email", "target"])
    problems += [
        (
            int(r.line),
            Said(
                N_(
                    "%(email)s rating %(target)s again (first on line %(first)s); "
                    "one row per response"
                ),
                email=r.email,
                target=r.target,
                first=int(firsts.loc[(r.email, r.target), "line"]),
            ),
        )
        for r in found[again].itertuples()
    ]
    responses = found[~missing & ~again].astype({"invitation": int, "instrument": int})
    answers = _answers(rows, items, responses, instrument_items, mapping, problems)
    # a row whose cells are all empty has no answers; one with a wrong cell is told that
    filled = [rows[c].astype(str).str.strip() != "" for c in items]
    answered = (
        set(rows.loc[pd.concat(filled, axis=1).any(axis=1), LINE].astype(int)) if filled else set()
    )
    problems += [
        (int(line), Said(N_("no answers; a response needs at least one")))
        for line in responses["line"]
        if line not in answered
    ]
    return Checked(responses, answers, tuple(sorted(problems)))


def _whose(rows: pd.DataFrame, mapping: Mapping, problems: list[tuple[int, Said]]) -> pd.DataFrame:
    """Each row's line, respondent e-mail (lower case) and partner slug."""
    lines = rows[LINE].astype(int)
    if mapping.respondent not in rows:
        problems.append(
            (
                0,
                Said(
                    N_("column %(column)s: not in the file (the respondent)"),
                    column=mapping.respondent,
                ),
            )
        )
        email = pd.Series("", index=rows.index)
    else:
        email = rows[mapping.respondent].str.strip().str.lower()
    if mapping.target_slug:
        target = pd.Series(mapping.target_slug, index=rows.index)
    elif mapping.target and mapping.target in rows:
        target = rows[mapping.target].str.strip()
    else:
        problems.append(
            (0, Said(N_("column %(column)s: not in the file (the partner)"), column=mapping.target))
        )
        target = pd.Series("", index=rows.index)
    return pd.DataFrame({"line": lines, "email": email, "target": target})


def _answers(
    rows: pd.DataFrame,
    items: dict[str, str],
    responses: pd.DataFrame,
    instrument_items: pd.DataFrame,
    mapping: Mapping,
    problems: list[tuple[int, Said]],
) -> pd.DataFrame:
    """The non-empty cells of the item columns as answers of their response's instrument."""
    columns = ["line", "invitation", "item", "value", "not_applicable", "text"]
    if not items or responses.empty:
        return pd.DataFrame(columns=columns)
    cells = (
        rows[[LINE, *items]]
        .rename(columns={LINE: "line"})
        .astype({"line": int})
        .melt(id_vars="line", var_name="column", value_name="raw")
    )
    cells["raw"] = cells["raw"].str.strip()
    cells = cells[cells["raw"] != ""]
    cells["key"] = cells["column"].map(items)
    cells = cells.merge(responses[["line", "invitation", "instrument", "target"]], on="line")
    cells = cells.merge(instrument_items, on=["instrument", "key"], how="left")
    strange = cells["item"].isna()
    problems += [
        (
            int(r.line),
            Said(
                N_("column %(column)s: %(key)s is not an item of %(target)s's instrument"),
                column=r.column,
                key=repr(r.key),
                target=r.target,
            ),
        )
        for r in cells[strange].drop_duplicates(["line", "column"]).itertuples()
    ]
    cells = cells[~strange].astype({"item": int, "scale": int})
    if cells.empty:
        return pd.DataFrame(columns=columns)
    # each distinct code of each item is read once (a file holds few), then joined back
    codes = cells[["key", "kind", "scale", "raw"]].drop_duplicates(["key", "raw"])
    read = [
        _value(str(raw), str(key), str(kind), int(scale), mapping)
        for key, kind, scale, raw in zip(
            codes["key"].tolist(),
            codes["kind"].tolist(),
            codes["scale"].tolist(),
            codes["raw"].tolist(),
            strict=True,
        )
    ]
    # positional columns (never Series, whose index would be aligned with the codes')
    codes = pd.DataFrame(
        {
            "key": codes["key"].tolist(),
            "raw": codes["raw"].tolist(),
            "value": pd.array([None if isinstance(r, Text) else r[0] for r in read], dtype="Int64"),
            "not_applicable": [False if isinstance(r, Text) else r[1] for r in read],
            "text": np.array([None if isinstance(r, Text) else r[2] for r in read], dtype=object),
            "problem": np.array([r if isinstance(r, Text) else None for r in read], dtype=object),
        }
    )
    cells = cells.merge(codes, on=["key", "raw"], how="left")
    wrong = cells["problem"].notna()
    problems += [
        (int(line), _in_column(column, reason))
        for line, column, reason in zip(
            cells.loc[wrong, "line"].tolist(),
            cells.loc[wrong, "column"].tolist(),
            cells.loc[wrong, "problem"].tolist(),
            strict=True,
        )
    ]
    return cells.loc[~wrong, columns].reset_index(drop=True)


def _value(raw: str, key: str, kind: str, scale: int, mapping: Mapping) -> Answer | Text:
    """One cell as an answer, or why it cannot be one (naming the value, item and scale)."""
    if kind == "text":
        return (None, False, without_control_characters(raw))
    coded: Any = mapping.value_of(key, raw)
    if coded == NOT_APPLICABLE and kind == "likert":
        return (None, True, None)
    low, high = {"likert": (1, scale), "importance": (1, IMPORTANCE_POINTS), "overall": (0, 10)}[
        kind
    ]
    try:
        number = float(coded)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        if kind == "likert":
            return Text(
                N_(
                    "column %(column)s: %(raw)s is not a number or NA for %(key)s "
                    "(map it in [values] or [values.%(key)s])"
                ),
                {"raw": repr(raw), "key": key},
            )
        return Text(
            N_(
                "column %(column)s: %(raw)s is not a number for %(key)s "
                "(map it in [values] or [values.%(key)s])"
            ),
            {"raw": repr(raw), "key": key},
        )
    if number != int(number) or not low <= int(number) <= high:
        shown = repr(raw) if str(coded) == raw else f"{raw!r} ({coded})"
        return Text(
            N_("column %(column)s: %(value)s is outside %(low)s–%(high)s for %(key)s"),
            {"value": shown, "low": low, "high": high, "key": key},
        )
    return (int(number), False, None)


def _no_invitation(column: str, cycle_key: str, email: str, target: str) -> Said:
    """A row whose respondent (or partner) the cycle did not invite."""
    if email and target:
        return Said(
            N_("column %(column)s: no invitation in %(cycle)s for %(email)s rating %(target)s"),
            column=column,
            cycle=cycle_key,
            email=email,
            target=target,
        )
    if target:
        return Said(
            N_("column %(column)s: no invitation in %(cycle)s for (empty) rating %(target)s"),
            column=column,
            cycle=cycle_key,
            target=target,
        )
    if email:
        return Said(
            N_("column %(column)s: no invitation in %(cycle)s for %(email)s rating (no partner)"),
            column=column,
            cycle=cycle_key,
            email=email,
        )
    return Said(
        N_("column %(column)s: no invitation in %(cycle)s for (empty) rating (no partner)"),
        column=column,
        cycle=cycle_key,
    )


def _in_column(column: str, reason: Text) -> Said:
    """A cell's problem, in its column: "column Q3: '6' is outside 1–5 for …"."""
    return Said(reason.message, column=column, **reason.values)
