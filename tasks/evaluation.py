"""Evaluate a model with the suite's lm-eval tasks: per-item records of chosen splits, probes, views.

This is the one way the suite scores a model (the leaderboard, the demo, the unlearning in-run
metrics and relearning all call ``evaluate``)::

    from freq_unlearn.tasks.evaluation import evaluate
    items = evaluate("runs/model", "runs/bench", splits=["forget_high", "retain"], probes=("qa", "bio"))

``model`` is a folder or Hub id, or a model object in memory (then pass its tokenizer). It runs
lm-eval's ``simple_evaluate`` on the ``hf`` backend over a ``TaskManager`` that indexes only the
suite's task folder, built once per process and benchmark. The result has one row per item and
probe (``ITEM_COLUMNS``): the generation view's continuation and scores and the probability view's
scores side by side, as ``freq_unlearn.tasks.scores`` defines them.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from freq_unlearn.core.benchmark_folder import BenchmarkError
from freq_unlearn.core.schema import BENCHMARK_SPLITS, PAPER_SPLITS, PROBES, VARIANTS, stratum_of_split, task_name
from freq_unlearn.tasks import tasks_path
from freq_unlearn.tasks.scores import GEN_METRICS, PROB_METRICS, TF_METRIC

KEY_COLUMNS = ("split", "probe", "fact_id")
DOC_COLUMNS = ("person_id", "subject", "relation", "stratum", "count", "answer")
ITEM_COLUMNS = KEY_COLUMNS + DOC_COLUMNS + ("continuation",) + GEN_METRICS + PROB_METRICS


@functools.lru_cache(maxsize=8)
def _task_manager(folder: str, benchmark: str, tokenizer_name: str) -> Any:
    """Indexes the suite's folder only (milliseconds), once per benchmark and tokenizer."""
    from lm_eval.tasks import TaskManager

    metadata = {"benchmark": benchmark, "pretrained": tokenizer_name}
    return TaskManager(include_path=folder, include_defaults=False, metadata=metadata)


def task_names(splits: Sequence[str], probes: Sequence[str] = ("qa",), variants: Sequence[str] = VARIANTS,
               family: str = "synthetic") -> dict[str, tuple[str, str, str]]:
    """lm-eval task name -> (split, probe, variant); the bio probe has no paraphrased splits."""
    out = {}
    for split in splits:
        for probe in probes:
            if probe not in PROBES:
                raise ValueError(f"unknown probe {probe!r}; choose from {', '.join(PROBES)}")
            if probe == "bio" and split.endswith("_paraphrased"):
                continue
            for variant in variants:
                out[task_name(family, split, variant, probe)] = (split, probe, variant)
    return out


def _lm(model: Any, tokenizer: Any, device: str | None, batch_size: int, peft: str | None) -> Any:
    from lm_eval.models.huggingface import HFLM

    class QuietHFLM(HFLM):
        """lm-eval's evaluator never asks for ``disable_tqdm`` (and tqdm's TQDM_DISABLE loses to an
        explicit ``disable=False``): the request bars are switched off here unless verbose."""

        def loglikelihood(self, requests, disable_tqdm: bool = False):
            return super().loglikelihood(requests, disable_tqdm=disable_tqdm or not _verbose())

        def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
            return super().loglikelihood_rolling(requests, disable_tqdm=disable_tqdm or not _verbose())

        def generate_until(self, requests, disable_tqdm: bool = False):
            return super().generate_until(requests, disable_tqdm=disable_tqdm or not _verbose())

        def tok_encode(self, string: str, add_special_tokens: bool | None = None,
                       left_truncate_len: int | None = None, **kwargs: Any) -> list[int]:
            # lm-eval encodes each multiple-choice context once per choice; the same string always
            # gives the same ids, so one evaluation encodes it once (~10% of an in-run evaluation).
            key = (string, add_special_tokens, left_truncate_len, tuple(sorted(kwargs.items())))
            memo = self.__dict__.setdefault("_encoded", {})
            if key not in memo:
                memo[key] = super().tok_encode(string, add_special_tokens, left_truncate_len, **kwargs)
            return list(memo[key])

    if isinstance(model, (str, Path)):
        return QuietHFLM(pretrained=str(model), tokenizer=tokenizer, device=device or "cpu", dtype="float32",
                         batch_size=batch_size, trust_remote_code=False, peft=peft)
    if tokenizer is None:
        raise ValueError("evaluating a model object needs its tokenizer")
    return QuietHFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)


def _verbose() -> bool:
    return os.environ.get("FREQ_UNLEARN_VERBOSE") == "1"


def _tokenizer_name(model: Any, tokenizer: Any) -> str:
    if isinstance(model, (str, Path)):
        return str(model)
    return str(getattr(tokenizer, "name_or_path", "") or "")


def evaluate(
    model: Any,
    benchmark: str,
    splits: Sequence[str],
    probes: Sequence[str] = ("qa",),
    variants: Sequence[str] = VARIANTS,
    family: str = "synthetic",
    limit: int | None = None,
    tokenizer: Any = None,
    device: str | None = None,
    batch_size: int = 32,
    peft: str | None = None,
) -> Any:
    """Per-item records (a pandas DataFrame, ``ITEM_COLUMNS``) of ``model`` on the chosen tasks."""
    from lm_eval.evaluator import evaluate as lm_eval_evaluate

    names = task_names(splits, probes, variants, family)
    benchmark = str(Path(benchmark).resolve()) if Path(benchmark).is_dir() else str(benchmark)
    manager = _task_manager(str(tasks_path()), benchmark, _tokenizer_name(model, tokenizer))
    missing = sorted(set(names) - set(manager.match_tasks(list(names))))
    if missing:
        raise BenchmarkError(f"lm-eval knows no task {missing[0]!r} (tasks path {tasks_path()})")
    with _quiet_lm_eval():
        lm = _lm(model, tokenizer, device, batch_size, peft)
        # lm-eval's evaluate, not simple_evaluate: the latter re-seeds torch's global RNG (which would
        # disturb a training run that evaluates in-run) and collects environment info through a
        # `pip list` subprocess (1.3 s per call here).
        results = lm_eval_evaluate(lm=lm, task_dict=manager.load(list(names)), limit=limit, log_samples=True,
                                   bootstrap_iters=0, verbosity="ERROR")
    if results is None:
        raise RuntimeError("lm-eval returned no results")
    return records_from_samples(results["samples"], names)


class _quiet_lm_eval:
    """lm-eval logs every task it builds and draws a bar per request type; the suite's callers print
    their own progress, so errors only (``FREQ_UNLEARN_VERBOSE=1`` shows everything)."""

    def __enter__(self) -> None:
        self.loud = _verbose()
        self.logger = logging.getLogger("lm_eval")
        self.level = self.logger.level
        self.tqdm = os.environ.get("TQDM_DISABLE")
        if not self.loud:
            self.logger.setLevel(logging.ERROR)
            os.environ["TQDM_DISABLE"] = "1"

    def __exit__(self, *exc: Any) -> None:
        self.logger.setLevel(self.level)
        if not self.loud:
            if self.tqdm is None:
                os.environ.pop("TQDM_DISABLE", None)
            else:
                os.environ["TQDM_DISABLE"] = self.tqdm


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def records_from_samples(samples: Mapping[str, Iterable[Mapping[str, Any]]],
                         names: Mapping[str, tuple[str, str, str]]) -> Any:
    """lm-eval's ``results["samples"]`` -> one row per (split, probe, fact), both views merged."""
    import pandas as pd

    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for name, task_samples in samples.items():
        split, probe, variant = names[name]
        for sample in task_samples:
            doc = sample["doc"]
            key = (split, probe, str(doc["fact_id"]))
            row = rows.setdefault(key, {
                "split": split, "probe": probe, "fact_id": str(doc["fact_id"]),
                "person_id": str(doc.get("person_id") or doc.get("subject", "")),
                "subject": str(doc.get("subject", "")), "relation": str(doc.get("relation", "")),
                "stratum": str(doc.get("stratum", stratum_of_split(split))), "count": int(doc.get("count", 0)),
                "answer": str(doc.get("answer", "")),
            })
            if variant == "gen":
                response = sample.get("filtered_resps") or sample.get("resps") or [""]
                while isinstance(response, list):
                    response = response[0] if response else ""
                row["continuation"] = str(response)
                metrics = GEN_METRICS
            else:
                metrics = PROB_METRICS + ((TF_METRIC,) if TF_METRIC in sample else ())
            for metric in metrics:
                row[metric] = _float(sample.get(metric))
    frame = pd.DataFrame(list(rows.values()))
    for column in ITEM_COLUMNS:
        if column not in frame.columns:
            frame[column] = "" if column == "continuation" else math.nan
    extra = [c for c in frame.columns if c not in ITEM_COLUMNS]
    return frame[list(ITEM_COLUMNS) + extra].sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)


def parse_task_name(name: str) -> tuple[str, str, str] | None:
    """'freq_unlearn_synthetic_forget_low_bio_gen' -> ('forget_low', 'bio', 'gen'); None if not ours."""
    if not name.startswith("freq_unlearn_"):
        return None
    for split in sorted(BENCHMARK_SPLITS + PAPER_SPLITS, key=len, reverse=True):
        for probe in PROBES:
            for variant in VARIANTS:
                if name.endswith(f"_{split}" + ("_bio" if probe == "bio" else "") + f"_{variant}"):
                    return split, probe, variant
    return None


def read_samples(paths: Iterable[str | Path]) -> Any:
    """Per-item records from lm-eval ``--log_samples`` files (``samples_<task>_<date>.jsonl``) or folders."""
    import json

    samples: dict[str, list[dict[str, Any]]] = {}
    names: dict[str, tuple[str, str, str]] = {}
    for path in paths:
        path = Path(path)
        for file in sorted(path.rglob("samples_*.jsonl")) if path.is_dir() else [path]:
            task = file.name[len("samples_"):].rsplit("_", 1)[0]
            parsed = parse_task_name(task)
            if parsed is None:
                continue
            names[task] = parsed
            with file.open(encoding="utf-8") as fh:
                samples.setdefault(task, []).extend(json.loads(line) for line in fh if line.strip())
    if not samples:
        raise BenchmarkError(f"no freq-unlearn samples_*.jsonl in {', '.join(map(str, paths))} (run lm_eval with --log_samples)")
    return records_from_samples(samples, names)


def write_records(frame: Any, path: str | Path) -> Path:
    """Per-item records as Parquet, atomically (the run folder keeps them for anyone to recompute)."""
    import io

    from freq_unlearn.core.fsutil import atomic_write_bytes

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, compression="zstd")
    atomic_write_bytes(Path(path), buffer.getvalue())
    return Path(path)
