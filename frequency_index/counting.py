"""``count_facts``: facts + corpus -> counts Parquet (COUNT_COLUMNS) with provenance.

One backend per module, each with its options dataclass:

| backend | module | options |
| --- | --- | --- |
| ``scan`` (default) | ``scan.py`` | ``ScanOptions`` |
| ``infini-gram`` | ``infinigram_local.py`` | ``LocalIndexOptions`` |
| ``infini-gram-api`` | ``infinigram_api.py`` | ``ApiOptions`` |

``MatchOptions`` (``options.py``) is what a match means, shared by all three. The counts table
and its provenance are in ``counts_table.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import pandas as pd

from .counts_table import library_versions, read_provenance, write_counts
from .facts import FactsReport, load_facts
from .infinigram_api import ApiOptions
from .infinigram_local import LocalIndexOptions
from .options import MatchOptions, OptionError, check_choice
from .scan import ScanOptions

__all__ = ["BACKENDS", "count_facts", "read_provenance", "MatchOptions", "ScanOptions", "LocalIndexOptions",
           "ApiOptions"]

BackendOptions = Union[ScanOptions, LocalIndexOptions, ApiOptions]
BACKENDS: dict[str, type] = {"scan": ScanOptions, "infini-gram": LocalIndexOptions, "infini-gram-api": ApiOptions}


def count_facts(
    corpus: list[str] | str | None,
    facts: str | Path | pd.DataFrame,
    out: str | Path,
    backend: str = "scan",
    options: BackendOptions | None = None,
    *,
    match: MatchOptions | None = None,
    strict: bool = False,
    progress: bool = True,
) -> pd.DataFrame | None:
    """Count every fact in the corpus and write ``out`` (Parquet, COUNT_COLUMNS + provenance).

    Args:
        corpus: corpus paths (files, folders, globs; fsspec URLs such as ``hf://``). Not needed
            for ``infini-gram`` with an existing index or for ``infini-gram-api``.
        facts: a facts file (Parquet/JSONL) or a DataFrame with at least subject and object.
        backend: ``scan`` (datatrove + Aho-Corasick, exact), ``infini-gram`` (local suffix-array
            index) or ``infini-gram-api`` (the public API); see the module docstring.
        options: the backend's options dataclass (default: its defaults; ``infini-gram`` needs
            ``LocalIndexOptions(index_dir=...)``).
        match: casing, aliases, word boundaries, Unicode normalisation (``MatchOptions``).
        strict: fail on the first bad corpus line or bad fact instead of skipping and counting it.
        progress: show progress bars and datatrove's log (False: silent).
    Returns:
        the counts table, also written to ``out`` (None for Slurm, which runs asynchronously).
    """
    check_choice("backend", backend, tuple(BACKENDS))
    options = options if options is not None else BACKENDS[backend]()
    if not isinstance(options, BACKENDS[backend]):
        raise OptionError(f"backend {backend!r} takes {BACKENDS[backend].__name__}, got {type(options).__name__}")
    match = match or MatchOptions()
    out = Path(out)
    facts_report = FactsReport()
    facts_df = load_facts(facts, strict=strict, report=facts_report)
    corpus_list = [corpus] if isinstance(corpus, (str, Path)) else list(corpus or [])
    corpus_list = [str(c) for c in corpus_list]
    provenance: dict[str, Any] = {
        "backend": backend,
        "mode": "docs",
        "corpus": corpus_list,
        **match.to_json(),
        "window": None,
        "strict": strict,
        "facts": len(facts_df),
        "library_versions": library_versions(),
        **facts_report.to_json(),
    }
    if isinstance(options, ScanOptions):
        from .scan import count_with_scan

        return count_with_scan(facts_df, corpus_list, out, match, options, provenance, strict, progress)
    if isinstance(options, LocalIndexOptions):
        from .infinigram_local import count_with_local_index

        df, extra = count_with_local_index(facts_df, corpus_list, match, options, strict=strict, progress=progress)
    else:
        from .infinigram_api import count_with_api

        df, extra = count_with_api(facts_df, match, options, progress=progress)
    return write_counts(df, {**provenance, **extra}, out)
