"""freq_unlearn.frequency_index: count every fact in a pre-training corpus, build the benchmark.

    from freq_unlearn.frequency_index import count_facts, build_benchmark, ScanOptions, MatchOptions

Imports are lazy so that ``freq-unlearn --help`` does not load datatrove or datasets.
"""

from __future__ import annotations

__all__ = ["count_facts", "read_provenance", "build_benchmark", "push_benchmark", "MatchOptions", "ScanOptions",
           "LocalIndexOptions", "ApiOptions"]

_HOMES = {
    "count_facts": "counting",
    "read_provenance": "counts_table",
    "build_benchmark": "benchmark",
    "push_benchmark": "benchmark",
    "MatchOptions": "options",
    "ScanOptions": "scan",
    "LocalIndexOptions": "infinigram_local",
    "ApiOptions": "infinigram_api",
}


def __getattr__(name: str):
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(name)
