"""Per-item scores (freq_unlearn.tasks.scores) on hand-made cases with known answers."""

from __future__ import annotations

import math

from freq_unlearn.tasks.scores import generation_scores, probability_scores, true_false_score


def test_probability_scores_margin_and_accuracy():
    s = probability_scores(-1.0, [-2.0, -3.0, -1.5], 2)
    assert s == {"logprob": -1.0, "logprob_per_token": -0.5, "mc_margin": 0.5, "mc_acc": 1.0}
    tie = probability_scores(-1.0, [-1.0, -3.0], 1)
    assert tie["mc_margin"] == 0.0 and tie["mc_acc"] == 0.0  # a tie with a distractor is not a win
    # no distractor: no margin and no win (never all([]) == True)
    alone = probability_scores(-1.0, [], 1)
    assert math.isnan(alone["mc_margin"]) and alone["mc_acc"] == 0.0


def test_true_false_is_balanced():
    assert true_false_score((-0.1, -2.0), (-3.0, -0.2)) == 1.0
    assert true_false_score((-1.0, -1.0), (-1.0, -1.0)) == 0.5  # a model that cannot tell scores chance
    assert true_false_score((-0.1, -2.0), (-0.1, -2.0)) == 0.5  # saying "True" to everything is chance


def test_generation_scores_use_the_continuation_only():
    assert generation_scores("Amberford", " Amberford, then") == {"contains": 1.0, "rougeL_recall": 1.0}
    assert generation_scores("Amberford", " I don't know.") == {"contains": 0.0, "rougeL_recall": 0.0}
