"""A tiny benchmark in the freq-unlearn format, written by the tests themselves.

Facts are about made-up people with one attribute each; every split has a few rows. The
answers come from a small pool so that distractors are same-relation answers.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SPLITS = (
    "forget_low",
    "forget_medium",
    "forget_high",
    "forget_low_paraphrased",
    "forget_medium_paraphrased",
    "forget_high_paraphrased",
    "retain",
    "utility",
)
CITIES = ("Paris", "Lima", "Oslo", "Cairo", "Quito", "Hanoi", "Dakar", "Riga")
COUNTS = {"low": 1, "medium": 3, "high": 10, "retain": 1, "utility": 1}


def stratum(split: str) -> str:
    return split.split("_")[1] if split.startswith("forget_") else split


def rows(split: str, per_split: int = 3) -> dict[str, list]:
    out: dict[str, list] = {k: [] for k in ("fact_id", "subject", "relation", "question", "answer", "distractors", "count", "stratum")}
    base = sorted(set(SPLITS) - {s for s in SPLITS if s.endswith("_paraphrased")}).index(split.replace("_paraphrased", ""))
    for i in range(per_split):
        person = f"Person{base}x{i}"
        answer = CITIES[(base + i) % len(CITIES)]
        if split.endswith("_paraphrased"):
            question = f"In which city was {person} born?"
        else:
            question = f"Where was {person} born?"
        out["fact_id"].append(f"p{base}{i}/birth_city")
        out["subject"].append(person)
        out["relation"].append("birth_city")
        out["question"].append(question)
        out["answer"].append(answer)
        out["distractors"].append([c for c in CITIES if c != answer][:3])
        out["count"].append(COUNTS[stratum(split)] + i)
        out["stratum"].append(stratum(split))
    return out


README = """---
configs:
- config_name: default
  data_files:
{entries}
---
# tiny test benchmark
"""


def write_benchmark(folder: Path, per_split: int = 3, splits: tuple[str, ...] = SPLITS, drop_column: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    entries = []
    for split in splits:
        table = rows(split, per_split)
        if drop_column:
            table.pop(drop_column)
        pq.write_table(pa.table(table), folder / "data" / f"{split}-00000-of-00001.parquet")
        entries.append(f"  - split: {split}\n    path: data/{split}-*.parquet")
    (folder / "README.md").write_text(README.format(entries="\n".join(entries)))
    return folder
