"""The paper's Hub-backed tasks, run against a local Hub server that serves a dataset with the
released datasets' layout (one config per split, each with a 'train' split; question/answer/count)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from local_hub import run_python
from tasks_tiny_data import rows, write_benchmark

from freq_unlearn.core import schema

REPO_ID = "McGill-NLP/country_capital_qa"  # the id the generated YAMLs name
COUNTRIES = [("France", "Paris"), ("Peru", "Lima"), ("Norway", "Oslo"), ("Egypt", "Cairo")]


def _write_dataset(folder):
    configs = []
    for split in schema.PAPER_SPLITS:
        rows = {"question": [], "answer": [], "count": []}
        for i, (country, capital) in enumerate(COUNTRIES):
            paraphrased = split.endswith("_paraphrased")
            rows["question"].append(f"Which city is the capital of {country}?" if paraphrased else f"What is the capital of {country}?")
            rows["answer"].append(capital)
            rows["count"].append(1000 * (i + 1))
        (folder / split).mkdir(parents=True)
        pq.write_table(pa.table(rows), folder / split / "train.parquet")
        configs.append(f"- config_name: {split}\n  data_files:\n  - split: train\n    path: {split}/train.parquet")
    (folder / "README.md").write_text("---\nconfigs:\n" + "\n".join(configs) + "\n---\n# local copy\n")


RUN = """
import json
from huggingface_hub import HfApi
api = HfApi()
api.create_repo({repo!r}, repo_type="dataset", exist_ok=True)
api.upload_folder(folder_path={folder!r}, repo_id={repo!r}, repo_type="dataset")
from lm_eval import simple_evaluate
from lm_eval.tasks import TaskManager
from freq_unlearn.tasks import PAPER_TASKS_DIR
tm = TaskManager(include_path=str(PAPER_TASKS_DIR), include_defaults=False)
names = tm.match_tasks(["freq_unlearn_country_capital_*"])
out = simple_evaluate(model="dummy", tasks=names, task_manager=tm, log_samples=True)
doc = out["samples"]["freq_unlearn_country_capital_forget_high_count_ll"][0]["doc"]
# a benchmark in the freq-unlearn format, by Hub id, chosen through --metadata
api.create_repo("test-user/tiny-bench", repo_type="dataset", exist_ok=True)
api.upload_folder(folder_path={bench!r}, repo_id="test-user/tiny-bench", repo_type="dataset")
from freq_unlearn.tasks import DEFAULT_TASKS_DIR
tm = TaskManager(include_path=str(DEFAULT_TASKS_DIR), include_defaults=False, metadata={{"benchmark": "test-user/tiny-bench"}})
by_id = simple_evaluate(model="dummy", tasks=["freq_unlearn_synthetic_retain_ll"], task_manager=tm, log_samples=True)
fact_ids = [s["doc"]["fact_id"] for s in by_id["samples"]["freq_unlearn_synthetic_retain_ll"]]
print("RESULT " + json.dumps({{"names": sorted(out["results"]), "doc": doc, "fact_ids": fact_ids}}))
"""

OFFLINE = """
from freq_unlearn.tasks.benchmark_io import BenchmarkError, load_paper_split
ds = load_paper_split({repo!r}, "forget_low_count", "country_capital")
print("CACHED", len(ds))
try:
    load_paper_split("McGill-NLP/book_author_qa", "forget_low_count", "book_author")
except BenchmarkError as err:
    print("ERROR " + str(err))
"""


def test_paper_tasks_through_local_hub(tmp_path, local_hub):
    folder = tmp_path / "country_capital"
    _write_dataset(folder)
    bench = write_benchmark(tmp_path / "tiny_bench")
    env = {**__import__("os").environ, **local_hub.env()}
    proc = run_python(RUN.format(repo=REPO_ID, folder=str(folder), bench=str(bench)), env=env, timeout=300, cwd=tmp_path)
    result = json.loads(proc.stdout.split("RESULT ", 1)[1].splitlines()[0])
    assert result["names"] == sorted(f"freq_unlearn_country_capital_{s}_{v}" for s in schema.PAPER_SPLITS for v in ("gen", "ll"))
    doc = result["doc"]
    assert doc["stratum"] == "high" and doc["relation"] == "country_capital"
    assert doc["answer"] not in doc["distractors"] and len(doc["distractors"]) == 3
    assert set(doc["distractors"]) <= {c for _, c in COUNTRIES}
    assert result["fact_ids"] == rows("retain")["fact_id"]  # the Hub-id benchmark was read

    # offline afterwards: the cached dataset still loads; an uncached one is one clear line
    offline = {**env, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = run_python(OFFLINE.format(repo=REPO_ID), env=offline, timeout=120, cwd=tmp_path)
    assert "CACHED 4" in proc.stdout
    error = proc.stdout.split("ERROR ", 1)[1].strip()
    assert "\n" not in error and "'McGill-NLP/book_author_qa'" in error and "offline" in error
