"""Guards stop bad runs keeping the last good weights; --resume continues an interrupted run."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file

from freq_unlearn.unlearn_methods import RunRecord, unlearn

# Constant learning rate: a run cut short and a run planned short take identical steps.
STEADY = {"lr_scheduler_type": "constant", "warmup_steps": 0, "learning_rate": 1e-2, "metrics_max_items": 0, "disable_tqdm": True}


def run(qa_model, qa_benchmark, out, **kw) -> RunRecord:
    return unlearn(model=str(qa_model), benchmark=str(qa_benchmark), forget="high", method="ga", out=out, **{**STEADY, **kw})


def first_new_high(record: RunRecord, start: int = 3) -> tuple[int, float]:
    """(k, threshold): the first step k >= start whose |forget loss| sets a new high, and a threshold
    between that high and the earlier maximum (a guard with it stops exactly at step k)."""
    m = [abs(s.forget_loss) for s in record.steps]
    k = next(i for i in range(start - 1, len(m)) if m[i] > max(m[:i]) + 1e-3) + 1
    return k, (max(m[: k - 1]) + m[k - 1]) / 2


def test_non_finite_loss_stops_before_any_update(qa_model, qa_benchmark, tmp_path, capsys):
    out = tmp_path / "nan"
    record = run(qa_model, qa_benchmark, out, max_steps=4, forget_weight=math.inf)
    assert record.status == "stopped" and record.status_reason.startswith("loss is -inf at step 1")
    assert "kept the weights of step 0" in record.status_reason
    assert record.steps == []
    assert RunRecord.load(out) == record
    base, kept = load_file(qa_model / "model.safetensors"), load_file(out / "model.safetensors")
    assert all(torch.equal(base[k], kept[k]) for k in base)  # the bad update never happened
    assert "stopped: loss is -inf" in capsys.readouterr().out


def test_divergence_stops_and_keeps_the_last_good_step(qa_model, qa_benchmark, tmp_path):
    k, threshold = first_new_high(run(qa_model, qa_benchmark, tmp_path / "free", max_steps=6))
    guarded = run(qa_model, qa_benchmark, tmp_path / "guarded", max_steps=6, divergence_threshold=threshold)
    assert guarded.status == "stopped"
    assert guarded.status_reason.startswith("forget loss ") and f"at step {k};" in guarded.status_reason
    assert [s.step for s in guarded.steps] == list(range(1, k))
    short = run(qa_model, qa_benchmark, tmp_path / "short", max_steps=k - 1)
    kept, expected = load_file(tmp_path / "guarded" / "model.safetensors"), load_file(tmp_path / "short" / "model.safetensors")
    assert all(torch.equal(kept[k_], expected[k_]) for k_ in expected)


def test_resume_continues_an_interrupted_run(qa_model, qa_benchmark, tmp_path):
    full = run(qa_model, qa_benchmark, tmp_path / "full", max_steps=6, save_steps=2)
    # interrupt a second run with the guard at step k >= 3, so checkpoint-2 is on disk
    k, threshold = first_new_high(full)
    out = tmp_path / "cut"
    cut = run(qa_model, qa_benchmark, out, max_steps=6, save_steps=2, divergence_threshold=threshold)
    assert cut.status == "stopped" and (out / "checkpoint-2").is_dir()
    resumed = run(qa_model, qa_benchmark, out, max_steps=6, save_steps=2, resume=True)
    assert resumed.status == "completed"
    assert [s.step for s in resumed.steps] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(full.steps, resumed.steps):
        assert b.loss == pytest.approx(a.loss, rel=1e-5, abs=1e-6)
    final_full, final_resumed = load_file(tmp_path / "full" / "model.safetensors"), load_file(out / "model.safetensors")
    assert all(torch.allclose(final_full[k], final_resumed[k], atol=1e-6) for k in final_full)


def test_a_blow_up_in_the_last_step_is_not_completed(qa_model, qa_benchmark, tmp_path, capsys):
    """The guard sees each step's loss before its update; the last update is checked after training."""
    from freq_unlearn.unlearn_methods.cli import main

    out = tmp_path / "blown"
    argv = ["--model", str(qa_model), "--benchmark", str(qa_benchmark), "--forget", "high", "--method", "ga",
            "--out", str(out), "--max-steps", "1", "--learning-rate", "1e30", "--",
            "--lr_scheduler_type", "constant", "--warmup_steps", "0", "--metrics_max_items", "8", "--disable_tqdm", "true"]  # fmt: skip
    assert main(argv) == 1
    record = RunRecord.load(out)  # standard JSON even with NaN metrics (RunRecord.load uses json.loads)
    assert record.status in ("stopped", "failed") and "after" in record.status_reason
    assert [s.step for s in record.steps] == [1]
    assert f"{record.status}: {record.status_reason}" in capsys.readouterr().out


@pytest.mark.parametrize("lr", ["-0.001", "nan"])
def test_a_negative_or_nan_learning_rate_is_refused_before_any_output(qa_model, qa_benchmark, tmp_path, capsys, lr):
    from freq_unlearn.unlearn_methods.cli import main

    out = tmp_path / "never"
    argv = ["--model", str(qa_model), "--benchmark", str(qa_benchmark), "--forget", "high", "--method", "ga",
            "--out", str(out), "--learning-rate", lr]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "learning_rate must be a finite number >= 0" in err
    assert not out.exists()
