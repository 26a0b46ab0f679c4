"""freq_unlearn.frequency_index: count every fact in a pre-training corpus, build the benchmark.

    from freq_unlearn.frequency_index import count_facts, build_benchmark

Imports are lazy so that ``freq-unlearn --help`` does not load datatrove or datasets.
"""

from __future__ import annotations

__all__ = ["count_facts", "read_provenance", "build_benchmark", "push_benchmark"]


def __getattr__(name: str):
    if name in ("count_facts", "read_provenance"):
        from . import counting

        return getattr(counting, name)
    if name in ("build_benchmark", "push_benchmark"):
        from . import benchmark

        return getattr(benchmark, name)
    raise AttributeError(name)
