"""A model pre-trained on one synthetic world, scored on another world's benchmark, gets one warning line.

Issue: `lm_eval --tasks 'freq_unlearn_*'` on a model of another world scored the packaged benchmark
without a word (retain accuracy 0.00). The model's pretrain_record.json and the benchmark's
benchmark_info.json both name their world."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from freq_unlearn.tasks import DEFAULT_TASKS_DIR
from freq_unlearn.tasks.benchmark_io import warn_if_other_world


def _stamp(model: Path, bench: Path, tmp_path: Path, model_world: str, bench_world: str) -> tuple[Path, Path]:
    m, b = tmp_path / "model", tmp_path / "bench"
    shutil.copytree(model, m)
    shutil.copytree(bench, b)
    (m / "pretrain_record.json").write_text(json.dumps({"world_hash": model_world}))
    (b / "benchmark_info.json").write_text(json.dumps({"world_hash": bench_world}))
    return m, b


def test_lm_eval_warns_once_when_model_and_benchmark_worlds_differ(knowing_model, sanity_bench, tmp_path):
    model, bench = _stamp(knowing_model, sanity_bench, tmp_path, "a" * 64, "b" * 64)
    cmd = [sys.executable, "-m", "lm_eval", "--tasks", "freq_unlearn_synthetic_retain_ll", "--model", "hf",
           "--model_args", f"pretrained={model}", "--include_path", str(DEFAULT_TASKS_DIR), "--device", "cpu",
           "--limit", "2", "--metadata", json.dumps({"benchmark": str(bench)})]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                         env={**os.environ, "FREQ_UNLEARN_LM_EVAL_HOOK": "0", "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    warnings = [line for line in out.stderr.splitlines() if line.startswith("freq_unlearn: warning: model")]
    assert len(warnings) == 1 and "aaaaaaaaaaaa" in warnings[0] and "bbbbbbbbbbbb" in warnings[0], out.stderr[-3000:]


def test_same_world_or_unknown_world_is_silent(knowing_model, sanity_bench, tmp_path, capfd):
    model, bench = _stamp(knowing_model, sanity_bench, tmp_path, "c" * 64, "c" * 64)
    warn_if_other_world(str(bench), str(model))
    (model / "pretrain_record.json").unlink()  # a model that is not ours: nothing to compare
    (bench / "benchmark_info.json").write_text(json.dumps({"world_hash": "d" * 64}))
    warn_if_other_world(str(bench), str(model))
    assert "warning" not in capfd.readouterr().err
