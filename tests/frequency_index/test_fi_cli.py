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
