"""Every method runs from the CLI on the synthetic world's pre-trained model and benchmark
(the shared `tiny_model` / `tiny_benchmark` fixtures of tests/conftest.py)."""

from __future__ import annotations

import math

import pytest

from freq_unlearn.unlearn_methods import RunRecord
from freq_unlearn.unlearn_methods.cli import main
from freq_unlearn.unlearn_methods.registry import METHODS


@pytest.mark.parametrize("method", list(METHODS))
def test_cli_on_the_synthetic_world(method, tiny_model, tiny_benchmark, tmp_path):
    from transformers import AutoModelForCausalLM

    out = tmp_path / method
    extra = ["--steering_coeff", "20", "--alpha", "10"] if method == "rmu" else []
    code = main([
        "--model", str(tiny_model), "--benchmark", str(tiny_benchmark), "--forget", "high", "--method", method,
        "--out", str(out), "--max-steps", "2", "--batch-size", "8", "--learning-rate", "1e-4",
        "--", "--metrics_max_items", "8", "--disable_tqdm", "true", "--save_strategy", "no", *extra,
    ])  # fmt: skip
    assert code == 0
    record = RunRecord.load(out)
    assert record.status == "completed" and len(record.steps) == 2
    assert all(math.isfinite(s.loss) for s in record.steps)
    lo, hi = record.forget_count_range
    assert 1 <= lo <= hi
    AutoModelForCausalLM.from_pretrained(out)
