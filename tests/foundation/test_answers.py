"""The generation view's answer matching exists twice (tasks must stay standalone): same results."""

from __future__ import annotations

import pytest

from freq_unlearn import answers
from freq_unlearn.tasks import metrics

CASES = [
    ("Aurelian College", " Aurelian College, then"), ("Aurelian College", " Aurelian Collegeship"),
    ("March 3, 1952", " March 3 1952."), ("The Axion Labs", "axion labs"), ("", "anything"),
    ("I don't know.", " i dont know"), ("Biology", " Marine-Biology"), ("New  York", "new york city"),
    ("Ravenfield", " Raven field"), ("an Apple", "APPLE!"),
]


@pytest.mark.parametrize("gold, continuation", CASES)
def test_copies_agree(gold: str, continuation: str) -> None:
    assert answers.normalize_answer(continuation) == metrics.normalize_answer(continuation)
    assert answers.contains_answer(gold, continuation) == bool(metrics.contains_answer(gold, continuation))


def test_whole_words_only() -> None:
    assert answers.contains_answer("Aurelian College", " Aurelian College, then")
    assert not answers.contains_answer("Aurelian College", " Aurelian Collegeship")
    assert not answers.contains_answer("", "anything")
