"""`freq-unlearn build --push-to-hub ID`, then `load_dataset(ID)`, through a real local Hub server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from local_hub import run_python

from freq_unlearn.core import schema
from freq_unlearn.frequency_index import count_facts


def test_build_push_and_load_back(small_world, local_hub, tmp_path):
    counts = tmp_path / "counts.parquet"
    count_facts([str(small_world / "corpus")], small_world / "facts.parquet", counts, progress=False)
    env = {**os.environ, **local_hub.env()}
    bench = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, "-m", "freq_unlearn", "build", "--facts", str(small_world / "facts.parquet"),
         "--counts", str(counts), "--out", str(bench), "--push-to-hub", "tester/freq-bench"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "pushed to" in proc.stdout
    files = set(local_hub.repo_files("tester/freq-bench", repo_type="dataset"))
    assert {"README.md", "benchmark_info.json"} | {f"data/{s}.parquet" for s in schema.BENCHMARK_SPLITS} <= files

    code = """
import json
from datasets import load_dataset
ds = load_dataset("tester/freq-bench")
print(json.dumps({split: [len(d), d["fact_id"][:3], d.column_names] for split, d in ds.items()}))
"""
    elsewhere = tmp_path / "elsewhere"  # no local folder named like the repo id
    elsewhere.mkdir()
    out = run_python(code, env=env, cwd=elsewhere)
    remote = json.loads(out.stdout.strip().splitlines()[-1])
    from datasets import load_dataset

    local = load_dataset(str(bench))
    assert list(remote) == list(schema.BENCHMARK_SPLITS)
    for split, d in local.items():
        assert remote[split] == [len(d), d["fact_id"][:3], d.column_names]
