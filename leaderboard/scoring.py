"""Evaluation for the leaderboard: the suite's lm-eval tasks through ``freq_unlearn.tasks.evaluation``
(the one evaluation API), the task list of a registration, and the base model's cache key.

The scores themselves are ``protocol.py`` (built on ``tasks.pairing`` and ``tasks.statistics``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from freq_unlearn.leaderboard.protocol import EVAL_SPLITS

VARIANTS = ("gen", "ll")


def task_names(dataset: str = "synthetic", splits: Sequence[str] = EVAL_SPLITS, variants: Sequence[str] = VARIANTS) -> list[str]:
    return [f"freq_unlearn_{dataset}_{split}_{variant}" for split in splits for variant in variants]


def benchmark_hash(benchmark: str) -> str:
    """Content hash of a local benchmark folder (data files, card, info; the kernel's definition);
    a Hub id hashes as its name."""
    from freq_unlearn.core.benchmark_folder import content_hash

    return content_hash(benchmark)


def evaluate_model(model_dir: Path | str, config: dict[str, Any], device: str = "cpu", batch_size: int = 16,
                   peft: str | None = None) -> Any:
    """Per-item records (``tasks.evaluation.ITEM_COLUMNS``) of one model on the registered splits."""
    from freq_unlearn.tasks.evaluation import evaluate

    return evaluate(str(model_dir), str(config["benchmark"]), splits=list(EVAL_SPLITS), probes=("qa",),
                    family=str(config.get("task_dataset", "synthetic")), limit=config["limit"], device=device,
                    batch_size=batch_size, peft=peft)


def base_cache_key(base_sha256: str, bench_sha256: str, tasks: Sequence[str], limit: int | None) -> str:
    raw = json.dumps({"model": base_sha256, "benchmark": bench_sha256, "tasks": sorted(tasks), "limit": limit,
                      "records": "tasks.evaluation/1"}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]
