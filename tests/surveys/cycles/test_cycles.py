"""The cycle status machine: draft → open → closed → scored → published, nothing else."""

from __future__ import annotations

import pytest

from surveys.cycles.cycle import CycleStatus, CycleTransitionError, check_transition


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("draft", "open"),
        ("open", "closed"),
        ("closed", "open"),
        ("closed", "scored"),
        ("scored", "scored"),
        ("scored", "published"),
    ],
)
def test_each_step_forward_is_allowed(current: str, new: str) -> None:
    assert check_transition(current, new) == CycleStatus(new)


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        (
            "draft",
            "closed",
            "cannot move a cycle from draft to closed: from draft it can only become open",
        ),
        (
            "published",
            "open",
            "cannot move a cycle from published to open: a published cycle is final",
        ),
        ("open", "draft", "from open it can only become closed"),
        ("closed", "published", "from closed it can only become open or scored"),
        ("scored", "open", "from scored it can only become published or scored"),
    ],
)
def test_illegal_transitions_are_refused_with_what_is_allowed(
    current: str, new: str, message: str
) -> None:
    with pytest.raises(CycleTransitionError, match=message):
        check_transition(current, new)
