"""Answer matching (freq_unlearn.core.answers): the generation view's one definition."""

from __future__ import annotations

import pytest

from freq_unlearn.core.answers import contains_answer, normalize_answer, rouge_l_recall


def test_normalization_and_contains():
    assert normalize_answer("  The Eiffel-Tower, in PARIS! ") == "eiffeltower in paris"
    assert contains_answer("Paris", " paris.\n")
    assert contains_answer("the University of Oslo", " University of Oslo")
    assert contains_answer("March 3, 1952", " March 3 1952.")
    assert not contains_answer("Paris", " Parisian food")  # whole words only
    assert not contains_answer("Aurelian College", " Aurelian Collegeship")
    assert not contains_answer("", " anything")


def test_rouge_recall_scores_the_continuation_only():
    assert rouge_l_recall("New York City", " New York") == pytest.approx(2 / 3)
    assert rouge_l_recall("Paris", " I do not know") == 0.0
    # recall, not precision: extra generated words do not lower it
    assert rouge_l_recall("Paris", " Paris is a lovely city") == 1.0
