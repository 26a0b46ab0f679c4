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

from freq_unlearn.frequency_index import ScanOptions, count_facts, read_provenance


def test_ray_executor_gives_the_local_counts(small_world, tmp_path):
    import ray

    corpus, facts = [str(small_world / "corpus")], small_world / "facts.parquet"
    local = count_facts(corpus, facts, tmp_path / "local.parquet", progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = count_facts(corpus, facts, tmp_path / "ray.parquet", options=ScanOptions(executor="ray", workers=2, shards=2),
                            progress=False)
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(local, on_ray)
    assert read_provenance(tmp_path / "ray.parquet")["executor"] == "ray"


RUN = """
import sys
from freq_unlearn.frequency_index import ScanOptions, count_facts
count_facts([sys.argv[1]], sys.argv[2], sys.argv[3], options=ScanOptions(work_dir=sys.argv[4], keep_work=True),
            progress=False)
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

    resumed = count_facts([str(corpus)], tmp_path / "facts.parquet", out,
                          options=ScanOptions(work_dir=work, keep_work=True), progress=False)
    pd.testing.assert_frame_equal(resumed, expected)
    after = {name: (work / "partials" / f"{name}.npz").stat().st_mtime_ns for name in done}
    assert before == after, "completed tasks are not redone"
    assert len(list(completions.iterdir())) == 10


FAKE_SBATCH = """#!/bin/sh
# Stands in for Slurm's sbatch: keeps the job script and its arguments, answers with a job id.
n=$(ls "$SBATCH_SPOOL" | wc -l)
mkdir -p "$SBATCH_SPOOL/$n"
for last; do :; done
cp "$last" "$SBATCH_SPOOL/$n/script.slurm"
echo "$@" > "$SBATCH_SPOOL/$n/args"
echo "Submitted batch job $((1000 + n))"
"""


def test_slurm_jobs_run_as_slurm_would_run_them(small_world, tmp_path):
    """Submission goes through a stand-in `sbatch`; then each array task runs the job script's command."""
    import re

    bin_dir, spool = tmp_path / "bin", tmp_path / "spool"
    bin_dir.mkdir()
    spool.mkdir()
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    (bin_dir / "sbatch").chmod(0o755)
    (bin_dir / "scontrol").write_text("#!/bin/sh\necho localhost\n")  # `scontrol show hostnames`
    (bin_dir / "scontrol").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SBATCH_SPOOL": str(spool)}
    corpus, facts = [str(small_world / "corpus")], small_world / "facts.parquet"
    out = tmp_path / "counts.parquet"
    submit = (f"from freq_unlearn.frequency_index import ScanOptions, count_facts\n"
              f"assert count_facts({corpus!r}, {str(facts)!r}, {str(out)!r}, options=ScanOptions(executor='slurm',"
              f" shards=2, slurm={{'partition': 'cpu', 'time': '00:10:00'}}), progress=False) is None\n")
    subprocess.run([sys.executable, "-c", submit], env=env, check=True, capture_output=True, timeout=120)
    assert not out.exists(), "submitting writes nothing under the final name"

    jobs = sorted(spool.iterdir(), key=lambda p: int(p.name))
    scripts = [(j / "script.slurm").read_text() for j in jobs]
    names = [re.search(r"--job-name=(\S+)", s).group(1) for s in scripts]
    assert names[0] == "freq_unlearn_count" and "freq_unlearn_merge" in names
    merge_args = (jobs[names.index("freq_unlearn_merge")] / "args").read_text()
    assert "--dependency=afterok:1000" in merge_args
    for script in scripts:
        launch = re.search(r"launch_pickled_pipeline (\S+)", script)
        if launch is None:
            continue  # datatrove's stats-merging jobs (`merge_stats`)
        array = re.search(r"--array=0-(\d+)", script)
        pickled = launch.group(1)
        for task in range(int(array.group(1)) + 1 if array else 1):
            done = subprocess.run(["launch_pickled_pipeline", pickled], capture_output=True, text=True, timeout=120,
                                  env={**env, "SLURM_ARRAY_TASK_ID": str(task), "RUN_OFFSET": "0",
                                       "SLURM_NODELIST": "localhost"})
            assert done.returncode == 0, done.stderr[-2000:]
    local = count_facts(corpus, facts, tmp_path / "local.parquet", progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(out), local)
    assert read_provenance(out)["executor"] == "slurm"
