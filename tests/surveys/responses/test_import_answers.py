"""Every cell of a file read as its own answer: each distinct code is read once and joined
back, and no answer may take another row's text or escape its check on the way."""

from __future__ import annotations

import pandas as pd

from surveys.responses.imports import Mapping
from surveys.responses.imports._answers import checked_answers
from surveys.responses.imports._table import LINE

ITEMS = pd.DataFrame(
    {
        "instrument": 1,
        "key": ["feasible", "work_again", "comment"],
        "item": [11, 12, 13],
        "kind": ["likert", "overall", "text"],
        "scale": 5,
    }
)


def test_each_answer_keeps_its_own_row_and_every_bad_cell_is_named() -> None:
    n = 40
    rows = pd.DataFrame(
        {
            "email": [f"p{i}@x.example" for i in range(n)],
            "target": "sponsor",
            "feasible": [["Agree", "Disagree", "Not applicable", ""][i % 4] for i in range(n)],
            "work_again": [str(i % 11) for i in range(n - 1)] + ["11"],
            "comment": [f"comment of row {i}" if i % 3 else "" for i in range(n)],
        },
        dtype=object,
    )
    rows[LINE] = range(2, n + 2)
    invitations = pd.DataFrame(
        {
            "email": rows["email"],
            "target": "sponsor",
            "invitation": range(100, 100 + n),
            "instrument": 1,
        }
    )
    mapping = Mapping(values={"Agree": 4, "Disagree": 2, "Not applicable": "NA"})
    items = {"feasible": "feasible", "work_again": "work_again", "comment": "comment"}
    checked = checked_answers(rows, items, mapping, invitations, ITEMS, "C")
    assert checked.problems == ((n + 1, "column work_again: '11' is outside 0–10 for work_again"),)
    texts = checked.answers[checked.answers["item"] == 13]
    assert all(
        text == f"comment of row {invitation - 100}"
        for invitation, text in zip(texts["invitation"], texts["text"], strict=True)
    )
    assert len(texts) == sum(1 for i in range(n) if i % 3)
    feasible = checked.answers[checked.answers["item"] == 11].set_index("invitation")
    assert feasible.loc[100, "value"] == 4 and feasible.loc[101, "value"] == 2
    assert bool(feasible.loc[102, "not_applicable"]) and pd.isna(feasible.loc[102, "value"])
    assert 103 not in feasible.index, "an empty cell is a question left unanswered"
    overall = checked.answers[checked.answers["item"] == 12].set_index("invitation")["value"]
    assert [int(overall[100 + i]) for i in range(n - 1)] == [i % 11 for i in range(n - 1)]
