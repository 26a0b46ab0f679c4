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


# ------------------------------------------------------------------ membership inference
# Biographies are scored whole (lm-eval's ``loglikelihood_rolling``: every token, after the
# model's prefix token). A larger score means "more likely a training member" for every attack.
# The benchmark holds one split of biographies per person group, ``mia_<group>``: the forget strata
# (members, then unlearned), retain and utility people (members, never unlearned), and held-out
# people who never appeared in the corpus (the non-members).
MIA_GROUPS = ("low", "medium", "high", "retain", "utility", "heldout")
MIA_NONMEMBER = "heldout"
MIA_METRICS = ("mia_logprob", "mia_loss", "mia_zlib")


def mia_split(group: str) -> str:
    return f"mia_{group}"


def membership_scores(logprob: float, num_tokens: int, text: str) -> dict[str, float]:
    """Sequence-level attack scores of one text from its summed token log-probability.

    * ``mia_logprob``: the summed log-probability of the text;
    * ``mia_loss``: the mean negative log-likelihood per token (the LOSS attack thresholds its negative);
    * ``mia_zlib``: mean token log-likelihood divided by the text's zlib-compressed length in bytes,
      the zlib ratio of Carlini et al. (USENIX Security 2021), written as in the Min-K%++ reference
      code (github.com/zjysteven/mink-plus-plus, run.py) so that larger means member.
    """
    import zlib

    mean = float(logprob) / max(int(num_tokens), 1)
    return {
        "mia_logprob": float(logprob),
        "mia_loss": -mean,
        "mia_zlib": mean / len(zlib.compress(text.encode("utf-8"))),
    }
