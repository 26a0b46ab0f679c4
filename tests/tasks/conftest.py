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


HERE = Path(__file__).resolve().parent
CACHE = HERE.parents[1] / ".pytest_cache" / "freq_unlearn"


@pytest.fixture(scope="session")
def knowing_model() -> Path:
    """Trained once per code version and shared by pytest-xdist workers (file lock)."""
    import hashlib

    from filelock import FileLock

    key = hashlib.sha256(b"".join((HERE / f).read_bytes() for f in ("tasks_tiny_model.py", "tasks_tiny_data.py"))).hexdigest()[:16]
    out = CACHE / f"tasks-knowing-model-{key}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if not (out / ".complete").exists():
            known, vocabulary = sanity_facts()
            train_tiny_model(out, known, vocabulary)
            (out / ".complete").write_text("ok")
    return out


@pytest.fixture(scope="session")
def task_manager_factory():
    """A TaskManager over our YAMLs only (indexes in milliseconds instead of seconds)."""
    from lm_eval.tasks import TaskManager

    def make(benchmark: Path | str, **metadata):
        return TaskManager(include_path=str(DEFAULT_TASKS_DIR), include_defaults=False,
                           metadata={"benchmark": str(benchmark), **metadata})

    return make
