"""Answer matching for the generation view, defined once for the whole suite.

``contains_answer`` is the normalized exact-contains (SQuAD's normalization: lowercase, drop
punctuation and the articles a/an/the, collapse whitespace; the gold answer must occur as whole
words). ``rouge_l_recall`` is ROUGE-L recall of the gold answer against the continuation only
(the paper's generation score; ``rouge_score``, no stemming).
"""

from __future__ import annotations

import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
_ROUGE_SCORER = None


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation and the articles a/an/the, collapse whitespace (SQuAD's rule)."""
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCT))
    return " ".join(text.split())


def contains_answer(gold: str, continuation: str) -> bool:
    """The normalized gold answer occurs as whole words in the normalized continuation."""
    target = normalize_answer(gold)
    return bool(target) and f" {target} " in f" {normalize_answer(continuation)} "


def rouge_l_recall(gold: str, continuation: str) -> float:
    """ROUGE-L recall of the gold answer against the continuation (rouge_score, no stemming)."""
    global _ROUGE_SCORER
    if _ROUGE_SCORER is None:
        from rouge_score import rouge_scorer

        _ROUGE_SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    return float(_ROUGE_SCORER.score(target=gold, prediction=continuation)["rougeL"].recall)
