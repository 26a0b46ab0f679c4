"""Scoring: evaluate a model through the suite's lm-eval tasks and turn BEFORE/AFTER per-item
records into the leaderboard's metrics.

The metrics themselves (retention, frequency gap, misalignment, disagreement and their
intervals) are ``freq_unlearn.tasks.metrics``: this module only calls them. It adds what is
specific to the leaderboard: held-out perplexity, the headline score (``headline.py``) and
the per-item table used by the plots.

Held-out perplexity is exp(-mean log p(answer token | question)) over the *utility* split in
the probability-view task (``logprob_per_token``): the utility people's QA pairs are never in
the pre-training corpus and never unlearned, so their answers are held-out text for every
submission, scored by the same lm-eval run as everything else.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from freq_unlearn.leaderboard import headline as headline_mod

FORGET_SPLITS = ("forget_low", "forget_medium", "forget_high")
UTILITY_SPLITS = ("retain", "utility")
EVAL_SPLITS = FORGET_SPLITS + UTILITY_SPLITS
VARIANTS = ("gen", "ll")
COMPACT_DOC_KEYS = ("fact_id", "stratum", "count")


def task_names(dataset: str = "synthetic", splits: Sequence[str] = EVAL_SPLITS, variants: Sequence[str] = VARIANTS) -> list[str]:
    return [f"freq_unlearn_{dataset}_{split}_{variant}" for split in splits for variant in variants]


def benchmark_hash(benchmark: str) -> str:
    """Content hash of a local benchmark folder (data files, card, info; the kernel's definition);
    a Hub id hashes as its name."""
    from freq_unlearn.core.benchmark_folder import content_hash

    return content_hash(benchmark)


def _compact(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Keep what the metrics need (the doc keys, the task and the per-item scores)."""
    from freq_unlearn.tasks.metrics import GEN_METRICS, PROB_METRICS

    out = []
    for record in records:
        doc = record["doc"]
        compact = {"task": record["task"], "doc": {k: doc[k] for k in COMPACT_DOC_KEYS}}
        for metric in GEN_METRICS + PROB_METRICS:
            if metric in record:
                compact[metric] = float(record[metric])
        out.append(compact)
    return out


def evaluate_model(
    model_dir: Path | str,
    benchmark: str,
    tasks: Sequence[str],
    limit: int | None,
    device: str = "cpu",
    batch_size: int = 16,
    peft: str | None = None,
) -> list[dict[str, Any]]:
    """Run lm-eval (Python API) on one model; returns compact per-item records of every task."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    from freq_unlearn.tasks import tasks_path
    from freq_unlearn.tasks.metrics import samples_from_results

    manager = TaskManager(include_path=str(tasks_path()), include_defaults=False, metadata={"benchmark": benchmark, "pretrained": str(model_dir)})
    # simple_evaluate does not expand wildcards; match_tasks checks that every name exists.
    matched = manager.match_tasks(list(tasks))
    missing = sorted(set(tasks) - set(matched))
    if missing:
        raise ValueError(f"lm-eval knows no task {missing[0]!r} (tasks path {tasks_path()})")
    model_args: dict[str, Any] = {"pretrained": str(model_dir), "trust_remote_code": False, "dtype": "float32"}
    if peft:
        model_args["peft"] = peft
    results = lm_eval.simple_evaluate(
        model="hf",
        model_args=model_args,
        tasks=list(matched),
        limit=limit,
        device=device,
        batch_size=batch_size,
        log_samples=True,
        task_manager=manager,
        bootstrap_iters=0,
        metadata={"benchmark": benchmark, "pretrained": str(model_dir)},
    )
    if results is None:
        raise RuntimeError("lm-eval returned no results")
    return _compact(samples_from_results(results))


def base_cache_key(base_sha256: str, bench_sha256: str, tasks: Sequence[str], limit: int | None) -> str:
    raw = json.dumps({"model": base_sha256, "benchmark": bench_sha256, "tasks": sorted(tasks), "limit": limit}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


# --------------------------------------------------------------------------- metrics


def perplexity(cols: Mapping[str, np.ndarray], when: str, stratum: str = "utility") -> float:
    mask = np.asarray(cols["stratum"]).astype(str) == stratum
    values = np.asarray(cols[f"logprob_per_token_{when}"], dtype=float)[mask]
    values = values[~np.isnan(values)]
    return float(math.exp(-values.mean())) if len(values) else math.nan


def flat_values(cols: Mapping[str, Any]) -> dict[str, float]:
    """Point values (no intervals) of everything the headline needs, for one run or a resample."""
    from freq_unlearn.tasks.metrics import retention

    flat = {k: v["value"] for k, v in retention(cols, n_boot=0).items() if k.startswith("retention_")}
    flat["ppl_before"] = perplexity(cols, "before")
    flat["ppl_after"] = perplexity(cols, "after")
    return flat


class _FlatCache:
    """The bootstrap draws the same resamples for every statistic (same seed): compute the
    retention values once per resample and share them between headline, forget and utility."""

    def __init__(self) -> None:
        self.values: dict[bytes, dict[str, float]] = {}

    def __call__(self, cols: Mapping[str, np.ndarray]) -> dict[str, float]:
        key = hashlib.blake2b(
            np.asarray(cols["fact_id"]).tobytes() + b"|" + np.asarray(cols["run"]).tobytes(), digest_size=16
        ).digest()
        if key not in self.values:
            self.values[key] = flat_values(cols)
        return self.values[key]


def _leaderboard_stat(name: str, cache: _FlatCache):
    def stat(cols: Mapping[str, np.ndarray]) -> float:
        if name in ("ppl_before", "ppl_after"):
            return perplexity(cols, name.split("_")[1])
        if name == "ppl_ratio":
            before = perplexity(cols, "before")
            return perplexity(cols, "after") / before if before > 0 else math.nan
        return headline_mod.scores(cache(cols))[name]

    return stat


LEADERBOARD_METRICS = ("headline", "forget_score", "utility_score", "ppl_before", "ppl_after", "ppl_ratio")


def _clean(entry: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe: NaN becomes null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in entry.items()}


def compute_metrics(runs: Sequence[Any], n_boot: int = 1000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Metrics with 95% intervals: Student-t over runs (seeds) when there are several, else a
    bootstrap over items (``tasks.metrics``' rule, which it applies to our statistics too)."""
    from freq_unlearn.tasks import metrics

    columns = metrics.concat_runs(runs)
    out = metrics.unlearning_report(columns, n_boot=n_boot, seed=seed)
    cols = metrics._as_arrays(columns)  # noqa: SLF001 - the one place CIs are computed
    cache = _FlatCache()
    for name in LEADERBOARD_METRICS:
        out[name] = metrics._interval(cols, _leaderboard_stat(name, cache), n_boot, seed, 0.95).as_dict()  # noqa: SLF001
    n_runs = len({str(r) for p in runs for r in p.run})
    return {k: {**_clean(v), "n_seeds": n_runs} for k, v in out.items()}


def item_rows(paired: Any, seed: int) -> list[dict[str, Any]]:
    """Per forget item: known/kept in each view (the plots' input)."""
    from freq_unlearn.tasks.metrics import VIEWS

    cols = paired.as_columns()
    rows = []
    for i, stratum in enumerate(cols["stratum"]):
        if stratum not in headline_mod.STRATA:
            continue
        row: dict[str, Any] = {"seed": seed, "fact_id": cols["fact_id"][i], "stratum": stratum, "count": int(cols["count"][i])}
        for view, metric in VIEWS.items():
            before, after = cols[f"{metric}_before"][i], cols[f"{metric}_after"][i]
            row[f"known_{view}"] = bool(before >= 1.0)
            row[f"kept_{view}"] = bool(after >= 1.0) if before >= 1.0 else None
        rows.append(row)
    return rows


def score_runs(base_records: Sequence[Mapping[str, Any]], after_by_seed: Mapping[int, Sequence[Mapping[str, Any]]],
               n_boot: int = 1000) -> dict[str, Any]:
    """BEFORE records + AFTER records per seed -> metrics, per-seed values, per-item rows."""
    from freq_unlearn.tasks.metrics import pair_runs

    runs, per_seed, items = [], [], []
    for seed, after in sorted(after_by_seed.items()):
        paired = pair_runs(base_records, after, run=str(seed))
        if not paired.fact_id:
            raise ValueError(f"seed {seed}: no item was evaluated both before and after")
        runs.append(paired)
        flat = flat_values(paired.as_columns())
        flat.update(headline_mod.scores(flat))
        per_seed.append({"seed": seed, "metrics": _clean(flat)})
        items.extend(item_rows(paired, seed))
    return {"metrics": compute_metrics(runs, n_boot=n_boot), "per_seed": per_seed, "items": items}
