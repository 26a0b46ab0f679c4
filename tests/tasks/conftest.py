"""Fixtures for the tasks tests: tiny benchmarks and a tiny model that knows chosen facts.

Everything is built here (seconds on CPU), so these tests do not wait for the shared world.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks_tiny_data import sanity_facts, write_benchmark, write_sanity_benchmark
from tasks_tiny_model import train_tiny_model

from freq_unlearn.tasks import DEFAULT_TASKS_DIR


@pytest.fixture(scope="session")
def tiny_bench(tmp_path_factory) -> Path:
    """Every split, three rows each, same-relation distractors."""
    return write_benchmark(tmp_path_factory.mktemp("tasks_bench") / "bench")


@pytest.fixture(scope="session")
def sanity_bench(tmp_path_factory) -> Path:
    """forget_high/retain: facts the tiny model was trained on; forget_low: answers it never saw."""
    return write_sanity_benchmark(tmp_path_factory.mktemp("tasks_sanity") / "bench")


@pytest.fixture(scope="session")
def knowing_model(tmp_path_factory) -> Path:
    known, vocabulary = sanity_facts()
    return train_tiny_model(tmp_path_factory.mktemp("tasks_model") / "model", known, vocabulary)


@pytest.fixture(scope="session")
def task_manager_factory():
    """A TaskManager over our YAMLs only (indexes in milliseconds instead of seconds)."""
    from lm_eval.tasks import TaskManager

    def make(benchmark: Path | str, **metadata):
        return TaskManager(include_path=str(DEFAULT_TASKS_DIR), include_defaults=False,
                           metadata={"benchmark": str(benchmark), **metadata})

    return make
