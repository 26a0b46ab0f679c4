"""Load a benchmark split for the lm-eval tasks: the packaged default, a local folder or a Hub id.

Which benchmark a task reads is decided at run time, never by editing YAML (first match wins):

1. ``--metadata '{"benchmark": "<folder or hub id>"}'`` on the lm_eval command line (or
   ``TaskManager(metadata={"benchmark": ...})``): lm-eval hands task metadata, model args
   included, to ``custom_dataset``;
2. the environment variable ``FREQ_UNLEARN_BENCHMARK``;
3. the dataset named in the task YAML (``synthetic`` = the copy packaged under ``data/``).

Errors are one line naming the benchmark and what is missing (:class:`BenchmarkError`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from freq_unlearn.core.schema import (
    BENCHMARK_COLUMNS,
    PAPER_COLUMNS,
    stratum_of_split,
)

if TYPE_CHECKING:
    import datasets

BENCHMARK_ENV = "FREQ_UNLEARN_BENCHMARK"
METADATA_KEY = "benchmark"
PACKAGED_DATA_DIR = Path(__file__).resolve().parent / "data"
PACKAGED_NAMES = ("synthetic",)


class BenchmarkError(ValueError):
    """A benchmark that cannot be used: the message is one line naming what is missing."""


def resolve_source(default: str, metadata: Mapping[str, Any] | None = None) -> str:
    """The benchmark a task should read: metadata, then the environment, then the YAML default."""
    chosen = (metadata or {}).get(METADATA_KEY) or os.environ.get(BENCHMARK_ENV) or default
    chosen = str(chosen)
    if chosen in PACKAGED_NAMES:
        return str(PACKAGED_DATA_DIR / chosen)
    return chosen


def _readme_data_files(folder: Path) -> dict[str, list[Path]]:
    """Split -> files from the README ``configs:`` block (the ``datasets`` convention)."""
    import yaml

    readme = folder / "README.md"
    if not readme.is_file():
        return {}
    text = readme.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    header = text.split("---", 2)[1]
    meta = yaml.safe_load(header) or {}
    configs = meta.get("configs") or []
    config = next((c for c in configs if c.get("config_name", "default") == "default"), None)
    if config is None and configs:
        config = configs[0]
    files: dict[str, list[Path]] = {}
    for entry in (config or {}).get("data_files") or []:
        patterns = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
        matched = [p for pattern in patterns for p in sorted(folder.glob(pattern))]
        files[entry["split"]] = matched
    return files


def _parquet_by_name(folder: Path) -> dict[str, list[Path]]:
    """Fallback without README: ``<split>.parquet`` or ``<split>-00000-of-00001.parquet``."""
    files: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*.parquet")):
        split = path.name.split(".")[0].split("-")[0]
        files.setdefault(split, []).append(path)
    return files


def _load_local(folder: str) -> dict[str, datasets.Dataset]:
    """Read once per process and folder version: lm-eval builds every task separately, but a
    benchmark rebuilt in place (same path, new files) must not be served from memory."""
    root = Path(folder)
    version = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(root.rglob("*"))
        if p.is_file() and (p.suffix == ".parquet" or p.name == "README.md")
    )
    return _load_local_version(folder, version)


@functools.lru_cache(maxsize=16)
def _load_local_version(folder: str, version: tuple) -> dict[str, datasets.Dataset]:
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets.table import InMemoryTable

    root = Path(folder)
    files = _readme_data_files(root) or _parquet_by_name(root)
    splits = {}
    for split, paths in files.items():
        if not paths:
            raise BenchmarkError(f"benchmark {folder}: split '{split}' names no existing file")
        table = pa.concat_tables([pq.read_table(p) for p in paths])
        splits[split] = datasets.Dataset(InMemoryTable(table), split=split)
    return splits


@functools.lru_cache(maxsize=16)
def _load_hub(repo_id: str, config: str | None) -> dict[str, datasets.Dataset]:
    import datasets

    try:
        loaded = datasets.load_dataset(repo_id, config)
    except Exception as err:  # datasets raises several types; the user needs one line
        offline = os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1"
        where = f"'{repo_id}'" + (f" config '{config}'" if config else "")
        if offline:
            raise BenchmarkError(
                f"benchmark {where} is neither a local folder nor in the Hugging Face cache, "
                "and the Hub is offline (HF_HUB_OFFLINE=1): download it once online or pass a local folder"
            ) from err
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BenchmarkError(f"benchmark {where} could not be loaded: {first_line}") from err
    return dict(loaded)


def _check_split(source: str, split: str, ds: datasets.Dataset, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise BenchmarkError(f"benchmark {source}: split '{split}' lacks column(s) {', '.join(missing)}")
    if len(ds) == 0:
        raise BenchmarkError(f"benchmark {source}: split '{split}' is empty")


def load_split(source: str, split: str) -> datasets.Dataset:
    """One split of a benchmark in the freq-unlearn format (local folder or Hub id), checked."""
    if Path(source).is_dir():
        splits = _load_local(str(Path(source).resolve()))
    elif Path(source).exists():
        raise BenchmarkError(f"benchmark {source}: not a folder")
    elif source.startswith((".", "/", "~")):
        raise BenchmarkError(f"benchmark {source}: no such folder")
    else:
        splits = _load_hub(source, None)
    if split not in splits:
        have = ", ".join(sorted(splits)) or "none"
        raise BenchmarkError(f"benchmark {source}: split '{split}' is missing (found: {have})")
    _check_split(source, split, splits[split], BENCHMARK_COLUMNS)
    return splits[split]


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

    loaded = _load_hub(repo_id, split)
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
