"""The benchmark folder: how every part reads a benchmark (local folder or Hub dataset id).

Layout (written by ``freq-unlearn build``; ``load_dataset(DIR)`` gives the same splits)::

    DIR/data/<split>.parquet     one file per split (schema.BENCHMARK_SPLITS, BENCHMARK_COLUMNS)
    DIR/data/mia_<group>.parquet membership-inference biographies (config "mia"; only when the world
                                 has held-out people)
    DIR/README.md                dataset card whose ``configs:`` block names the splits
    DIR/benchmark_info.json      how it was built (strata, counts provenance, world hash, ...)

A local folder is read with pyarrow (once per process and folder version: lm-eval builds every task
separately, but a folder rebuilt in place must never be served from memory); a Hub id goes through
``datasets.load_dataset``. Errors are one line naming the benchmark and what is wrong.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from freq_unlearn.core.errors import UserError

if TYPE_CHECKING:
    import datasets

DATA_DIR = "data"
INFO_FILE = "benchmark_info.json"
CARD_FILE = "README.md"
MIA_CONFIG = "mia"  # the card's config of the membership-inference splits (mia_<group>)


class BenchmarkError(UserError, ValueError):
    """A benchmark that cannot be used: the message is one line naming what is missing."""


def _card_data_files(folder: Path, name: str | None = None) -> dict[str, list[Path]]:
    """Split -> files of config ``name`` (default: "default") from the README ``configs:`` block (the
    ``datasets`` convention)."""
    import yaml

    readme = folder / CARD_FILE
    if not readme.is_file():
        return {}
    text = readme.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    try:
        meta = yaml.safe_load(text.split("---", 2)[1]) or {}
    except yaml.YAMLError as err:
        raise BenchmarkError(f"benchmark {folder}: {CARD_FILE} front matter is not YAML ({str(err).splitlines()[0]})") from None
    configs = meta.get("configs") or [] if isinstance(meta, dict) else []
    config = next((c for c in configs if c.get("config_name", "default") == (name or "default")), None)
    if config is None and name is None:
        config = configs[0] if configs else None
    if config is None and name is not None:
        raise BenchmarkError(f"benchmark {folder}: no config {name!r} in {CARD_FILE}")
    files: dict[str, list[Path]] = {}
    for entry in (config or {}).get("data_files") or []:
        patterns = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
        files[entry["split"]] = [p for pattern in patterns for p in sorted(folder.glob(pattern))]
    return files


def _parquet_by_name(folder: Path) -> dict[str, list[Path]]:
    """Fallback without a card: ``<split>.parquet`` or ``<split>-00000-of-00001.parquet``."""
    files: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*.parquet")):
        files.setdefault(path.name.split(".")[0].split("-")[0], []).append(path)
    return files


def _version(folder: Path) -> tuple:
    return tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and (p.suffix == ".parquet" or p.name == CARD_FILE)
    )


@functools.lru_cache(maxsize=16)
def _load_local_version(folder: str, version: tuple, config: str | None = None) -> dict[str, datasets.Dataset]:
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets.table import InMemoryTable

    root = Path(folder)
    splits = {}
    for split, paths in (_card_data_files(root, config) or _parquet_by_name(root)).items():
        if not paths:
            raise BenchmarkError(f"benchmark {folder}: split '{split}' names no existing file")
        tables = []
        for path in paths:
            try:
                tables.append(pq.read_table(path))
            except (OSError, pa.ArrowException) as err:
                raise BenchmarkError(f"benchmark {folder}: {path.name} is not a readable Parquet file ({str(err).splitlines()[0]})") from None
        try:
            table = pa.concat_tables(tables)
        except pa.ArrowException as err:
            raise BenchmarkError(f"benchmark {folder}: the files of split '{split}' disagree ({str(err).splitlines()[0]})") from None
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


def is_local(source: str) -> bool:
    return Path(source).expanduser().exists() or str(source).startswith((".", "/", "~"))


def load_splits(source: str, config: str | None = None) -> dict[str, datasets.Dataset]:
    """Every split of a benchmark: a local folder (read directly) or a Hub dataset id."""
    path = Path(source).expanduser()
    if path.is_dir():
        return _load_local_version(str(path.resolve()), _version(path.resolve()), config)
    if path.exists():
        raise BenchmarkError(f"benchmark {source}: not a folder")
    if is_local(source):
        raise BenchmarkError(f"benchmark {source}: no such folder")
    return _load_hub(source, config)


def load_info(source: str) -> dict[str, Any]:
    """``benchmark_info.json`` of a local benchmark ({} for a Hub id or a folder without one)."""
    path = Path(source).expanduser() / INFO_FILE
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise BenchmarkError(f"{path}: not valid JSON ({type(err).__name__})") from None
    return info if isinstance(info, dict) else {}


def content_hash(source: str) -> str:
    """sha256 over a local benchmark's data files, card and info (a Hub id hashes as its name)."""
    folder = Path(source).expanduser()
    digest = hashlib.sha256()
    if not folder.is_dir():
        digest.update(f"hub:{source}".encode())
        return digest.hexdigest()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".cache" not in p.parts):
        if path.suffix in (".parquet", ".md", ".json", ".jsonl", ".arrow"):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
