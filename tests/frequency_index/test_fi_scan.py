"""The scan backend: datatrove pipeline + Aho-Corasick, checked against known counts."""

from __future__ import annotations

import pandas as pd
import pytest

from freq_unlearn.frequency_index import MatchOptions, ScanOptions, count_facts, read_provenance
from freq_unlearn.core.schema import COUNT_COLUMNS

from fi_helpers import write_jsonl_gz


def test_scan_counts_equal_the_worlds_true_counts(small_world, tmp_path):
    facts = pd.read_parquet(small_world / "facts.parquet")
    out = tmp_path / "counts.parquet"
    counts = count_facts([str(small_world / "corpus")], small_world / "facts.parquet", out, progress=False)
    assert list(counts.columns[: len(COUNT_COLUMNS)]) == list(COUNT_COLUMNS)
    merged = facts.merge(counts, on="fact_id")
    assert len(merged) == len(facts)
    assert {1, 3, 10} <= set(merged["true_count"])  # every forget tier is represented
    assert (merged["count"] == merged["true_count"]).all()
    # forget-group documents (biographies) state all six facts: there subject count == count
    forget = merged[merged["group"].isin(["low", "medium", "high"])]
    assert (forget["subject_count"] == forget["count"]).all()
    assert (merged["subject_count"] >= merged["count"]).all()
    assert (merged["object_count"] >= merged["count"]).all()
    on_disk = pd.read_parquet(out)
    pd.testing.assert_frame_equal(on_disk, counts)
    prov = read_provenance(out)
    assert prov["backend"] == "scan" and prov["approximate"] is False
    assert prov["corpus_files"] == len(list((small_world / "corpus").glob("*.jsonl.gz")))
    assert prov["documents"] > 0 and prov["skipped_lines"] == 0
    assert prov["library_versions"]["datatrove"].startswith("0.10")


def test_parallel_workers_give_byte_identical_counts(small_world, tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    facts = small_world / "facts.parquet"
    count_facts([str(small_world / "corpus")], facts, a, options=ScanOptions(workers=1), progress=False)
    count_facts([str(small_world / "corpus")], facts, b, options=ScanOptions(workers=2), progress=False)
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob(".*work*")), "scratch folder is removed after success"


DOCS = [
    {"id": "1", "text": "Ann Lee moved to Rome. Ann Lee likes Rome."},
    {"id": "2", "text": "Ann Leeds moved to Rome."},  # no word-bounded "Ann Lee"
    {"id": "3", "text": "ann lee lives far from rome, " + "word " * 20 + "ANN LEE."},
    {"id": "4", "text": "Ann Lee wrote; much later, " + "filler " * 10 + "she saw Roma."},
    {"id": "5", "text": "A.L. visited Rome."},
]


@pytest.fixture()
def handmade(tmp_path):
    write_jsonl_gz(tmp_path / "corpus" / "part.jsonl.gz", DOCS)
    facts = pd.DataFrame(
        [{"fact_id": "f1", "subject": "Ann Lee", "object": "Rome",
          "subject_aliases": ["A.L."], "object_aliases": ["Roma"]}]
    )
    return tmp_path, facts


def _one(tmp_path, facts, window=None, **match):
    return count_facts([str(tmp_path / "corpus")], facts, tmp_path / "c.parquet", options=ScanOptions(window=window),
                       match=MatchOptions(**match), progress=False).iloc[0]


def test_matching_options_have_their_documented_meanings(handmade):
    tmp_path, facts = handmade
    row = _one(tmp_path, facts)  # sensitive, word boundaries, aliases
    assert (row["count"], row["subject_count"], row["object_count"]) == (3, 3, 4)  # docs 1, 4 (Roma), 5 (A.L.)
    row = _one(tmp_path, facts, aliases=False)
    assert (row["count"], row["subject_count"], row["object_count"]) == (1, 2, 3)
    row = _one(tmp_path, facts, aliases=False, word_boundaries=False)
    assert row["subject_count"] == 3  # "Ann Leeds" contains "Ann Lee" as a substring
    row = _one(tmp_path, facts, aliases=False, casing="insensitive")
    assert (row["count"], row["subject_count"]) == (2, 3)
    # paper: (Title, Title) + (lower, lower) + (as is, lower) + (lower, as is); 'Ann Lee' is its own title case
    row = _one(tmp_path, facts, aliases=False, casing="paper")
    assert row["count"] == 1 + 1 + 0 + 0
    row = _one(tmp_path, facts, aliases=False, window=3)
    assert row["count"] == 1 and row["window_count"] == 1
    row = _one(tmp_path, facts, window=5)
    assert row["count"] == 3 and row["window_count"] == 2  # doc 4: 'Ann Lee' and 'Roma' are 15 words apart


def test_counts_without_window_have_null_window_count(handmade):
    tmp_path, facts = handmade
    out = count_facts([str(tmp_path / "corpus")], facts, tmp_path / "c.parquet", progress=False)
    assert out["window_count"].isna().all()
    assert read_provenance(tmp_path / "c.parquet")["window"] is None
