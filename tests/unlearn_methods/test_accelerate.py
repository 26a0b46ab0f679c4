"""Multi-process training through `accelerate launch`: two CPU processes (gloo), a few real steps.

`accelerate launch --cpu --num_processes 2` starts ONE process unless MPI is set up (accelerate's
simple launcher); `--multi_gpu --num_processes 2` starts two torch.distributed processes, and with
`--use_cpu true` (our default when no GPU exists) they train on the CPU over gloo.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from freq_unlearn.unlearn_methods import RunRecord


def test_two_process_run_with_accelerate_launch(qa_model, qa_benchmark, tmp_path):
    accelerate = shutil.which("accelerate", path=os.path.dirname(sys.executable)) or "accelerate"
    out = tmp_path / "ddp"
    cmd = [
        accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
        "-m", "freq_unlearn.unlearn_methods",
        "--model", str(qa_model), "--benchmark", str(qa_benchmark), "--forget", "high", "--method", "graddiff",
        "--out", str(out), "--max-steps", "3", "--batch-size", "4", "--learning-rate", "1e-3",
        "--", "--use_cpu", "true", "--disable_tqdm", "true", "--metrics_max_items", "4",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("graddiff: completed; 3 steps") == 1  # rank 0 reports once
    record = RunRecord.load(out)
    assert record.device == "cpu x2 processes"
    assert [s.step for s in record.steps] == [1, 2, 3]
    assert record.status == "completed" and (out / "model.safetensors").is_file()
    assert record.evaluations[-1].forget["answer_prob"] < record.evaluations[0].forget["answer_prob"]
