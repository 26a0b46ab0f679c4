"""A benchmark that cannot be used fails with one line that names what is missing."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from tasks_tiny_data import SPLITS, write_benchmark

from freq_unlearn.tasks import benchmark_io
from freq_unlearn.tasks.benchmark_io import BenchmarkError, load_split


def _one_line(err: Exception) -> str:
    text = str(err)
    assert "\n" not in text
    return text


def test_missing_split(tmp_path):
    bench = write_benchmark(tmp_path / "b", splits=tuple(s for s in SPLITS if s != "utility"))
    with pytest.raises(BenchmarkError) as err:
        load_split(str(bench), "utility")
    assert "split 'utility' is missing" in _one_line(err.value)


def test_missing_column(tmp_path):
    bench = write_benchmark(tmp_path / "b", drop_column="distractors")
    with pytest.raises(BenchmarkError) as err:
        load_split(str(bench), "retain")
    assert "split 'retain' lacks column(s) distractors" in _one_line(err.value)


def test_empty_split(tmp_path):
    bench = write_benchmark(tmp_path / "b", per_split=0)
    with pytest.raises(BenchmarkError) as err:
        load_split(str(bench), "forget_high")
    assert "split 'forget_high' is empty" in _one_line(err.value)


def test_hub_id_not_cached_while_offline(tmp_path):
    # a fresh interpreter with an empty cache, offline (conftest sets HF_HUB_OFFLINE=1)
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    code = (
        "from freq_unlearn.tasks.benchmark_io import load_split, BenchmarkError\n"
        "try:\n    load_split('someone/not-cached', 'retain')\n"
        "except BenchmarkError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    line = out.stdout.strip()
    assert "\n" not in line
    assert "'someone/not-cached'" in line and "offline" in line, out.stderr[-2000:]


def test_not_a_folder(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(BenchmarkError, match="not a folder"):
        load_split(str(tmp_path / "file.txt"), "retain")


def test_bad_benchmark_through_lm_eval(tmp_path, task_manager_factory):
    bench = write_benchmark(tmp_path / "b", drop_column="count")
    tm = task_manager_factory(bench)
    with pytest.raises(BenchmarkError, match="lacks column\\(s\\) count"):
        tm.load(["freq_unlearn_synthetic_retain_gen"])


def test_source_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv(benchmark_io.BENCHMARK_ENV, "/from/env")
    assert benchmark_io.resolve_source("synthetic", {"benchmark": "/from/metadata"}) == "/from/metadata"
    assert benchmark_io.resolve_source("synthetic", {}) == "/from/env"
    monkeypatch.delenv(benchmark_io.BENCHMARK_ENV)
    assert benchmark_io.resolve_source("synthetic", {}) == str(benchmark_io.PACKAGED_DATA_DIR / "synthetic")


def test_tasks_check_cli(tmp_path, capsys):
    from freq_unlearn.tasks import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    bench = write_benchmark(tmp_path / "b", splits=SPLITS[:-1])
    args = parser.parse_args(["tasks-check", str(bench)])
    assert args.func(args) == 2
    assert "split 'utility' is missing" in capsys.readouterr().err
    good = write_benchmark(tmp_path / "good")
    args = parser.parse_args(["tasks-check", str(good)])
    assert args.func(args) == 0
    assert "utility" in capsys.readouterr().out
    args = parser.parse_args(["tasks-path"])
    assert args.func(args) == 0
    assert capsys.readouterr().out.strip().endswith("tasks/default")


def test_missing_folder_and_rebuilt_benchmark(tmp_path):
    with pytest.raises(BenchmarkError, match="no such folder"):
        load_split(str(tmp_path / "nope"), "retain")
    bench = write_benchmark(tmp_path / "b", per_split=3)
    assert len(load_split(str(bench), "retain")) == 3
    write_benchmark(tmp_path / "b", per_split=2)  # rebuilt in place: not served from memory
    assert len(load_split(str(bench), "retain")) == 2
