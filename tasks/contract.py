"""The benchmark names this part relies on, repeated from ``freq_unlearn.schema``.

``freq_unlearn.tasks`` is usable by lm-eval users alone, so it imports no other part of the
package; a test checks that these copies agree with ``freq_unlearn.schema``.
"""

from __future__ import annotations

from typing import Final

STRATA: Final = ("low", "medium", "high")
FORGET_SPLITS: Final = tuple(f"forget_{s}" for s in STRATA)
PARAPHRASED_SPLITS: Final = tuple(f"{s}_paraphrased" for s in FORGET_SPLITS)
RETAIN_SPLIT: Final = "retain"
UTILITY_SPLIT: Final = "utility"
BENCHMARK_SPLITS: Final = FORGET_SPLITS + PARAPHRASED_SPLITS + (RETAIN_SPLIT, UTILITY_SPLIT)

# Columns every benchmark split must have (extra columns are kept and logged with the samples).
BENCHMARK_COLUMNS: Final = (
    "fact_id",
    "subject",
    "relation",
    "question",
    "answer",
    "distractors",
    "count",
    "stratum",
)

# Shared with pre-training and the unlearning trainers: the answer follows with a leading space.
QA_PROMPT: Final = "Question: {question}\nAnswer:"

REFUSAL: Final = "I don't know."

# The paper's released datasets (Krishnan et al., 2025): one Hub config per split, each with a
# single "train" split and the columns question, answer, count.
PAPER_STRATA_SPLITS: Final = tuple(f"forget_{s}_count" for s in STRATA)
PAPER_SPLITS: Final = PAPER_STRATA_SPLITS + tuple(f"{s}_paraphrased" for s in PAPER_STRATA_SPLITS)
PAPER_COLUMNS: Final = ("question", "answer", "count")


def stratum_of_split(split: str) -> str:
    """'forget_low_paraphrased' -> 'low', 'forget_high_count' -> 'high', 'retain' -> 'retain'."""
    for stratum in STRATA:
        if split.startswith(f"forget_{stratum}"):
            return stratum
    return split
