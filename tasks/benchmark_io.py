"""Load a benchmark split for the lm-eval tasks: the packaged default, a local folder or a Hub id.

Which benchmark a task reads is decided at run time, never by editing YAML (first match wins):

1. ``--metadata '{"benchmark": "<folder or hub id>"}'`` on the lm_eval command line (or
   ``TaskManager(metadata={"benchmark": ...})``): lm-eval hands task metadata, model args
   included, to ``custom_dataset``;
2. the environment variable ``FREQ_UNLEARN_BENCHMARK``;
3. the dataset named in the task YAML (``synthetic`` = the copy packaged under ``data/``).

Reading itself is the kernel's (``freq_unlearn.core.benchmark_folder``); this module adds the
tasks' checks. Errors are one line naming the benchmark and what is missing (``BenchmarkError``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from freq_unlearn.core.benchmark_folder import BenchmarkError, load_info, load_splits
from freq_unlearn.core.schema import BENCHMARK_COLUMNS, PAPER_COLUMNS, stratum_of_split

if TYPE_CHECKING:
    import datasets

__all__ = ["BenchmarkError", "load_paper_split", "load_split", "resolve_source", "warn_if_other_world"]

BENCHMARK_ENV = "FREQ_UNLEARN_BENCHMARK"
METADATA_KEY = "benchmark"
PACKAGED_DATA_DIR = Path(__file__).resolve().parent / "data"
PACKAGED_NAMES = ("synthetic",)
_WARNED: set[tuple[str, str]] = set()
# (source, split, probe) -> (the loaded split, the checked and probe-filtered split)
_CHECKED: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def resolve_source(default: str, metadata: Mapping[str, Any] | None = None) -> str:
    """The benchmark a task should read: metadata, then the environment, then the YAML default."""
    chosen = (metadata or {}).get(METADATA_KEY) or os.environ.get(BENCHMARK_ENV) or default
    chosen = str(chosen)
    if chosen in PACKAGED_NAMES:
        return str(PACKAGED_DATA_DIR / chosen)
    return chosen


def _check_split(source: str, split: str, ds: datasets.Dataset, probe: str) -> None:
    columns = list(BENCHMARK_COLUMNS) + (["bio_prefix"] if probe == "bio" else [])
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise BenchmarkError(f"benchmark {source}: split '{split}' lacks column(s) {', '.join(missing)}")
    if len(ds) == 0:
        raise BenchmarkError(f"benchmark {source}: split '{split}' is empty")
    # An item without distractors would win every multiple-choice comparison (all([]) is true).
    empty = [i for i, d in enumerate(ds["distractors"]) if not d]
    if empty:
        raise BenchmarkError(
            f"benchmark {source}: split '{split}' row {empty[0]} (fact {ds[empty[0]]['fact_id']!r}) has no "
            "distractors: the probability view needs same-relation wrong answers"
        )


def load_split(source: str, split: str, probe: str = "qa") -> datasets.Dataset:
    """One split of a benchmark in the freq-unlearn format (local folder or Hub id), checked.

    The ``bio`` probe keeps only the rows with a biography sentence (non-empty ``bio_prefix``).
    """
    splits = load_splits(source)
    if split not in splits:
        have = ", ".join(sorted(splits)) or "none"
        raise BenchmarkError(f"benchmark {source}: split '{split}' is missing (found: {have})")
    ds = splits[split]
    checked = _CHECKED.get((source, split, probe))
    if checked is not None and checked[0] is ds:  # same files as last time (load_splits caches per version)
        return checked[1]
    _check_split(source, split, ds, probe)
    if probe == "bio":
        # select, not filter: no progress bar and no cache file per call (evaluations run in loops)
        ds = ds.select([i for i, prefix in enumerate(ds["bio_prefix"]) if prefix])
        if len(ds) == 0:
            raise BenchmarkError(f"benchmark {source}: split '{split}' has no row with a bio_prefix (the BIO probe needs one)")
    _CHECKED[(source, split, probe)] = (splits[split], ds)
    return ds


def warn_if_other_world(source: str, pretrained: Any) -> None:
    """One line on stderr when a model pre-trained on one synthetic world meets another world's benchmark.

    The model folder's ``pretrain_record.json`` names its world (``world_hash``), and so does the
    benchmark's ``benchmark_info.json``; either missing means nothing to compare.
    """
    if not pretrained:
        return
    record_file = Path(str(pretrained)).expanduser() / "pretrain_record.json"
    bench_world = load_info(source).get("world_hash") if Path(source).is_dir() else None
    if not (record_file.is_file() and bench_world):
        return
    try:
        model_world = json.loads(record_file.read_text(encoding="utf-8")).get("world_hash")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, AttributeError):
        return
    key = (str(pretrained), source)
    if model_world and model_world != bench_world and key not in _WARNED:
        _WARNED.add(key)
        print(f"freq_unlearn: warning: model {pretrained} was pre-trained on world {model_world[:12]}, but benchmark "
              f"{source} was built from world {bench_world[:12]}: its scores measure another world's facts "
              '(pass the matching benchmark with --metadata \'{"benchmark": DIR}\')', file=sys.stderr)


def paper_rows(split: str, dataset_name: str, ds: datasets.Dataset, num_distractors: int) -> dict[str, list]:
    """The paper's {question, answer, count} rows in the benchmark format.

    The released datasets carry no distractors; each fact gets the next ``num_distractors``
    distinct answers of the same split (cyclic order), which are same-relation answers for the
    single-relation country-capital and book-author sets, and other answers for zsRE.
    """
    answers = [str(a) for a in ds["answer"]]
    distinct = list(dict.fromkeys(answers))
    rows: dict[str, list] = {c: [] for c in BENCHMARK_COLUMNS}
    for i, row in enumerate(ds):
        gold = str(row["answer"])
        start = distinct.index(gold)
        others = [distinct[(start + k) % len(distinct)] for k in range(1, len(distinct))]
        rows["fact_id"].append(f"{dataset_name}/{split}/{i:05d}")
        rows["subject"].append(str(row.get("subject", "")))
        rows["relation"].append(str(row.get("relation", dataset_name)))
        rows["question"].append(str(row["question"]))
        rows["answer"].append(gold)
        rows["distractors"].append(others[:num_distractors])
        rows["count"].append(int(row["count"]))
        rows["stratum"].append(stratum_of_split(split))
    return rows


def load_paper_split(repo_id: str, split: str, dataset_name: str, num_distractors: int = 3) -> datasets.Dataset:
    """A split of one of the paper's Hub datasets (one config per split), in benchmark format."""
    import datasets

    loaded = load_splits(repo_id, split)
    if "train" not in loaded:
        raise BenchmarkError(f"benchmark '{repo_id}' config '{split}': no 'train' split")
    ds = loaded["train"]
    source = f"'{repo_id}'"
    missing = [c for c in PAPER_COLUMNS if c not in ds.column_names]
    if missing:
        raise BenchmarkError(f"benchmark {source}: config '{split}' lacks column(s) {', '.join(missing)}")
    if len(ds) == 0:
        raise BenchmarkError(f"benchmark {source}: config '{split}' is empty")
    return datasets.Dataset.from_dict(paper_rows(split, dataset_name, ds, num_distractors), split=split)
