"""The packaged synthetic benchmark is exactly what its generator produces, and it is usable."""

from __future__ import annotations

from freq_unlearn import packaged_data
from freq_unlearn.core import schema
from freq_unlearn.tasks.benchmark_io import load_split, resolve_source


def test_packaged_copy_equals_regenerated(tmp_path):
    out = packaged_data.build_packaged(tmp_path / "synthetic", tmp_path / "work")
    committed = sorted(p.relative_to(packaged_data.PACKAGED_DIR) for p in packaged_data.PACKAGED_DIR.rglob("*") if p.is_file())
    fresh = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert committed == fresh
    for rel in committed:
        assert (packaged_data.PACKAGED_DIR / rel).read_bytes() == (out / rel).read_bytes(), (
            f"{rel} differs: run `freq-unlearn tasks-data --regenerate` and commit tasks/data/synthetic"
        )


def test_packaged_benchmark_is_complete_and_small():
    source = resolve_source("synthetic")
    for split in schema.BENCHMARK_SPLITS:
        ds = load_split(source, split)
        assert 0 < len(ds) <= packaged_data.ITEMS_PER_SPLIT
        if split in schema.FORGET_SPLITS:
            twin = load_split(source, f"{split}_paraphrased")
            assert twin["fact_id"] == ds["fact_id"]
            assert twin["question"] != ds["question"]
            assert set(ds["stratum"]) == {schema.stratum_of_split(split)}
    low = load_split(source, "forget_low")["count"]
    high = load_split(source, "forget_high")["count"]
    assert max(low) < min(high)
