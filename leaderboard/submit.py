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
from freq_unlearn.leaderboard import protocol, scoring
from freq_unlearn.core.fsutil import atomic_write_text
from freq_unlearn.leaderboard.store import Store
from freq_unlearn.leaderboard.submission import Submission, SubmissionError, run_record_evaluations, submission_id


def local_reference(ref: str) -> str:
    """An existing local path as an absolute, resolved path (a later ``submit`` may run from another
    folder); anything else (a Hub id) as given."""
    path = Path(ref).expanduser()
    return str(path.resolve()) if path.exists() else ref


def benchmark_splits(benchmark: str) -> list[str] | None:
    """The split names of a local benchmark (None for a Hub id: checked against the schema instead)."""
    if not Path(benchmark).is_dir():
        return None
    from freq_unlearn.core.benchmark_folder import load_splits

    return sorted(load_splits(benchmark))


def init_store(store: Store, benchmark: str, base_model: str, dataset: str = "synthetic",
               limit: int | None = None, max_bytes: int = ckpt.DEFAULT_MAX_BYTES, force: bool = False,
               people: str | None = None, relearn_steps: tuple[int, ...] = (0, 10)) -> dict[str, Any]:
    """Register the benchmark, its base model (fingerprinted) and the evaluation settings.

    ``people``: a table of (person_id, group, biography) with held-out people (a world's facts.parquet):
    every submission then also gets the robustness columns (relearning attack with ``relearn_steps``
    and membership inference, on the first seed of each targeted stratum).

    Local paths are stored absolute and resolved, next to their content hashes, so that ``submit``
    can check that it evaluates against the very files registered here (``verify_registration``)."""
    benchmark, base_model = local_reference(benchmark), local_reference(base_model)
    base = ckpt.fetch(base_model, max_bytes=max_bytes)
    config = {
        "benchmark": benchmark,
        "benchmark_sha256": scoring.benchmark_hash(benchmark),
        "benchmark_splits": benchmark_splits(benchmark),
        "task_dataset": dataset,
        "tasks": scoring.task_names(dataset),
        "limit": limit,
        "base_model": base_model,
        "base_model_sha256": base.sha256,
        "base_fingerprint": ckpt.base_fingerprint(base.folder),
        "max_checkpoint_bytes": max_bytes,
        "robustness": _robustness_config(people, relearn_steps) if people else None,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    store.init(config, force=force)
    return config


def _file_sha256(path: str) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _robustness_config(people: str, relearn_steps: tuple[int, ...]) -> dict[str, Any]:
    from freq_unlearn.robustness.mia import people_table
    from freq_unlearn.robustness.relearn import RelearnConfig

    path = local_reference(people)
    people_table(path)  # refuses a file without biographies or held-out people, before anything is stored
    steps = list(RelearnConfig(steps=tuple(relearn_steps)).steps)
    return {"people": path, "people_sha256": _file_sha256(path), "relearn_steps": steps}


def verify_registration(config: dict[str, Any]) -> ckpt.CheckedCheckpoint:
    """Re-hash the registered benchmark and base model: a relative path read from another folder,
    or files changed since ``init``, would otherwise be scored (and sealed) under the old hashes."""
    for key in ("benchmark", "base_model"):
        ref = str(config[key])
        if ref.startswith((".", "~")) or (Path(ref).exists() and not Path(ref).is_absolute()):
            raise ckpt.CheckpointError(
                f"leaderboard.json: field {key!r} is the relative path {ref!r}; run `leaderboard init --force`"
                " again (it now stores absolute paths)"
            )
    current = scoring.benchmark_hash(str(config["benchmark"]))
    if current != config["benchmark_sha256"]:
        raise ckpt.CheckpointError(
            f"benchmark {config['benchmark']} changed since `leaderboard init` (sha256 {current[:12]}, registered"
            f" {str(config['benchmark_sha256'])[:12]}): results would not be comparable; register it in a new store"
        )
    robustness = config.get("robustness")
    if robustness and (not Path(robustness["people"]).is_file() or _file_sha256(robustness["people"]) != robustness["people_sha256"]):
        raise ckpt.CheckpointError(f"people table {robustness['people']} is missing or changed since `leaderboard init`:"
                                   " register it in a new store")
    base = ckpt.fetch(str(config["base_model"]), max_bytes=config["max_checkpoint_bytes"])
    if base.sha256 != config["base_model_sha256"]:
        raise ckpt.CheckpointError(
            f"base model {config['base_model']} changed since `leaderboard init` (sha256 {base.sha256[:12]},"
            f" registered {str(config['base_model_sha256'])[:12]}): register it in a new store"
        )
    return base


def check_declared_base(submission: Submission, config: dict[str, Any]) -> None:
    """The submission must name the registered base model: a local folder with the same content
    hash, or (for a Hub-registered base) the same id. A path is never accepted by its spelling: a
    relative path means another model when read from another folder."""
    declared, registered = submission.base_model, str(config["base_model"])
    folder = Path(declared).expanduser()
    if folder.is_dir():
        try:
            if ckpt.content_hash(folder) == config["base_model_sha256"]:
                return
        except OSError:
            pass
    elif declared == registered and not Path(registered).is_absolute():
        return  # the same Hub id (its content was verified by verify_registration)
    raise ckpt.CheckpointError(
        f"submission declares base model {declared!r}, but this leaderboard's benchmark was built on"
        f" {registered!r} (sha256 {config['base_model_sha256'][:12]}): unlearning results of another model"
        " are not comparable"
    )


def check_targets(submission: Submission, config: dict[str, Any]) -> None:
    """Every run's target is a forget split of the registered benchmark."""
    from freq_unlearn.core.schema import FORGET_SPLITS

    known = [sp for sp in (config.get("benchmark_splits") or FORGET_SPLITS) if sp.startswith("forget_")]
    for ref in submission.checkpoints:
        if ref.target not in known:
            raise SubmissionError(
                f"{ref.path}: target {ref.target!r} is not a forget split of benchmark {config['benchmark']}"
                f" (its forget splits: {', '.join(known)})"
            )


def base_records(store: Store, config: dict[str, Any], base: ckpt.CheckedCheckpoint, device: str,
                 batch_size: int) -> Any:
    """The base model's per-item records, evaluated once per (model, benchmark, tasks, limit); the key
    holds the hashes ``verify_registration`` has just recomputed, so a rebuilt benchmark misses it."""
    import pandas as pd

    from freq_unlearn.tasks.evaluation import write_records

    key = scoring.base_cache_key(config["base_model_sha256"], config["benchmark_sha256"], config["tasks"], config["limit"])
    path = store.cache_dir / "base" / f"{key}.parquet"
    if path.is_file():
        return pd.read_parquet(path)
    clean = ckpt.sanitized_copy(base, store.cache_dir / "checkpoints")
    records = scoring.evaluate_model(clean, config, device, batch_size)
    write_records(records, path)
    return records


Checked = dict[tuple[str, int], tuple[ckpt.CheckedCheckpoint, Path]]


def check_checkpoints(store: Store, submission: Submission, config: dict[str, Any],
                      base: ckpt.CheckedCheckpoint) -> Checked:
    """Fetch, check and copy every run's checkpoint ((target, seed) -> (checked, sanitized copy)): all of
    it before a request is written, so a refused checkpoint leaves the store as it was."""
    # stores registered before the tensor check have no tensor list: take it from the verified base
    fingerprint = {"tensors": ckpt.tensor_specs(base.folder), **config["base_fingerprint"]}
    copies = store.cache_dir / "checkpoints"
    ckpt.remove_abandoned_copies(copies)
    checked: Checked = {}
    for ref in submission.checkpoints:
        one = ckpt.fetch(ref.path, ref.revision, max_bytes=config["max_checkpoint_bytes"])
        ckpt.check_same_base(one, fingerprint, config["base_model"])
        checked[ref.run] = (one, ckpt.sanitized_copy(one, copies))
    return checked


def run_evaluations(checked: Checked) -> dict[tuple[str, int], list[dict[str, Any]] | None]:
    """Per run, the per-step evaluations its ``run_record.json`` reports (the forgetting curves), or
    None when the checkpoint has no run record of this run (a metadata submission may point at
    folders without one, or at a record of another target or seed). Read before the request is
    written: a malformed list is refused like any other bad input. The leaderboard keeps them as
    reported; it verifies final checkpoints only."""
    return {(target.removeprefix("forget_"), seed): run_record_evaluations(Path(one.folder), target, seed)
            for (target, seed), (one, _) in sorted(checked.items())}


def with_evaluations(runs: list[dict[str, Any]], evaluations: dict[tuple[str, int], list[dict[str, Any]] | None]) -> list[dict[str, Any]]:
    """The protocol's ``runs`` entries (target, seed) with each run's reported ``evaluations``."""
    return [{**r, "evaluations": evaluations.get((r["target"], r["seed"]))} for r in runs]


def evaluate_runs(store: Store, config: dict[str, Any], base: ckpt.CheckedCheckpoint, checked: Checked, device: str,
                  batch_size: int, n_boot: int, progress: Callable[[str], None]) -> dict[str, Any]:
    progress(f"evaluating the base model (cached after the first submission) on {len(config['tasks'])} tasks")
    before = base_records(store, config, base, device, batch_size)
    after = {}
    for (target, seed), (one, clean) in sorted(checked.items()):
        progress(f"evaluating the run on {target}, seed {seed}: {one.folder}")
        if one.is_adapter:
            model_dir, peft = ckpt.sanitized_copy(base, store.cache_dir / "checkpoints"), str(clean)
        else:
            model_dir, peft = clean, None
        after[(target.removeprefix("forget_"), seed)] = scoring.evaluate_model(model_dir, config, device, batch_size, peft=peft)
    scored = protocol.score_submission(before, after, n_resamples=max(n_boot, 10))
    if config.get("robustness"):
        scored["metrics"].update(robustness_of_runs(store, config, base, checked, before, after, max(n_boot, 10), progress))
    return scored


def robustness_of_runs(store: Store, config: dict[str, Any], base: ckpt.CheckedCheckpoint, checked: Checked,
                       before: Any, after: dict[tuple[str, int], Any], n_boot: int,
                       progress: Callable[[str], None]) -> dict[str, Any]:
    """Relearning recovery and MIA AUC per targeted stratum, on each stratum's first seed (full checkpoints;
    an adapter run gets no robustness columns)."""
    import tempfile

    import pandas as pd

    from freq_unlearn.robustness.mia import mia_aucs, mia_scores, people_table
    from freq_unlearn.robustness.relearn import RelearnConfig, load_model, relearn

    settings = config["robustness"]
    people = people_table(settings["people"])
    base_copy = ckpt.sanitized_copy(base, store.cache_dir / "checkpoints")  # re-hashed once, not per stratum
    relearning, scores = {}, []
    firsts = {}
    for (target, seed) in sorted(checked):
        firsts.setdefault(target, seed)
    for target, seed in sorted(firsts.items()):
        one, clean = checked[(target, seed)]
        if one.is_adapter:
            progress(f"robustness: {target} seed {seed} is an adapter: no relearning or membership inference")
            continue
        stratum = target.removeprefix("forget_")
        progress(f"robustness: relearning attack and membership inference on {target}, seed {seed}")
        relearn_config = RelearnConfig(steps=tuple(settings["relearn_steps"]), probes=("qa",), seed=seed, n_resamples=n_boot,
                                       limit=config["limit"])
        with tempfile.TemporaryDirectory(prefix="relearn-", dir=store.cache_dir) as scratch:
            relearning[stratum] = relearn(clean, base_copy,
                                          config["benchmark"], stratum, Path(scratch) / "out", relearn_config,
                                          ceiling=before, floor=after[(stratum, seed)], progress=False)
        scores.append(mia_scores(*load_model(clean), people).assign(model=stratum))
    if not relearning:
        return {}
    return protocol.robustness_metrics(relearning, mia_aucs(pd.concat(scores, ignore_index=True), n_resamples=n_boot))


def submit(store: Store, submission: Submission, device: str = "cpu", batch_size: int = 16, n_boot: int = 1000,
           progress: Callable[[str], None] = print) -> tuple[str, dict[str, Any]]:
    config = store.config()
    base = verify_registration(config)
    check_declared_base(submission, config)
    check_targets(submission, config)
    checked = check_checkpoints(store, submission, config, base)
    curves = run_evaluations(checked)
    sid = submission_id(submission.identity({run: c.sha256 for run, (c, _) in checked.items()}))
    # The run lock is held through evaluation: a request left PENDING/RUNNING by a process that
    # died is recognised as stale (its lock is free) and registered again.
    with store.running(sid):
        store.add_request(sid, submission.method, submission.to_json(), holding_run_lock=True)  # refuses duplicates
        try:
            store.set_status(sid, "RUNNING")
            scored = evaluate_runs(store, config, base, checked, device, batch_size, n_boot, progress)
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
            "seeds": submission.seeds,
            "checkpoints": {f"{target}/{seed}": c.sha256 for (target, seed), (c, _) in sorted(checked.items())},
            **scored,
            "runs": with_evaluations(scored["runs"], curves),
        }
        store.put_result(result)
    return sid, result
