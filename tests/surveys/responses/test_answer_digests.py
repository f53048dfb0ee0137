"""A response's answers digest: what tells a file imported again from one that changes answers."""

from __future__ import annotations

from surveys.responses.answers import answers_digest

ANSWERS = [(11, 4, False, None), (12, None, True, None), (13, None, False, "Fine; thanks.")]


def test_the_digest_ignores_order_and_the_type_holding_a_number() -> None:
    again = [(13, None, False, "Fine; thanks."), (12.0, None, True, None), (11, 4.0, False, None)]
    assert answers_digest(again) == answers_digest(ANSWERS)  # type: ignore[arg-type]


def test_any_change_to_an_answer_changes_the_digest() -> None:
    changed = [
        [(11, 5, False, None), *ANSWERS[1:]],  # another value
        [(11, None, True, None), *ANSWERS[1:]],  # not applicable instead
        [(14, 4, False, None), *ANSWERS[1:]],  # another item
        [*ANSWERS[:2], (13, None, False, "Fine; thanks!")],  # another text
        [*ANSWERS[:2], (13, None, False, "")],  # an empty text is not a missing one
        [*ANSWERS[:2], (13, None, False, None)],
        ANSWERS[:2],  # an answer less
        [*ANSWERS, (14, 1, False, None)],  # an answer more
    ]
    digests = {answers_digest(answers) for answers in changed}  # type: ignore[arg-type]
    assert len(digests) == len(changed) and answers_digest(ANSWERS) not in digests
