"""``build_benchmark``: facts + counts -> the stratified benchmark (a DatasetDict on disk).

Which facts go where:

* With a ``group`` column (the synthetic world): forget candidates are the groups in
  ``schema.FORGET_GROUPS``; ``retain`` and ``utility`` splits are the groups of those names.
* Without one (a user's own facts): every fact is a forget candidate, except the facts named
  in ``retain_ids`` / ``utility_ids``, or, when those are not given, a seeded random
  ``retain_fraction`` / ``utility_fraction`` of the facts (default 0.1 each).

Strata (``strata=``), all applied to the forget candidates' counts:

* ``terciles`` (default, after the paper): cut points at the 1/3 and 2/3 quantiles (numpy's
  linear interpolation). **Tie rule**: ``low`` is count <= q1, ``high`` is count >= q2 (and
  not low), ``medium`` is q1 < count < q2; equal counts always land in the same stratum, and
  counts on a cut point go to the outer stratum. With only two distinct counts (the world's
  ``paper`` design: x1 and x10) the medium stratum is empty: that is an error naming the empty
  stratum, unless ``allow_empty=True`` (then ``forget_medium`` is an empty split).
  The paper's notebook used ``count <= q(0.33)``, ``q(0.33) < count <= q(0.67)``, ``> q(0.67)``;
  the rules agree except on ties at the upper cut point.
* ``quantiles``: the same with the given two quantiles ``cuts=(a, b)``.
* ``thresholds``: the same with the given two counts ``cuts=(t1, t2)``, t1 < t2.
* ``log-bins``: three equal-width bins of log(1 + count) between the smallest and the largest.

``balance=True`` then makes the three strata equally sized within every cell of (relation,
answer length in words: 1, 2, 3, 4+), by seeded subsampling, so that frequency is not confounded
with relation or answer length.

Every split has the same columns: BENCHMARK_COLUMNS plus object, group, log_count,
subject_count, object_count, paraphrases, original_question. In ``*_paraphrased`` splits the
``question`` is the first paraphrase and ``original_question`` the original; elsewhere both are
the original question. Rows are sorted by fact_id; same inputs give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from freq_unlearn.core import schema
from freq_unlearn.core.errors import UserError
from freq_unlearn.core.fsutil import prepare_output_dir

from .card import DATA_DIR, dataset_card
from .distractors import fill_distractors
from .facts import load_facts

STRATA_METHODS = ("terciles", "quantiles", "thresholds", "log-bins")
EXTRA_COLUMNS = (
    "object",
    "group",
    "log_count",
    "subject_count",
    "object_count",
    "paraphrases",
    "original_question",
)


class BenchmarkError(UserError):
    """Facts and counts that cannot make a benchmark; one line naming the fact or stratum."""


def _load_counts(counts: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    if isinstance(counts, pd.DataFrame):  # count_facts keeps the provenance in .attrs
        return counts.copy(), dict(counts.attrs.get("freq_unlearn", {}))
    from .counts_table import read_provenance

    path = Path(counts)
    if not path.exists():
        raise BenchmarkError(f"{path}: counts file not found")
    return pd.read_parquet(path), read_provenance(path)


def cut_points(counts: np.ndarray, strata: str, cuts: tuple[float, float] | None) -> tuple[float, float]:
    """The two cut points in count space for a strata method."""
    if strata not in STRATA_METHODS:
        raise BenchmarkError(f"unknown strata {strata!r}; choose one of {', '.join(STRATA_METHODS)}")
    values = np.asarray(counts, dtype=float)
    if strata == "terciles":
        return float(np.quantile(values, 1 / 3)), float(np.quantile(values, 2 / 3))
    if strata == "log-bins":
        lo, hi = np.log1p(values.min()), np.log1p(values.max())
        width = (hi - lo) / 3
        return float(np.expm1(lo + width)), float(np.expm1(lo + 2 * width))
    if cuts is None or len(cuts) != 2:
        raise BenchmarkError(f"strata {strata!r} needs two cut values (--cuts A B)")
    a, b = float(cuts[0]), float(cuts[1])
    if not a < b:
        raise BenchmarkError(f"cut values must be increasing, got {a} and {b}")
    if strata == "quantiles":
        if not (0 < a < 1 and 0 < b < 1):
            raise BenchmarkError(f"quantile cuts must lie in (0, 1), got {a} and {b}")
        return float(np.quantile(values, a)), float(np.quantile(values, b))
    return a, b


def assign_strata(counts: np.ndarray, q1: float, q2: float) -> np.ndarray:
    """Tie rule: low <= q1, high >= q2 (unless low), medium strictly between."""
    counts = np.asarray(counts, dtype=float)
    out = np.full(len(counts), "medium", dtype=object)
    out[counts >= q2] = "high"
    out[counts <= q1] = "low"
    return out


def _answer_length_bin(answer: str) -> int:
    return min(len(answer.split()), 4)


def balance_strata(forget: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Equal stratum sizes within each (relation, answer-length) cell, by seeded subsampling."""
    rng = np.random.default_rng(seed)
    keep = []
    cells = forget.assign(_len=forget["answer"].map(_answer_length_bin)).groupby(["relation", "_len"], sort=True)
    for _, cell in cells:
        by_stratum = {s: cell[cell["stratum"] == s] for s in schema.STRATA}
        n = min(len(rows) for rows in by_stratum.values())
        for s in schema.STRATA:
            rows = by_stratum[s].sort_values("fact_id")
            if n:
                picked = rng.choice(len(rows), size=n, replace=False)
                keep.append(rows.iloc[np.sort(picked)])
    if not keep:
        return forget.iloc[0:0]
    return pd.concat(keep).sort_values("fact_id", kind="stable")


def _split_roles(
    facts: pd.DataFrame,
    has_groups: bool,
    retain_ids: list[str] | None,
    utility_ids: list[str] | None,
    retain_fraction: float,
    utility_fraction: float,
    seed: int,
) -> pd.Series:
    """'forget', 'retain', 'utility' or '' (unused) for every fact."""
    if has_groups and retain_ids is None and utility_ids is None:
        group = facts["group"].astype(str)
        role = pd.Series("", index=facts.index)
        role[group.isin(schema.FORGET_GROUPS)] = "forget"
        role[group == schema.GROUP_RETAIN] = "retain"
        role[group == schema.GROUP_UTILITY] = "utility"
        return role
    role = pd.Series("forget", index=facts.index)
    if retain_ids is not None or utility_ids is not None:
        known = set(facts["fact_id"])
        for name, ids in (("retain", retain_ids or []), ("utility", utility_ids or [])):
            missing = [i for i in ids if i not in known]
            if missing:
                raise BenchmarkError(f"{name} fact {missing[0]!r} is not among the facts")
            role[facts["fact_id"].isin(ids)] = name
        return role
    if not (0 <= retain_fraction < 1 and 0 <= utility_fraction < 1 and retain_fraction + utility_fraction < 1):
        raise BenchmarkError("retain and utility fractions must be in [0, 1) and sum to less than 1")
    order = np.random.default_rng(seed).permutation(len(facts))
    n_retain = int(round(retain_fraction * len(facts)))
    n_utility = int(round(utility_fraction * len(facts)))
    role.iloc[order[:n_retain]] = "retain"
    role.iloc[order[n_retain : n_retain + n_utility]] = "utility"
    return role


def _optional_columns(facts: pd.DataFrame) -> list[str]:
    """The optional fact columns (schema.OPTIONAL_BENCHMARK_COLUMNS) these facts have."""
    return [c for c in schema.OPTIONAL_BENCHMARK_COLUMNS if c in facts.columns]


def _as_optional_strings(values: pd.Series) -> np.ndarray:
    return np.asarray([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values],
                      dtype=object)


def _split_frame(rows: pd.DataFrame, stratum: pd.Series | str, paraphrased: bool) -> pd.DataFrame:
    rows = rows.sort_values("fact_id", kind="stable")
    if isinstance(stratum, pd.Series):
        stratum = stratum.loc[rows.index].astype(str).to_numpy()
    question = rows["question"]
    if paraphrased:
        question = rows.apply(lambda r: r["paraphrases"][0] if len(r["paraphrases"]) else r["question"], axis=1)
    frame = pd.DataFrame(
        {
            "fact_id": rows["fact_id"].astype(str).to_numpy(),
            "subject": rows["subject"].astype(str).to_numpy(),
            "relation": rows["relation"].astype(str).to_numpy(),
            "question": np.asarray(question, dtype=object) if len(rows) else np.array([], dtype=object),
            "answer": rows["answer"].astype(str).to_numpy(),
            "distractors": rows["distractors"].to_numpy(),
            "count": rows["count"].astype("int64").to_numpy(),
            "stratum": np.asarray(stratum if not isinstance(stratum, str) else [stratum] * len(rows), dtype=object),
            "object": rows["object"].astype(str).to_numpy(),
            "group": rows["group"].astype(str).to_numpy(),
            "log_count": np.log1p(rows["count"].astype(float).to_numpy()),
            "subject_count": rows["subject_count"].astype("int64").to_numpy(),
            "object_count": rows["object_count"].astype("int64").to_numpy(),
            "paraphrases": rows["paraphrases"].to_numpy(),
            "original_question": rows["question"].astype(str).to_numpy(),
        }
    )
    for column in _optional_columns(rows):
        frame[column] = _as_optional_strings(rows[column])
    return frame


def _arrow_schema(optional: list[str]):
    import pyarrow as pa

    return pa.schema(
        [
            ("fact_id", pa.string()),
            ("subject", pa.string()),
            ("relation", pa.string()),
            ("question", pa.string()),
            ("answer", pa.string()),
            ("distractors", pa.list_(pa.string())),
            ("count", pa.int64()),
            ("stratum", pa.string()),
            ("object", pa.string()),
            ("group", pa.string()),
            ("log_count", pa.float64()),
            ("subject_count", pa.int64()),
            ("object_count", pa.int64()),
            ("paraphrases", pa.list_(pa.string())),
            ("original_question", pa.string()),
        ]
        + [(column, pa.string()) for column in optional]
    )


def _facts_table(facts: str | Path | pd.DataFrame, seed: int) -> tuple[pd.DataFrame, bool, int]:
    """The facts with every column a split needs (defaults filled in, distractors generated where
    missing: see ``distractors.py``), and whether they have a ``group`` column."""
    facts_df = load_facts(facts)
    if "question" not in facts_df.columns:
        raise BenchmarkError("facts have no 'question' column: a benchmark needs a question per fact")
    facts_df = facts_df.copy()
    has_groups = "group" in facts_df.columns
    for column, default in (("relation", ""), ("answer", None), ("group", "")):
        if column not in facts_df.columns:
            facts_df[column] = facts_df["object"] if column == "answer" else default
    for column in ("paraphrases", "distractors"):
        if column not in facts_df.columns:
            facts_df[column] = [[] for _ in range(len(facts_df))]
    source = "<DataFrame>" if isinstance(facts, pd.DataFrame) else str(facts)
    facts_df, generated = fill_distractors(facts_df, seed, source=source)
    return facts_df, has_groups, generated


def _with_counts(facts_df: pd.DataFrame, counts: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Facts joined with their counts; every fact must have one."""
    counts_df, provenance = _load_counts(counts)
    for column in ("fact_id", "count"):
        if column not in counts_df.columns:
            raise BenchmarkError(f"counts table has no '{column}' column")
    keep = ["fact_id", "count"] + [c for c in ("subject_count", "object_count") if c in counts_df.columns]
    merged = facts_df.merge(counts_df[keep].astype({"fact_id": str}), on="fact_id", how="left")
    for column in ("subject_count", "object_count"):
        if column not in merged.columns:
            merged[column] = 0
    missing = merged[merged["count"].isna()]
    if len(missing):
        raise BenchmarkError(f"fact {missing['fact_id'].iloc[0]!r} has no count ({len(missing)} facts without counts)")
    merged["count"] = merged["count"].astype("int64")
    return merged, provenance


def _stratified_forget(forget: pd.DataFrame, strata: str, cuts, balance: bool, allow_empty: bool,
                       seed: int) -> tuple[pd.DataFrame, tuple[float, float]]:
    """The forget candidates with their stratum (balanced if asked), and the cut points."""
    forget = forget.copy()
    if forget.empty:
        raise BenchmarkError("no forget candidates among the facts")
    q1, q2 = cut_points(forget["count"].to_numpy(), strata, cuts)
    forget["stratum"] = assign_strata(forget["count"].to_numpy(), q1, q2)
    if balance:
        forget = balance_strata(forget, seed)
    empty = [s for s in schema.STRATA if not (forget["stratum"] == s).any()]
    if empty and not allow_empty:
        distinct = sorted(set(forget["count"].tolist()))
        raise BenchmarkError(
            f"stratum forget_{empty[0]} would be empty (strata={strata}, cut points {q1:g} / {q2:g}, "
            f"{len(distinct)} distinct forget counts: {distinct[:6]}{'...' if len(distinct) > 6 else ''}); "
            "use other --strata/--cuts or --allow-empty"
        )
    return forget, (q1, q2)


def _mia_tables(facts_df: pd.DataFrame) -> dict:
    """``mia_<group>`` splits (person_id, group, biography; one row per person) when the facts carry
    biographies and held-out people, the non-members of membership inference; else none."""
    import pyarrow as pa

    from freq_unlearn.tasks.scores import MIA_GROUPS, MIA_NONMEMBER, mia_split

    if "biography" not in facts_df.columns or not (facts_df["group"].astype(str) == MIA_NONMEMBER).any():
        return {}
    people = facts_df.drop_duplicates("person_id").sort_values("person_id", kind="stable")
    out = {}
    for group in MIA_GROUPS:
        rows = people[people["group"].astype(str) == group]
        if len(rows):
            frame = pd.DataFrame({"person_id": rows["person_id"].astype(str), "group": group,
                                  "biography": rows["biography"].astype(str)})
            out[mia_split(group)] = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    return out


def _write_folder(out: Path, tables: dict, info: dict, overwrite: bool) -> None:
    """data/<split>.parquet, the dataset card and benchmark_info.json, swapped in at once."""
    import pyarrow.parquet as pq

    with prepare_output_dir(out, overwrite=overwrite) as tmp:
        (tmp / DATA_DIR).mkdir()
        digest = hashlib.sha256()
        for split, table in tables.items():
            pq.write_table(table, tmp / DATA_DIR / f"{split}.parquet")
            digest.update((tmp / DATA_DIR / f"{split}.parquet").read_bytes())
        info["data_sha256"] = digest.hexdigest()
        (tmp / "README.md").write_text(dataset_card(info), encoding="utf-8")
        (tmp / "benchmark_info.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def build_benchmark(
    facts: str | Path | pd.DataFrame,
    counts: str | Path | pd.DataFrame,
    out: str | Path,
    strata: str = "terciles",
    cuts: tuple[float, float] | None = None,
    balance: bool = False,
    allow_empty: bool = False,
    retain_ids: list[str] | None = None,
    utility_ids: list[str] | None = None,
    retain_fraction: float = 0.1,
    utility_fraction: float = 0.1,
    name: str = "freq-unlearn benchmark",
    overwrite: bool = True,
    seed: int = 0,
    world_hash: str | None = None,
):
    """Build the stratified benchmark folder ``out`` and return it as a ``datasets.DatasetDict``.

    ``out`` holds ``data/<split>.parquet`` for every split in ``schema.BENCHMARK_SPLITS`` and a
    README.md dataset card whose ``configs:`` block names them, so ``load_dataset(str(out))``
    gives the same splits. See the module docstring for the split and strata rules. ``world_hash``
    (the synthetic world's content hash) goes into ``benchmark_info.json``, where the tasks compare
    it with a model's ``pretrain_record.json``.
    """
    import pyarrow as pa
    from datasets import Dataset, DatasetDict

    facts_df, has_groups, generated = _facts_table(facts, seed)
    merged, provenance = _with_counts(facts_df, counts)
    role = _split_roles(merged, has_groups, retain_ids, utility_ids, retain_fraction, utility_fraction, seed)
    forget, (q1, q2) = _stratified_forget(merged[role == "forget"], strata, cuts, balance, allow_empty, seed)
    frames: dict[str, pd.DataFrame] = {}
    for s in schema.STRATA:
        rows = forget[forget["stratum"] == s]
        frames[f"forget_{s}"] = _split_frame(rows, rows["stratum"], paraphrased=False)
        frames[f"forget_{s}_paraphrased"] = _split_frame(rows, rows["stratum"], paraphrased=True)
    frames[schema.RETAIN_SPLIT] = _split_frame(merged[role == "retain"], schema.RETAIN_SPLIT, paraphrased=False)
    frames[schema.UTILITY_SPLIT] = _split_frame(merged[role == "utility"], schema.UTILITY_SPLIT, paraphrased=False)

    arrow_schema = _arrow_schema(_optional_columns(merged))
    tables = {split: pa.Table.from_pandas(frames[split], schema=arrow_schema, preserve_index=False)
              .replace_schema_metadata(None) for split in schema.BENCHMARK_SPLITS}
    info = {
        "name": name,
        "strata": strata,
        "cut_points": [q1, q2],
        "balance": balance,
        "seed": seed,
        "sizes": {split: tables[split].num_rows for split in schema.BENCHMARK_SPLITS},
        "counts_provenance": provenance,
        "generated_distractors": generated,
    }
    if world_hash is not None:
        info["world_hash"] = world_hash
    mia = _mia_tables(facts_df)
    if mia:
        info["mia_sizes"] = {split: table.num_rows for split, table in mia.items()}
    _write_folder(Path(out), {**tables, **mia}, info, overwrite)
    return DatasetDict({split: Dataset(tables[split]) for split in schema.BENCHMARK_SPLITS})


def push_benchmark(folder: str | Path, repo_id: str, private: bool = False, token: str | None = None) -> str:
    """Upload a benchmark folder as a Hub dataset repo, files unchanged; returns the repo URL.

    The endpoint is huggingface_hub's (``HF_ENDPOINT``); ``load_dataset(repo_id)`` then gives the
    same splits, named by the card's ``configs:`` block.
    """
    from huggingface_hub import HfApi

    folder = Path(folder)
    if not (folder / "README.md").is_file() or not (folder / DATA_DIR).is_dir():
        raise BenchmarkError(f"{folder}: not a benchmark folder (no README.md and {DATA_DIR}/)")
    api = HfApi(token=token)
    url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset",
                      commit_message="freq-unlearn benchmark")
    return str(url)
