"""Per-item scores: what one item of a task earns in each view, defined once.

Generation view (``*_gen`` tasks), from the greedy continuation only (never the prompt):

* ``contains``: the normalized gold answer occurs as whole words in the continuation
  (``freq_unlearn.core.answers``);
* ``rougeL_recall``: ROUGE-L recall of the gold answer against the continuation (the paper's score).

Probability view (``*_ll`` tasks), from loglikelihoods:

* ``logprob``: log p(answer | context) summed over the answer's tokens; ``logprob_per_token``;
* ``mc_margin``: logprob of the gold answer minus the best of K-1 same-relation distractors;
* ``mc_acc``: 1 when the margin is > 0 (ties count as wrong);
* ``tf_acc``: a balanced True/False probe (one true and one false statement per fact; 0.5 is chance),
  only for benchmarks whose corpus teaches True/False statements (the task's ``tf_probe`` metadata).
"""

from __future__ import annotations

from collections.abc import Sequence

from freq_unlearn.core.answers import contains_answer, rouge_l_recall

GEN_METRICS = ("contains", "rougeL_recall")
PROB_METRICS = ("logprob", "logprob_per_token", "mc_margin", "mc_acc")
TF_METRIC = "tf_acc"


def generation_scores(gold: str, continuation: str) -> dict[str, float]:
    return {
        "contains": float(contains_answer(gold, continuation)),
        "rougeL_recall": rouge_l_recall(gold, continuation),
    }


def probability_scores(gold_logprob: float, distractor_logprobs: Sequence[float], gold_num_tokens: int) -> dict[str, float]:
    margin = float(gold_logprob) - max(distractor_logprobs) if len(distractor_logprobs) else float("nan")
    return {
        "logprob": float(gold_logprob),
        "logprob_per_token": float(gold_logprob) / max(int(gold_num_tokens), 1),
        "mc_margin": margin,
        "mc_acc": float(margin > 0),
    }


def true_false_score(true_statement: tuple[float, float], false_statement: tuple[float, float]) -> float:
    """Balanced T/F accuracy from (log p(" True"), log p(" False")) after each statement; ties earn half."""

    def judged(pair: tuple[float, float], truth: bool) -> float:
        ll_true, ll_false = pair
        if ll_true == ll_false:
            return 0.5
        return float((ll_true > ll_false) == truth)

    return 0.5 * (judged(true_statement, True) + judged(false_statement, False))
