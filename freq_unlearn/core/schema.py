"""The data contracts shared by the parts: one place for column and split names.

Parts exchange files, never objects, so these names are the interface:

* a **world** folder (``freq-unlearn world``)::

      DIR/world.json        every parameter, the seed, a content hash of the files below
      DIR/facts.parquet     one row per fact, columns FACT_COLUMNS
      DIR/corpus/*.jsonl.gz Dolma-style documents, one JSON object per line:
                            {"id": str, "text": str, "source": str, "metadata": {...}}

* a **counts** table (``freq-unlearn count``), Parquet, columns COUNT_COLUMNS, with the
  provenance as JSON in the Parquet schema metadata under the key ``freq_unlearn``;

* a **benchmark** (``freq-unlearn build``): a ``datasets.DatasetDict`` saved as a folder of
  Parquet files plus a README.md whose ``configs:`` block names the splits, so that
  ``load_dataset(DIR)`` returns the splits BENCHMARK_SPLITS with columns BENCHMARK_COLUMNS.

This module is part of the kernel (``freq_unlearn.core``): every part imports it, ``tasks``
included, and it imports nothing but the standard library.
"""

from __future__ import annotations

from typing import Final

# The six bioS attributes (Allen-Zhu & Li), in biography order.
RELATIONS: Final = (
    "birth_date",
    "birth_city",
    "university",
    "major",
    "employer",
    "employer_city",
)

# Person groups of the synthetic world. "forget" people are the candidates for forget
# splits; their QA pairs never appear in the corpus ("hidden QA"), like the utility group's.
GROUP_HIGH: Final = "high"  # paper design: biographies x10 (re-worded)
GROUP_LOW: Final = "low"  # paper design: biography x1
GROUP_MEDIUM: Final = "medium"  # tiered design (the default): biographies x3
GROUP_GRADED: Final = "graded"  # graded design: counts spread on a log scale
GROUP_RETAIN: Final = "retain"  # biography x1, QA pairs in the corpus
GROUP_UTILITY: Final = "utility"  # biography x1, hidden QA; never unlearned
GROUP_HELDOUT: Final = "heldout"  # never in the corpus: the non-members of membership inference
FORGET_GROUPS: Final = (GROUP_HIGH, GROUP_MEDIUM, GROUP_LOW, GROUP_GRADED)

# The prompt format shared by pre-training (retain QA documents), the lm-eval tasks and the
# unlearning trainers: the answer follows with a leading space.
QA_PROMPT: Final = "Question: {question}\nAnswer:"

# facts.parquet
FACT_COLUMNS: Final = {
    "fact_id": "str, unique, e.g. 'p00042/employer'",
    "person_id": "str, e.g. 'p00042'",
    "subject": "str, the person's full name (unique in the world)",
    "relation": "str, one of RELATIONS",
    "object": "str, the attribute value as written in the corpus",
    "question": "str, e.g. 'Which company did Ava Lind work for?' (no trailing space)",
    "answer": "str, the gold answer (== object)",
    "paraphrases": "list[str], >= 1 paraphrased questions",
    "distractors": "list[str], same-relation wrong answers, distinct from answer",
    "group": "str, one of the GROUP_* names",
    "true_count": "int, number of corpus documents that state the fact",
    "bio_prefix": "str, the fact's sentence in the person's first biography up to the attribute "
    "(e.g. 'Ava Lind was hired by'); the answer follows after a space",
    "biography": "str, the person's first biography as in the corpus (heldout people: one written "
    "the same way that the corpus never contains)",
}

# counts table (frequency_index output)
COUNT_COLUMNS: Final = {
    "fact_id": "str",
    "subject": "str",
    "object": "str",
    "count": "int, the headline count: documents containing subject and object",
    "subject_count": "int, documents containing the subject",
    "object_count": "int, documents containing the object",
    "window_count": "int | null, co-occurrences within the window, when a window is set",
    "approximate": "bool, true when the backend could only estimate",
}

# Optional fact columns that a benchmark carries through to every split when the facts have them
# (the BIO probe needs bio_prefix; clustering by person needs person_id).
OPTIONAL_BENCHMARK_COLUMNS: Final = ("person_id", "bio_prefix")

# Benchmark splits. The forget strata are terciles of count by default.
STRATA: Final = ("low", "medium", "high")
FORGET_SPLITS: Final = tuple(f"forget_{s}" for s in STRATA)
PARAPHRASED_SPLITS: Final = tuple(f"{s}_paraphrased" for s in FORGET_SPLITS)
RETAIN_SPLIT: Final = "retain"
UTILITY_SPLIT: Final = "utility"
BENCHMARK_SPLITS: Final = FORGET_SPLITS + PARAPHRASED_SPLITS + (RETAIN_SPLIT, UTILITY_SPLIT)

# Columns every benchmark split must have (extra columns are kept and logged with the samples).
BENCHMARK_COLUMNS: Final = {
    "fact_id": "str",
    "subject": "str",
    "relation": "str",
    "question": "str, in *_paraphrased splits the paraphrased question",
    "answer": "str",
    "distractors": "list[str], same-relation wrong answers",
    "count": "int, the fact's count in the pre-training corpus",
    "stratum": "str, one of STRATA for forget splits; 'retain' / 'utility' otherwise",
}

# lm-eval task names: freq_unlearn_<family>_<split>[_bio]_<variant>. Each split is asked as a
# question (probe "qa": QA_PROMPT) and, where the benchmark has bio_prefix, as the completion of its
# biography sentence (probe "bio", the paper's second probe); each in a generate_until ("gen")
# and a loglikelihood ("ll") variant.
PROBES: Final = ("qa", "bio")
VARIANTS: Final = ("gen", "ll")


def task_name(family: str, split: str, variant: str, probe: str = "qa") -> str:
    """'synthetic', 'forget_high', 'gen', 'bio' -> 'freq_unlearn_synthetic_forget_high_bio_gen'."""
    return f"freq_unlearn_{family}_{split}" + ("_bio" if probe == "bio" else "") + f"_{variant}"


# The refusal used by IDK-style methods and recognised by the generation metrics.
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
