"""The submit flow: register the benchmark (``init``), then check, evaluate and store submissions.

Order matters for "bad input leaves the store unchanged": everything that can be refused
(metadata, checkpoints, security, base model, duplicates) is checked before the request is
written; only evaluation failures after that mark the request FAILED (with the reason).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from freq_unlearn.leaderboard import checkpoint as ckpt
from freq_unlearn.leaderboard import scoring
from freq_unlearn.core.fsutil import atomic_write_text
from freq_unlearn.leaderboard.store import Store
from freq_unlearn.leaderboard.submission import Submission, submission_id


def init_store(store: Store, benchmark: str, base_model: str, dataset: str = "synthetic",
               limit: int | None = None, max_bytes: int = ckpt.DEFAULT_MAX_BYTES, force: bool = False) -> dict[str, Any]:
    """Register the benchmark, its base model (fingerprinted) and the evaluation settings."""
    base = ckpt.fetch(base_model, max_bytes=max_bytes)
    config = {
        "benchmark": benchmark,
        "benchmark_sha256": scoring.benchmark_hash(benchmark),
        "task_dataset": dataset,
        "tasks": scoring.task_names(dataset),
        "limit": limit,
        "base_model": base_model,
        "base_model_sha256": base.sha256,
        "base_fingerprint": ckpt.base_fingerprint(base.folder),
        "max_checkpoint_bytes": max_bytes,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    store.init(config, force=force)
    return config


def check_declared_base(submission: Submission, config: dict[str, Any]) -> None:
    """The submission must name the registered base model: the same id/path, or a local folder
    with the same content hash."""
    declared, registered = submission.base_model, str(config["base_model"])
    if declared == registered:
        return
    folder = Path(declared).expanduser()
    if folder.is_dir():
        if folder.resolve() == Path(registered).expanduser().resolve():
            return
        try:
            if ckpt.content_hash(folder) == config["base_model_sha256"]:
                return
        except OSError:
            pass
    raise ckpt.CheckpointError(
        f"submission declares base model {declared!r}, but this leaderboard's benchmark was built on"
        f" {registered!r} (sha256 {config['base_model_sha256'][:12]}): unlearning results of another model"
        " are not comparable"
    )


def base_records(store: Store, config: dict[str, Any], device: str, batch_size: int) -> list[dict[str, Any]]:
    """The base model's per-item records, evaluated once per (model, benchmark, tasks, limit)."""
    key = scoring.base_cache_key(config["base_model_sha256"], config["benchmark_sha256"], config["tasks"], config["limit"])
    path = store.cache_dir / "base" / f"{key}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))["records"]
    base = ckpt.fetch(config["base_model"], max_bytes=config["max_checkpoint_bytes"])
    clean = ckpt.sanitized_copy(base, store.cache_dir / "checkpoints")
    records = scoring.evaluate_model(clean, config["benchmark"], config["tasks"], config["limit"], device, batch_size)
    atomic_write_text(path, json.dumps({"key": key, "base_model": config["base_model"], "records": records}) + "\n")
    return records


def submit(store: Store, submission: Submission, device: str = "cpu", batch_size: int = 16, n_boot: int = 1000,
           progress: Callable[[str], None] = print) -> tuple[str, dict[str, Any]]:
    config = store.config()
    check_declared_base(submission, config)
    checked: dict[int, ckpt.CheckedCheckpoint] = {}
    for ref in submission.checkpoints:
        one = ckpt.fetch(ref.path, ref.revision, max_bytes=config["max_checkpoint_bytes"])
        ckpt.check_same_base(one, config["base_fingerprint"], config["base_model"])
        checked[ref.seed] = one
    sid = submission_id(submission.identity({seed: c.sha256 for seed, c in checked.items()}))
    store.add_request(sid, submission.method, submission.to_json())  # refuses duplicates
    try:
        store.set_status(sid, "RUNNING")
        progress(f"evaluating the base model (cached after the first submission) on {len(config['tasks'])} tasks")
        before = base_records(store, config, device, batch_size)
        after: dict[int, list[dict[str, Any]]] = {}
        for seed, one in checked.items():
            progress(f"evaluating seed {seed}: {one.folder}")
            clean = ckpt.sanitized_copy(one, store.cache_dir / "checkpoints")
            if one.is_adapter:
                base = ckpt.sanitized_copy(ckpt.fetch(config["base_model"]), store.cache_dir / "checkpoints")
                model_dir, peft = base, str(clean)
            else:
                model_dir, peft = clean, None
            after[seed] = scoring.evaluate_model(model_dir, config["benchmark"], config["tasks"], config["limit"],
                                                 device, batch_size, peft=peft)
        scored = scoring.score_runs(before, after, n_boot=n_boot)
    except BaseException as err:
        store.set_status(sid, "FAILED", f"{type(err).__name__}: {err}"[:500])
        raise
    request = store.find_request(sid)
    result = {
        "submission_id": sid,
        "method": submission.method,
        "submission": submission.to_json(),
        "submitted_time": request[1]["submitted_time"] if request else None,
        "evaluated_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "benchmark": {"id": config["benchmark"], "sha256": config["benchmark_sha256"], "tasks": config["tasks"],
                      "limit": config["limit"]},
        "base_model": {"id": config["base_model"], "sha256": config["base_model_sha256"]},
        "seeds": sorted(checked),
        "checkpoints": {str(seed): c.sha256 for seed, c in sorted(checked.items())},
        **scored,
    }
    store.put_result(result)
    return sid, result

