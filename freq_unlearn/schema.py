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

``freq_unlearn.tasks`` must stay importable without the rest of the package, so it repeats
the few names it needs; a test checks that the two copies agree.
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

# Benchmark splits. The forget strata are terciles of count by default.
STRATA: Final = ("low", "medium", "high")
FORGET_SPLITS: Final = tuple(f"forget_{s}" for s in STRATA)
PARAPHRASED_SPLITS: Final = tuple(f"{s}_paraphrased" for s in FORGET_SPLITS)
RETAIN_SPLIT: Final = "retain"
UTILITY_SPLIT: Final = "utility"
BENCHMARK_SPLITS: Final = FORGET_SPLITS + PARAPHRASED_SPLITS + (RETAIN_SPLIT, UTILITY_SPLIT)

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

# The refusal used by IDK-style methods and recognised by the generation metrics.
REFUSAL: Final = "I don't know."
