"""Regression: `datasets` keys its cache of a local folder with a `configs:` card on the card's
YAML alone; two benchmarks (or one rebuilt) must still load their own rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from datasets import load_dataset

from freq_unlearn.frequency_index import build_benchmark
from freq_unlearn.tasks.benchmark_io import load_split


def test_rebuilt_benchmark_is_not_served_from_a_stale_cache(tiny_world: Path, tmp_path: Path) -> None:
    facts = pd.read_parquet(tiny_world / "facts.parquet")
    counts = facts[["fact_id", "subject", "object"]].assign(count=facts["true_count"])
    a = tmp_path / "a" / "benchmark"
    b = tmp_path / "b" / "benchmark"
    build_benchmark(facts, counts, a)
    changed = facts.copy()
    changed.loc[changed["group"] == "retain", "answer"] = "Changed Answer"
    build_benchmark(changed, counts, b)
    assert load_dataset(str(a))["retain"][0]["answer"] != "Changed Answer"
    assert load_dataset(str(b))["retain"][0]["answer"] == "Changed Answer"
    build_benchmark(changed, counts, a, overwrite=True)  # rebuilt in place
    assert load_dataset(str(a))["retain"][0]["answer"] == "Changed Answer"


def test_the_tasks_checked_split_follows_a_rebuild(tiny_world: Path, tmp_path: Path) -> None:
    """load_split keeps its checked, probe-filtered split per files; a rebuild in place is read again."""
    facts = pd.read_parquet(tiny_world / "facts.parquet")
    counts = facts[["fact_id", "subject", "object"]].assign(count=facts["true_count"])
    bench = tmp_path / "benchmark"
    build_benchmark(facts, counts, bench)
    first = load_split(str(bench), "retain", probe="bio")
    assert load_split(str(bench), "retain", probe="bio") is first  # unchanged files: the same object
    assert all(first["bio_prefix"]) and len(first) <= len(load_split(str(bench), "retain"))
    changed = facts.copy()
    changed.loc[changed["group"] == "retain", "answer"] = "Changed Answer"
    build_benchmark(changed, counts, bench, overwrite=True)
    again = load_split(str(bench), "retain", probe="bio")
    assert again is not first and set(again["answer"]) == {"Changed Answer"}
