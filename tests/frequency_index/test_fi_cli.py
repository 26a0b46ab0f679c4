"""`freq-unlearn count` and `freq-unlearn build` through their argparse registration."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest
from datasets import load_dataset

from freq_unlearn.core import schema
from freq_unlearn.core.errors import UserError
from freq_unlearn.frequency_index.cli import register


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="freq-unlearn")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_count_then_build(small_world, tmp_path, capsys):
    counts = tmp_path / "counts.parquet"
    assert run(["count", "--corpus", str(small_world / "corpus"), "--facts", str(small_world / "facts.parquet"),
                "--out", str(counts), "--workers", "2", "--window", "40"]) == 0
    assert "wrote" in capsys.readouterr().out
    df = pd.read_parquet(counts)
    assert df["window_count"].notna().all()
    bench = tmp_path / "bench"
    assert run(["build", "--facts", str(small_world / "facts.parquet"), "--counts", str(counts),
                "--out", str(bench), "--name", "tiny bench"]) == 0
    loaded = load_dataset(str(bench))
    assert list(loaded) == list(schema.BENCHMARK_SPLITS)
    assert "# tiny bench" in (bench / "README.md").read_text()


def test_cli_errors_are_one_line(small_world, tmp_path):
    with pytest.raises(UserError, match="f.parquet: facts file not found"):
        run(["count", "--corpus", str(small_world / "corpus"), "--facts", str(tmp_path / "f.parquet"),
             "--out", str(tmp_path / "c.parquet")])
    with pytest.raises(UserError, match="nope: corpus path matches nothing"):
        run(["count", "--corpus", str(tmp_path / "nope"), "--facts", str(small_world / "facts.parquet"),
             "--out", str(tmp_path / "c.parquet")])
    with pytest.raises(UserError, match="counts file not found"):
        run(["build", "--facts", str(small_world / "facts.parquet"), "--counts", str(tmp_path / "c.parquet"),
             "--out", str(tmp_path / "b")])
    assert not (tmp_path / "c.parquet").exists() and not (tmp_path / "b").exists()


def test_shards_option_and_the_deprecated_tasks_alias(small_world, tmp_path, capsys):
    corpus, facts = str(small_world / "corpus"), str(small_world / "facts.parquet")
    assert run(["count", "--corpus", corpus, "--facts", facts, "--out", str(tmp_path / "a.parquet"),
                "--shards", "2"]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert run(["count", "--corpus", corpus, "--facts", facts, "--out", str(tmp_path / "b.parquet"),
                "--tasks", "2"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "deprecated" in line]
    assert err == ["freq-unlearn count: --tasks is deprecated, use --shards (datatrove tasks)"]
    from freq_unlearn.frequency_index import read_provenance

    assert read_provenance(tmp_path / "a.parquet")["shards"] == read_provenance(tmp_path / "b.parquet")["shards"] == 2
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_options_of_another_backend_are_refused(small_world, tmp_path):
    facts = str(small_world / "facts.parquet")
    with pytest.raises(UserError, match="cannot count document co-occurrence"):
        run(["count", "--facts", facts, "--out", str(tmp_path / "x.parquet"), "--backend", "infini-gram-api",
             "--mode", "docs"])
    with pytest.raises(UserError, match="--window is supported by the scan backend only"):
        run(["count", "--facts", facts, "--out", str(tmp_path / "x.parquet"), "--backend", "infini-gram",
             "--index-dir", str(tmp_path / "i"), "--window", "3"])


def test_demo_call_is_silent(small_world, tmp_path, capfd):
    """The demo's positional call with progress=False prints nothing (no bars, no datatrove log)."""
    from freq_unlearn.frequency_index import count_facts

    counts = count_facts([str(small_world / "corpus")], small_world / "facts.parquet", tmp_path / "c.parquet",
                         progress=False)
    assert len(counts) and capfd.readouterr() == ("", "")
