"""The `scan` backend: a datatrove pipeline (reader -> ``FactCounter``) per shard, then ``MergeCounts``.

Exact document counts over the whole corpus; the executor (local, Ray, Slurm) is picked here, at
the edge. **Resume**: each shard writes ``partials/RANK.npz`` and then datatrove's completion
marker; a rerun with the same facts, options and file list uses the same work folder and skips
completed shards, except those whose input files changed since (size, modification time, and for
local files a hash of their first and last 64 KiB: ``corpus.file_signature``): their marker and
partial are removed, so datatrove redoes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from datatrove.io import get_datafolder

from .corpus import CorpusError, CorpusFiles, corpus_readers, file_signature, resolve_corpus
from .counts_table import CountingError
from .matching import TermIndex, build_term_index, compiled_counter_built
from .options import MatchOptions, OptionError, check_choice
from .scan_steps import FactCounter, MergeCounts, partial_name, preload_matcher, read_partial_keys, save_work_inputs

EXECUTORS = ("local", "ray", "slurm")
RAY_EXTRA = "freq-unlearn[ray]"


@dataclass(frozen=True)
class ScanOptions:
    """Options of the `scan` backend.

    Attributes:
        executor: ``local`` (default), ``ray`` (needs the ``ray`` extra; starts a local instance when
            none is running) or ``slurm`` (submits jobs; the merge job writes the output).
        workers: parallel processes (default 1).
        shards: datatrove tasks, each reading a share of the corpus files (default: one per file).
        window: also count documents where subject and object start at most N words apart.
        work_dir: scratch folder (default ``.OUT.work-HASH`` next to the output).
        keep_work: keep the scratch folder after success.
        slurm: SlurmPipelineExecutor options (partition, time, cpus_per_task, mem_per_cpu_gb, ...).
    """

    executor: str = "local"
    workers: int = 1
    shards: int | None = None
    window: int | None = None
    work_dir: str | Path | None = None
    keep_work: bool = False
    slurm: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice("executor", self.executor, EXECUTORS)
        if self.workers < 1:
            raise OptionError(f"workers must be >= 1, got {self.workers}")
        if self.shards is not None and self.shards < 1:
            raise OptionError(f"shards must be >= 1, got {self.shards}")
        if self.window is not None and self.window < 0:
            raise OptionError(f"window must be >= 0 words, got {self.window}")


def shard_keys(files: CorpusFiles, shards: int) -> list[str]:
    """Per shard, a content key of the files it reads (see the module docstring)."""
    signatures = {rel: file_signature(files.root, rel) for rel in files.jsonl + files.parquet}
    return [hashlib.sha256(json.dumps([[rel, signatures[rel]] for rel in files.shard_files(rank, shards)])
                           .encode()).hexdigest()[:16] for rank in range(shards)]


def drop_stale_shards(work: Path, fingerprint: str, keys: list[str]) -> list[int]:
    """Forget the shards whose partial counts are missing or were made from other inputs."""
    folder = get_datafolder(str(work))
    stale = []
    for rank, key in enumerate(keys):
        marker = work / "logs" / "completions" / f"{rank:05d}"
        found = read_partial_keys(str(work), rank)
        if found == (fingerprint, key) or (found is None and not marker.exists()):
            continue
        stale.append(rank)
        marker.unlink(missing_ok=True)
        if found is not None:
            folder.rm(partial_name(rank))
    return stale


def _work_folder(out: Path, key_parts: list) -> Path:
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return out.parent / f".{out.name}.work-{key}"


def count_with_scan(
    facts: pd.DataFrame, corpus: list[str], out: Path, match: MatchOptions, options: ScanOptions,
    provenance: dict[str, Any], strict: bool, progress: bool,
) -> pd.DataFrame | None:
    """Count, write ``out`` and return the table (None for Slurm, whose merge job writes ``out``)."""
    if options.executor == "ray":
        _require_ray()
    files = resolve_corpus(corpus)
    index = build_term_index(facts, match)
    shards = options.shards or files.n_files
    provenance = {
        **provenance, "window": options.window, "window_unit": "words" if options.window is not None else None,
        "executor": options.executor, "shards": shards, "corpus_files": files.n_files,
        "corpus_bytes": files.total_bytes, "approximate": False, "patterns": len(index.forms),
        # ASCII texts counted in compiled code (same counts; not used with a window)
        "compiled_counter": compiled_counter_built() and options.window is None,
    }
    work = Path(options.work_dir) if options.work_dir else _work_folder(
        out, [index.fingerprint(), files.root, files.jsonl, files.parquet, shards, strict, options.window]
    )
    pipeline, merger = _prepare_work(work, files, facts, index, shards, options, strict, progress, out, provenance)
    if options.executor == "slurm":
        _submit_slurm(pipeline, merger, shards, work, options.slurm)
        return None
    if options.executor == "local":
        preload_matcher(index)
    try:
        with _datatrove_logs(progress):
            _run_pipeline(pipeline, options.executor, shards, options.workers, work)
    except Exception as err:  # a shard failed: report the first bad line it named, else the error
        raise CountingError(_first_task_error(work, err)) from err
    df = merger.merge(index)
    if not options.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return df


def _prepare_work(work: Path, files: CorpusFiles, facts: pd.DataFrame, index: TermIndex, shards: int,
                  options: ScanOptions, strict: bool, progress: bool, out: Path, provenance: dict):
    work.mkdir(parents=True, exist_ok=True)
    for old_error in (work / "rejects").glob("error-*.txt"):
        old_error.unlink()
    keys = shard_keys(files, shards)
    drop_stale_shards(work, index.fingerprint(), keys)
    save_work_inputs(str(work), index, facts, keys)
    pipeline = corpus_readers(
        files, str(work / "paths"), strict=strict, rejects_folder=str(work / "rejects"), progress=progress
    )
    pipeline.append(FactCounter(str(work), index.fingerprint(), window=options.window))
    return pipeline, MergeCounts(str(work), index.fingerprint(), str(out), provenance)


@contextlib.contextmanager
def _datatrove_logs(enabled: bool):
    """Without progress output, silence datatrove's console log (its per-task log files too)."""
    from loguru import logger

    if enabled:
        yield
        return
    logger.disable("datatrove")
    try:
        yield
    finally:
        logger.enable("datatrove")


def _first_task_error(work: Path, err: Exception) -> str:
    if isinstance(err, (CorpusError, OptionError)):
        return str(err)
    errors = sorted((work / "rejects").glob("error-*.txt")) if (work / "rejects").is_dir() else []
    if errors:
        return errors[0].read_text().strip()
    message = str(err).strip().splitlines()
    return f"counting failed: {type(err).__name__}: {message[-1] if message else ''} (logs: {work / 'logs'})"


def _run_pipeline(pipeline: list, executor: str, shards: int, workers: int, work: Path) -> None:
    if executor == "local":
        from datatrove.executor import LocalPipelineExecutor

        # fork: forkserver/spawn re-import __main__, which fails for stdin or notebook callers
        start_method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        LocalPipelineExecutor(
            pipeline, tasks=shards, workers=min(workers, shards), logging_dir=str(work / "logs"),
            start_method=start_method,
        ).run()
        incomplete = LocalPipelineExecutor(pipeline, tasks=shards, logging_dir=str(work / "logs")).get_incomplete_ranks()
        if incomplete:
            raise CountingError(f"{len(incomplete)} of {shards} counting shards failed (logs: {work / 'logs'})")
        return
    _run_on_ray(pipeline, shards, workers, work)


def _require_ray() -> None:
    """Before any work: the Ray executor needs the optional ``ray`` extra."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise OptionError(f"--executor ray needs Ray, which is not installed: pip install '{RAY_EXTRA}'") from None


def _run_on_ray(pipeline: list, shards: int, workers: int, work: Path) -> None:
    import ray
    from datatrove.executor.ray import RayPipelineExecutor

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
    try:
        ray_executor = RayPipelineExecutor(
            pipeline, tasks=shards, workers=workers, logging_dir=str(work / "logs"), mem_per_cpu_gb=1
        )
        ray_executor.run()
        if ray_executor.get_incomplete_ranks():
            raise CountingError(f"some Ray counting shards failed (logs: {work / 'logs'})")
    finally:
        if started_here:
            ray.shutdown()


def _submit_slurm(pipeline: list, merger: MergeCounts, shards: int, work: Path, options: dict) -> None:
    """Submit the counting job array and a dependent one-task merge job (see README)."""
    from datatrove.executor import SlurmPipelineExecutor

    common = {
        "partition": options.get("partition", "cpu"),
        "time": options.get("time", "04:00:00"),
        "cpus_per_task": int(options.get("cpus_per_task", 1)),
        "mem_per_cpu_gb": int(options.get("mem_per_cpu_gb", 2)),
        "venv_path": options.get("venv_path"),
        "sbatch_args": options.get("sbatch_args"),
    }
    count_job = SlurmPipelineExecutor(
        pipeline, tasks=shards, job_name="freq_unlearn_count", logging_dir=str(work / "logs"), **common
    )
    merge_job = SlurmPipelineExecutor(
        [merger], tasks=1, job_name="freq_unlearn_merge", logging_dir=str(work / "merge_logs"),
        depends=count_job, **common,
    )
    merge_job.run()
