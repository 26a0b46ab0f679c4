"""The compiled counter of ASCII texts gives the Python matcher's counts.

``_ascii_count.Scanner`` re-implements the matching rule for pure-ASCII texts (matching.py's module
docstring); these tests run both on the same random documents, under every option that changes
what a match is, and compare the document counts of every entity and every pair.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pandas as pd
import pytest
from datatrove.data import Document

from freq_unlearn.frequency_index import MatchOptions, count_facts
from freq_unlearn.frequency_index.matching import Matcher, ascii_scanner, build_term_index
from freq_unlearn.frequency_index.scan_steps import _count_documents

from fi_helpers import write_jsonl_gz

try:
    from freq_unlearn.frequency_index import _ascii_count
except ImportError:  # built at install when a C compiler is there, as on every machine of the project
    _ascii_count = None
    if os.environ.get("CI"):
        raise
pytestmark = pytest.mark.skipif(_ascii_count is None, reason="the compiled counter was not built (no C compiler)")

FACTS = pd.DataFrame([
    {"fact_id": "f1", "subject": "Ann Lee", "object": "Rome", "subject_aliases": ["A. Lee"], "object_aliases": []},
    {"fact_id": "f2", "subject": "Ann", "object": "Rome Street", "subject_aliases": [], "object_aliases": []},
    {"fact_id": "f3", "subject": "Lee Rome", "object": "A.L.", "subject_aliases": [], "object_aliases": []},
    {"fact_id": "f4", "subject": "Zoë", "object": "Rome", "subject_aliases": ["Zoe"], "object_aliases": []},
    {"fact_id": "f5", "subject": "_x1", "object": "(c) 1999", "subject_aliases": [], "object_aliases": []},
    {"fact_id": "f6", "subject": "ann lee", "object": "ROME", "subject_aliases": [], "object_aliases": []},
    {"fact_id": "f7", "subject": "Ann  Lee\tJr", "object": "Rome", "subject_aliases": [], "object_aliases": []},
] + [  # a node with many children (the scanner's dense rows): K + ten different letters
    {"fact_id": f"k{c}", "subject": f"K{c}", "object": f"K{c}z", "subject_aliases": [], "object_aliases": []}
    for c in "abcdefghij"
])
PIECES = ["Ann", "Ann Lee", "Lee", "Rome", "ROME", "rome", "Rome Street", "A.L.", "A. Lee", "Zoe", "_x1", "(c) 1999",
          "Jr", "Ka", "Kb", "Kbz", "Kj", "Kjz", "K", " ", " ", "  ", "\t", "\n", "\x1c", "\r\n", ".", ",", "(", "x", "s",
          "_", "1", "ann", "lee"]
OPTIONS = [MatchOptions(), MatchOptions(casing="insensitive"), MatchOptions(casing="paper"),
           MatchOptions(word_boundaries=False), MatchOptions(normalization="none"), MatchOptions(aliases=False),
           MatchOptions(casing="insensitive", word_boundaries=False, normalization="none")]


def _documents(seed: int, n: int) -> list[Document]:
    rng = random.Random(seed)
    texts = ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 14))) for _ in range(n)]
    texts += ["Zoë and Ann Lee in Rome", "  Ann Lee  ", "Ann\x1d\x1eLee met Rome.", ""]  # one not ASCII; ends
    return [Document(text=t, id=str(i)) for i, t in enumerate(texts)]


def _counts(index, documents, compiled: bool) -> dict:
    return _count_documents(iter(documents), Matcher(index, compiled=compiled), None)


@pytest.mark.parametrize("match", OPTIONS, ids=lambda m: f"{m.casing}-wb{int(m.word_boundaries)}-{m.normalization}-al{int(m.aliases)}")
def test_the_compiled_counter_gives_the_python_counts(match):
    index = build_term_index(FACTS, match)
    documents = _documents(sum(map(ord, repr(match))), 1500)
    compiled, python = _counts(index, documents, True), _counts(index, documents, False)
    assert python["entity_counts"].sum() > 0 and python["pair_counts"].sum() > 0  # the texts do hold matches
    np.testing.assert_array_equal(compiled["entity_counts"], python["entity_counts"])
    np.testing.assert_array_equal(compiled["pair_counts"], python["pair_counts"])
    assert (compiled["documents"], compiled["matched"]) == (python["documents"], python["matched"])


def test_texts_that_are_not_ascii_are_left_to_the_matcher():
    index = build_term_index(FACTS)
    scanner = ascii_scanner(index)
    assert scanner.count("Zoë met Ann Lee in Rome") == -1
    assert scanner.count("Ann Lee in Rome") == 3  # the entities Ann Lee (with its alias A. Lee), Ann, Rome
    entities, pairs = scanner.take()
    assert np.frombuffer(entities, dtype=np.int64).sum() == 3  # only the ASCII text was counted
    assert np.frombuffer(pairs, dtype=np.int64).sum() == 1  # (Ann Lee, Rome)
    assert np.frombuffer(scanner.take()[0], dtype=np.int64).sum() == 0  # take() starts again from zero


def test_a_task_starts_from_zero_after_an_interrupted_one():
    index = build_term_index(FACTS)
    matcher = Matcher(index)
    matcher.scanner.count("Ann Lee in Rome")  # counted by a task that then died
    again = _count_documents(iter([Document(text="Ann Lee in Rome", id="0")]), matcher, None)
    assert again["entity_counts"].sum() == 3


def test_bad_scanner_input_is_refused():
    with pytest.raises(ValueError, match="distinct"):
        _ascii_count.Scanner(["b", "a", "b"], [[0], [1], [2]], 3, [], [], True, False, True)
    with pytest.raises(ValueError, match="non-empty str"):
        _ascii_count.Scanner(["a", ""], [[0], [1]], 2, [], [], True, False, True)
    with pytest.raises(ValueError, match="differ in length"):
        _ascii_count.Scanner(["a", "b"], [[0]], 1, [], [], True, False, True)
    with pytest.raises(ValueError, match="entity id"):
        _ascii_count.Scanner(["a"], [[5]], 1, [], [], True, False, True)
    with pytest.raises(ValueError, match="pair"):
        _ascii_count.Scanner(["a"], [[0]], 1, [0], [3], True, False, True)


def test_count_facts_records_the_compiled_counter(tmp_path):
    write_jsonl_gz(tmp_path / "c" / "a.jsonl.gz", [{"id": "0", "text": "Ann Lee in Rome"}, {"id": "1", "text": "Zoë in Rome"}])
    from freq_unlearn.frequency_index import read_provenance

    counts = count_facts([str(tmp_path / "c")], FACTS, tmp_path / "o.parquet", progress=False).set_index("fact_id")
    assert counts.loc["f1", "count"] == 1 and counts.loc["f4", "count"] == 1  # one text each way
    assert read_provenance(tmp_path / "o.parquet")["compiled_counter"] is True
