"""The same datatrove pipeline on a local Ray instance, and resuming a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from fi_helpers import write_jsonl_gz

from freq_unlearn.frequency_index import count_facts, read_provenance


def test_ray_executor_gives_the_local_counts(small_world, tmp_path):
    import ray

    corpus, facts = [str(small_world / "corpus")], small_world / "facts.parquet"
    local = count_facts(corpus, facts, tmp_path / "local.parquet", progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = count_facts(corpus, facts, tmp_path / "ray.parquet", executor="ray", workers=2, tasks=2, progress=False)
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(local, on_ray)
    assert read_provenance(tmp_path / "ray.parquet")["executor"] == "ray"


RUN = """
import sys
from freq_unlearn.frequency_index import count_facts
count_facts([sys.argv[1]], sys.argv[2], sys.argv[3], work_dir=sys.argv[4], keep_work=True, workers=1, progress=False)
"""


def _big_corpus(root: Path, files: int = 10, docs: int = 6000) -> tuple[Path, pd.DataFrame]:
    names = [f"Name{i} Surname{i}" for i in range(50)]
    cities = [f"City{i}" for i in range(50)]
    for f in range(files):
        lines = [{"id": f"{f}-{d}", "text": f"{names[(f * 7 + d) % 50]} was seen in {cities[(d * 3) % 50]}. "
                  + "Some unrelated words fill this document up. " * 3} for d in range(docs)]
        write_jsonl_gz(root / f"part{f:02d}.jsonl.gz", lines)
    facts = pd.DataFrame({"fact_id": [f"f{i:02d}" for i in range(50)], "subject": names, "object": cities})
    return root, facts


def test_killed_run_resumes_with_identical_counts(tmp_path):
    corpus, facts = _big_corpus(tmp_path / "corpus")
    facts.to_parquet(tmp_path / "facts.parquet")
    expected = count_facts([str(corpus)], facts, tmp_path / "expected.parquet", progress=False)

    out, work = tmp_path / "counts.parquet", tmp_path / "work"
    completions = work / "logs" / "completions"
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(corpus), str(tmp_path / "facts.parquet"), str(out), str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if completions.is_dir() and len(list(completions.iterdir())) >= 2:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    done = sorted(p.name for p in completions.iterdir())
    assert 2 <= len(done) < 10, f"the run should be killed midway, saw {len(done)} completed tasks"
    assert not out.exists(), "no output under the final name before the merge"
    before = {name: (work / "partials" / f"{name}.npz").stat().st_mtime_ns for name in done}

    resumed = count_facts([str(corpus)], tmp_path / "facts.parquet", out, work_dir=work, keep_work=True,
                          progress=False)
    pd.testing.assert_frame_equal(resumed, expected)
    after = {name: (work / "partials" / f"{name}.npz").stat().st_mtime_ns for name in done}
    assert before == after, "completed tasks are not redone"
    assert len(list(completions.iterdir())) == 10
