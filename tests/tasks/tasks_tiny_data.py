"""A tiny benchmark in the freq-unlearn format, written by the tests themselves.

Facts are about made-up people with one attribute each; every split has a few rows. The
answers come from a small pool so that distractors are same-relation answers. Each fact also has
its biography sentence up to the attribute (``bio_prefix``, the BIO probe's context).
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
COLUMNS = ("fact_id", "person_id", "subject", "relation", "question", "answer", "distractors", "count", "stratum",
           "bio_prefix")


def stratum(split: str) -> str:
    return split.split("_")[1] if split.startswith("forget_") else split


def rows(split: str, per_split: int = 3) -> dict[str, list]:
    out: dict[str, list] = {k: [] for k in COLUMNS}
    base = sorted(set(SPLITS) - {s for s in SPLITS if s.endswith("_paraphrased")}).index(split.replace("_paraphrased", ""))
    for i in range(per_split):
        person = f"Person{base}x{i}"
        answer = CITIES[(base + i) % len(CITIES)]
        if split.endswith("_paraphrased"):
            question = f"In which city was {person} born?"
        else:
            question = f"Where was {person} born?"
        out["fact_id"].append(f"p{base}{i}/birth_city")
        out["person_id"].append(f"p{base}{i}")
        out["bio_prefix"].append(f"{person} was born in")
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


# --------------------------------------------------------------------------- sanity world
KNOWN_CITIES = ("Paris", "Lima", "Oslo", "Cairo")
UNSEEN_CITIES = ("Quito", "Hanoi", "Dakar", "Riga")  # never in the model's training lines
NAMES = ("Ava", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea",
         "Mia", "Ned", "Oda", "Pia", "Quin", "Rui", "Sam", "Tess", "Uma", "Vik", "Wes", "Xia")


def _sanity_rows(split: str) -> dict[str, list]:
    """forget_high/retain/utility rows are known to the model; forget_low rows are not."""
    out: dict[str, list] = {k: [] for k in COLUMNS}
    known = not split.startswith("forget_low")
    base = split.replace("_paraphrased", "")
    names = NAMES[[s for s in SPLITS if not s.endswith("_paraphrased")].index(base) * 4:][:4]
    for i in range(4):
        person = names[i]
        answer = (KNOWN_CITIES if known else UNSEEN_CITIES)[i]
        question = f"In which city was {person} born?" if split.endswith("_paraphrased") else f"Where was {person} born?"
        out["fact_id"].append(f"{base}{i}/birth_city")
        out["person_id"].append(f"{base}{i}")
        out["bio_prefix"].append(f"{person} was born in")
        out["subject"].append(person)
        out["relation"].append("birth_city")
        out["question"].append(question)
        out["answer"].append(answer)
        out["distractors"].append([c for c in KNOWN_CITIES if c != answer][:3])
        out["count"].append({"forget_low": 1, "forget_medium": 3, "forget_high": 10}.get(base, 1))
        out["stratum"].append(stratum(split))
    return out


def sanity_facts() -> tuple[list[dict], list[str]]:
    """The facts the tiny model is trained on (non-paraphrased known splits) and extra vocabulary."""
    facts = []
    for split in ("forget_high", "retain"):
        rows_ = _sanity_rows(split)
        facts += [dict(question=q, answer=a, distractors=d) for q, a, d in zip(rows_["question"], rows_["answer"], rows_["distractors"])]
    vocabulary = [" ".join(UNSEEN_CITIES), " ".join(_sanity_rows("forget_low")["question"]),
                  " ".join(_sanity_rows("forget_high_paraphrased")["question"])]
    return facts, vocabulary


def write_sanity_benchmark(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for split in SPLITS:
        pq.write_table(pa.table(_sanity_rows(split)), folder / f"{split}.parquet")
        entries.append(f"  - split: {split}\n    path: {split}.parquet")
    (folder / "README.md").write_text(README.format(entries="\n".join(entries)))
    return folder
