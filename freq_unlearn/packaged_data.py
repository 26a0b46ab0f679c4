"""The synthetic benchmark packaged with the lm-eval tasks (``tasks/data/synthetic/``).

One command regenerates it (deterministic: the same code gives byte-identical files)::

    freq-unlearn tasks-data --regenerate        # or: python -m freq_unlearn.packaged_data

Pipeline: the default synthetic world (``WorldConfig()``, seed 0) -> ``count_facts`` (scan
backend, exact document co-occurrence) -> ``build_benchmark`` (terciles) -> at most
``ITEMS_PER_SPLIT`` facts per split, chosen by a seeded hash of the fact id (a paraphrased split
keeps exactly the facts of its twin) -> ``tasks/data/synthetic/``. The cap keeps the full
``lm_eval --tasks 'freq_unlearn_*'`` run on the tiny model well under a minute on a CPU.

This module sits on top of the parts (it imports the world and ``frequency_index``); the tasks
only read the files it writes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from freq_unlearn.core import schema

ITEMS_PER_SPLIT = 40
SELECTION_SEED = "freq-unlearn-packaged-v1"
PACKAGED_DIR = Path(__file__).resolve().parents[1] / "tasks" / "data" / "synthetic"

CARD = """---
configs:
- config_name: default
  data_files:
{entries}
---
# freq-unlearn packaged synthetic benchmark

The default benchmark of the `freq_unlearn_synthetic_*` lm-eval tasks, made by
`freq-unlearn tasks-data --regenerate` (module `freq_unlearn/packaged_data.py`):

- world: `WorldConfig()` defaults, seed {seed} (content hash `{world_hash}`);
- counts: `count_facts(..., backend="scan")`, exact document co-occurrence of subject and answer;
- strata: terciles of the forget candidates' counts (`build_benchmark` defaults);
- at most {cap} facts per split, chosen by a seeded hash of the fact id; each paraphrased split
  holds the same facts as its twin.

| split | facts | count range |
| --- | --- | --- |
{table}
"""


def _rank(fact_id: str) -> str:
    return hashlib.sha256(f"{SELECTION_SEED}/{fact_id}".encode()).hexdigest()


def _subset(table, keep: set[str]):
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = pc.is_in(table["fact_id"], value_set=pa.array(sorted(keep), pa.string()))
    return table.filter(mask)


def select_items(tables: dict, cap: int = ITEMS_PER_SPLIT) -> dict:
    """At most ``cap`` facts per split (hash order); paraphrased twins keep the same facts."""
    out = {}
    for split, table in tables.items():
        if split.endswith("_paraphrased"):
            continue
        ids = sorted(table["fact_id"].to_pylist(), key=_rank)[:cap]
        out[split] = _subset(table, set(ids))
        twin = f"{split}_paraphrased"
        if twin in tables:
            out[twin] = _subset(tables[twin], set(ids))
    return {split: out[split] for split in schema.BENCHMARK_SPLITS}


def build_packaged(out: Path, work: Path, cap: int = ITEMS_PER_SPLIT, progress: bool = False) -> Path:
    """Run the whole pipeline into ``out`` (a folder the tasks can read); ``work`` is scratch."""
    import pyarrow.parquet as pq

    from freq_unlearn.frequency_index import build_benchmark, count_facts
    from freq_unlearn.world import WorldConfig, generate_world, load_world

    config = WorldConfig()
    world_dir = generate_world(work / "world", config, overwrite=True)
    world = load_world(world_dir)
    counts = count_facts([str(p) for p in world.corpus_files], world.facts_path, work / "counts.parquet",
                         backend="scan", progress=progress)
    build_benchmark(world.facts_path, counts, work / "benchmark", world_hash=world.content_hash)
    full = {split: pq.read_table(work / "benchmark" / "data" / f"{split}.parquet") for split in schema.BENCHMARK_SPLITS}
    chosen = select_items(full, cap)

    tmp = Path(tempfile.mkdtemp(prefix=".synthetic-", dir=out.parent if out.parent.exists() else None))
    tmp.chmod(0o755)  # mkdtemp makes it private; the packaged folder is ordinary data
    (tmp / "data").mkdir()
    # world_hash: lm-eval warns when a model of another world is scored on this benchmark
    info = {"name": "freq-unlearn packaged synthetic benchmark", "world_hash": world.content_hash,
            "world_seed": config.seed, "items_per_split_cap": cap,
            "sizes": {split: table.num_rows for split, table in chosen.items()}}
    (tmp / "benchmark_info.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    entries, rows = [], []
    for split, table in chosen.items():
        pq.write_table(table, tmp / "data" / f"{split}.parquet", compression="zstd")
        entries.append(f"  - split: {split}\n    path: data/{split}.parquet")
        counts_ = table["count"].to_pylist()
        rows.append(f"| {split} | {table.num_rows} | {min(counts_)}-{max(counts_)} |")
    (tmp / "README.md").write_text(
        CARD.format(entries="\n".join(entries), seed=config.seed, world_hash=world.content_hash[:16], cap=cap, table="\n".join(rows))
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    return out


def regenerate(out: Path = PACKAGED_DIR, cap: int = ITEMS_PER_SPLIT, progress: bool = True) -> Path:
    with tempfile.TemporaryDirectory(prefix="freq-unlearn-packaged-") as work:
        return build_packaged(out, Path(work), cap, progress)


def _run(args: argparse.Namespace) -> int:
    if not args.regenerate:
        print(PACKAGED_DIR)
        return 0
    out = regenerate(Path(args.out) if args.out else PACKAGED_DIR, args.cap)
    print(f"wrote {out}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tasks-data", help="the synthetic benchmark packaged with the lm-eval tasks")
    p.add_argument("--regenerate", action="store_true", help="rebuild it from the default world (about a minute)")
    p.add_argument("--out", help="write here instead of tasks/data/synthetic")
    p.add_argument("--cap", type=int, default=ITEMS_PER_SPLIT, help="facts per split")
    p.set_defaults(func=_run)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Regenerate the packaged synthetic benchmark.")
    parser.add_argument("--out", help="write here instead of tasks/data/synthetic")
    parser.add_argument("--cap", type=int, default=ITEMS_PER_SPLIT)
    ns = parser.parse_args()
    ns.regenerate = True
    raise SystemExit(_run(ns))
