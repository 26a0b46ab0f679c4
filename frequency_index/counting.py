"""``count_facts``: facts + corpus -> counts Parquet (COUNT_COLUMNS) with provenance.

The provenance is JSON in the Parquet schema metadata under the key ``freq_unlearn``; read it
back with ``read_provenance(path)``. Nothing is written under the final name until the counts
are complete (temp name in the same folder, then ``os.replace``).
"""

from __future__ import annotations

from freq_unlearn.core.errors import UserError

import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from .corpus import CorpusError, CorpusFiles, corpus_readers, resolve_corpus
from .facts import FactsReport, load_facts
from .matching import CASINGS, TermIndex, build_term_index
from .scan import FactCounter, merge_partials, read_rejects, save_terms

BACKENDS = ("scan", "infini-gram", "infini-gram-api")
EXECUTORS = ("local", "ray", "slurm")
PROVENANCE_KEY = b"freq_unlearn"
COUNT_COLUMN_ORDER = (
    "fact_id",
    "subject",
    "object",
    "count",
    "subject_count",
    "object_count",
    "window_count",
    "approximate",
)


class CountingError(UserError):
    """A counting run that cannot finish; one line naming what failed."""


class OptionError(UserError, ValueError):
    """Options that do not fit together."""


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("freq-unlearn", "datatrove", "ahocorasick-rs", "infini-gram"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_counts(df: pd.DataFrame, provenance: dict[str, Any], out: Path) -> None:
    """Write the counts Parquet atomically, provenance in the schema metadata, rows by fact_id."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = df.sort_values("fact_id", kind="stable").reset_index(drop=True)
    columns = list(COUNT_COLUMN_ORDER) + [c for c in df.columns if c not in COUNT_COLUMN_ORDER]
    df = df[columns]
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), PROVENANCE_KEY: json.dumps(provenance, sort_keys=True).encode()}
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def read_provenance(path: str | Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata.get(PROVENANCE_KEY, b"{}"))


def _counts_frame(facts: pd.DataFrame, count, subj, obj, window=None, approximate=False) -> pd.DataFrame:
    n = len(facts)
    return pd.DataFrame(
        {
            "fact_id": facts["fact_id"].to_numpy(),
            "subject": facts["subject"].to_numpy(),
            "object": facts["object"].to_numpy(),
            "count": pd.array(count, dtype="int64"),
            "subject_count": pd.array(subj, dtype="int64"),
            "object_count": pd.array(obj, dtype="int64"),
            "window_count": pd.array(window if window is not None else [None] * n, dtype="Int64"),
            "approximate": pd.array(
                approximate if isinstance(approximate, list) else [bool(approximate)] * n, dtype="bool"
            ),
        }
    )


def _work_folder(out: Path, key_parts: list) -> Path:
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return out.parent / f".{out.name}.work-{key}"


class ScanFinalizer:
    """Merge the partial counts and write the counts file (run in-process or as a datatrove step)."""

    def __init__(self, facts: pd.DataFrame, index: TermIndex, work: str, tasks: int, out: str, provenance: dict):
        self.facts = facts
        self.index = index
        self.work = work
        self.tasks = tasks
        self.out = out
        self.provenance = provenance

    def __call__(self, data=None, rank: int = 0, world_size: int = 1) -> None:
        """As the last datatrove step of the merge job (Slurm)."""
        self.merge()

    def merge(self) -> pd.DataFrame:
        total = merge_partials(self.work, self.tasks, self.index.fingerprint())
        count, subj, obj = self.index.fact_totals(total["entity_counts"], total["pair_counts"])
        window = None
        if self.provenance["window"] is not None:
            window = [int(sum(total["window_counts"][p] for p in ids)) for ids in self.index.fact_pairs]
        rejected, examples = read_rejects(self.work)
        provenance = {
            **self.provenance,
            "documents": int(total["documents"]),
            "characters": int(total["characters"]),
            "skipped_lines": rejected,
            "skipped_line_examples": examples,
        }
        df = _counts_frame(self.facts, count, subj, obj, window)
        write_counts(df, provenance, Path(self.out))
        df.attrs[PROVENANCE_KEY.decode()] = provenance
        return df


def count_facts(
    corpus: list[str] | str,
    facts: str | Path | pd.DataFrame,
    out: str | Path,
    backend: str = "scan",
    executor: str = "local",
    workers: int = 1,
    tasks: int | None = None,
    casing: str = "sensitive",
    window: int | None = None,
    word_boundaries: bool = True,
    aliases: bool = True,
    strict: bool = False,
    work_dir: str | Path | None = None,
    keep_work: bool = False,
    index_dir: str | Path | None = None,
    tokenizer: str | None = None,
    mode: str | None = None,
    api_url: str | None = None,
    api_index: str | None = None,
    api_backoff_s: float = 1.0,
    slurm: dict | None = None,
    progress: bool = True,
) -> pd.DataFrame | None:
    """Count every fact in the corpus and write ``out`` (Parquet, COUNT_COLUMNS + provenance).

    Args:
        corpus: corpus paths (files, folders, globs; fsspec URLs such as ``hf://``). Not needed
            for ``infini-gram`` with an existing ``index_dir`` or for ``infini-gram-api``.
        facts: a facts file (Parquet/JSONL) or a DataFrame with at least subject and object.
        backend: ``scan`` (datatrove + Aho-Corasick, exact), ``infini-gram`` (local suffix-array
            index, see ``infinigram_local.py``) or ``infini-gram-api`` (the public API).
        executor: ``local``, ``ray`` (needs ``ray``; starts a local instance when none is
            running) or ``slurm`` (submits jobs and returns None; the merge job writes ``out``).
        workers / tasks: parallel processes / datatrove tasks (default: one task per file).
        casing, window, word_boundaries, aliases: see ``matching.py`` for their meanings.
        strict: fail on the first bad corpus line or bad fact instead of skipping and counting it.
        mode: ``docs`` (exact document co-occurrence; scan and local infini-gram, the default
            there) or ``cnf`` (infini-gram's count of "A AND B", what the paper used; the only
            mode of the API backend). See README.
    Returns:
        the counts table, also written to ``out`` (None for slurm, which runs asynchronously).
    """
    if backend not in BACKENDS:
        raise OptionError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if executor not in EXECUTORS:
        raise OptionError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if casing not in CASINGS:
        raise OptionError(f"unknown casing {casing!r}; choose one of {', '.join(CASINGS)}")
    if window is not None and window < 0:
        raise OptionError(f"window must be >= 0 words, got {window}")
    mode = mode or ("cnf" if backend == "infini-gram-api" else "docs")
    if mode not in ("docs", "cnf") or (backend == "scan" and mode != "docs"):
        raise OptionError(f"mode {mode!r} does not fit backend {backend!r} (scan: docs; infini-gram: docs or cnf)")
    if backend == "infini-gram-api" and mode != "cnf":
        raise OptionError("the infini-gram API cannot count document co-occurrence: use --mode cnf")
    if window is not None and backend != "scan":
        raise OptionError("--window is supported by the scan backend only")
    out = Path(out)
    facts_report = FactsReport()
    facts_df = load_facts(facts, strict=strict, report=facts_report)
    corpus_list = [corpus] if isinstance(corpus, (str, Path)) else list(corpus or [])
    corpus_list = [str(c) for c in corpus_list]
    provenance: dict[str, Any] = {
        "backend": backend,
        "mode": mode,
        "corpus": corpus_list,
        "casing": casing,
        "window": window,
        "window_unit": "words" if window is not None else None,
        "word_boundaries": word_boundaries,
        "aliases": aliases,
        "strict": strict,
        "facts": len(facts_df),
        "library_versions": library_versions(),
        **facts_report.to_json(),
    }

    if backend == "infini-gram":
        from .infinigram_local import count_with_local_index

        df, extra = count_with_local_index(
            facts_df,
            corpus_list,
            index_dir=index_dir,
            casing=casing,
            aliases=aliases,
            word_boundaries=word_boundaries,
            tokenizer=tokenizer,
            mode=mode,
            strict=strict,
            progress=progress,
        )
        write_counts(df, {**provenance, **extra}, out)
        df.attrs[PROVENANCE_KEY.decode()] = {**provenance, **extra}
        return df
    if backend == "infini-gram-api":
        from .infinigram_api import DEFAULT_API_INDEX, DEFAULT_API_URL, count_with_api

        df, extra = count_with_api(
            facts_df,
            api_url=api_url or DEFAULT_API_URL,
            api_index=api_index or DEFAULT_API_INDEX,
            casing=casing,
            aliases=aliases,
            progress=progress,
            backoff_s=api_backoff_s,
        )
        write_counts(df, {**provenance, **extra}, out)
        df.attrs[PROVENANCE_KEY.decode()] = {**provenance, **extra}
        return df

    files = resolve_corpus(corpus_list)
    index = build_term_index(facts_df, casing=casing, aliases=aliases, word_boundaries=word_boundaries)
    tasks = tasks or files.n_files
    provenance.update(
        {
            "executor": executor,
            "tasks": tasks,
            "corpus_files": files.n_files,
            "corpus_bytes": files.total_bytes,
            "approximate": False,
            "patterns": len(index.forms),
        }
    )
    work = Path(work_dir) if work_dir else _work_folder(
        out, [index.fingerprint(), files.root, files.jsonl, files.parquet, tasks, strict, window]
    )
    work.mkdir(parents=True, exist_ok=True)
    pipeline = corpus_readers(
        files, str(work / "paths"), strict=strict, rejects_folder=str(work / "rejects"), progress=progress
    )
    save_terms(index, str(work))
    pipeline.append(FactCounter(str(work), index.fingerprint(), window=window))
    finalizer = ScanFinalizer(facts_df, index, str(work), tasks, str(out), provenance)

    if executor == "slurm":
        _submit_slurm(pipeline, finalizer, tasks, work, slurm or {})
        return None
    try:
        with _datatrove_logs(progress):
            _run_pipeline(pipeline, executor, tasks, workers, work)
    except Exception as err:  # a task failed: report the first bad line it named, else the error
        raise CountingError(_first_task_error(work, err)) from err
    df = finalizer.merge()
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return df


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
    if isinstance(err, CorpusError):
        return str(err)
    errors = sorted((work / "rejects").glob("error-*.txt")) if (work / "rejects").is_dir() else []
    if errors:
        return errors[0].read_text().strip()
    message = str(err).strip().splitlines()
    return f"counting failed: {type(err).__name__}: {message[-1] if message else ''} (logs: {work / 'logs'})"


def _run_pipeline(pipeline: list, executor: str, tasks: int, workers: int, work: Path) -> None:
    if executor == "local":
        from datatrove.executor import LocalPipelineExecutor

        # fork: forkserver/spawn re-import __main__, which fails for stdin or notebook callers
        start_method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        LocalPipelineExecutor(
            pipeline, tasks=tasks, workers=min(workers, tasks), logging_dir=str(work / "logs"),
            start_method=start_method,
        ).run()
        incomplete = LocalPipelineExecutor(pipeline, tasks=tasks, logging_dir=str(work / "logs")).get_incomplete_ranks()
        if incomplete:
            raise CountingError(f"{len(incomplete)} of {tasks} counting tasks failed (logs: {work / 'logs'})")
        return
    if executor == "ray":
        import ray
        from datatrove.executor.ray import RayPipelineExecutor

        started_here = not ray.is_initialized()
        if started_here:
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
        try:
            ray_executor = RayPipelineExecutor(
                pipeline, tasks=tasks, workers=workers, logging_dir=str(work / "logs"), mem_per_cpu_gb=1
            )
            ray_executor.run()
            if ray_executor.get_incomplete_ranks():
                raise CountingError(f"some Ray counting tasks failed (logs: {work / 'logs'})")
        finally:
            if started_here:
                ray.shutdown()
        return
    raise OptionError(executor)


def _submit_slurm(pipeline: list, finalizer: ScanFinalizer, tasks: int, work: Path, options: dict) -> None:
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
        pipeline, tasks=tasks, job_name="freq_unlearn_count", logging_dir=str(work / "logs"), **common
    )
    merge_job = SlurmPipelineExecutor(
        [finalizer], tasks=1, job_name="freq_unlearn_merge", logging_dir=str(work / "merge_logs"),
        depends=count_job, **common,
    )
    merge_job.run()
