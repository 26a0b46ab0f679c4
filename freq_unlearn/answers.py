"""Answer matching for the generation view, shared by the knowledge report and the unlearning
trainers' in-run metrics.

`freq_unlearn.tasks` must import nothing else from the package, so `tasks/metrics.py` keeps its own
copy of these two functions; tests/foundation/test_answers.py checks that the copies agree.
"""

from __future__ import annotations

import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation and the articles a/an/the, collapse whitespace (SQuAD's rule)."""
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCT))
    return " ".join(text.split())


def contains_answer(gold: str, continuation: str) -> bool:
    """The normalized gold answer occurs as whole words in the normalized continuation."""
    target = normalize_answer(gold)
    return bool(target) and f" {target} " in f" {normalize_answer(continuation)} "
