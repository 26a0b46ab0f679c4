"""Push with the Trainer's own push, then load back with from_pretrained(ID), over a real local Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from local_hub import LocalHub, run_python

REPO = "test-user/simnpo-high"


def test_push_to_hub_round_trip(qa_model, qa_benchmark, tmp_path):
    out = tmp_path / "run"
    with LocalHub(tmp_path / "hub") as hub:
        env = {**os.environ, **hub.env(), "OMP_NUM_THREADS": "1"}
        cmd = [
            sys.executable, "-m", "freq_unlearn.unlearn_methods", "--model", str(qa_model), "--benchmark", str(qa_benchmark),
            "--forget", "high", "--method", "simnpo", "--out", str(out), "--max-steps", "2", "--learning-rate", "1e-3",
            "--push-to-hub", REPO, "--", "--disable_tqdm", "true", "--metrics_max_items", "4",
        ]  # fmt: skip
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert f"pushed to {REPO}" in proc.stdout
        files = hub.repo_files(REPO)
        for name in ("model.safetensors", "config.json", "tokenizer.json", "README.md", "run_record.json"):
            assert name in files, files
        assert not any(f.startswith("checkpoint-") for f in files)
        check = f"""
import json, torch
from huggingface_hub import hf_hub_download
from transformers import AutoModelForCausalLM, AutoTokenizer
from safetensors.torch import load_file
m = AutoModelForCausalLM.from_pretrained({REPO!r})
AutoTokenizer.from_pretrained({REPO!r})
local = load_file({str(out / "model.safetensors")!r})
remote = m.state_dict()
assert all(torch.equal(local[k], remote[k]) for k in local), "pushed weights differ from the local checkpoint"
record = json.load(open(hf_hub_download({REPO!r}, "run_record.json")))
card = open(hf_hub_download({REPO!r}, "README.md")).read()
print(json.dumps({{"hub_id": record["hub_id"], "card": "simnpo" in card and "freq-unlearn" in card}}))
"""
        result = run_python(check, env=env)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"hub_id": REPO, "card": True}
    assert json.loads((out / "run_record.json").read_text())["hub_id"] == REPO
