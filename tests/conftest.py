"""Shared test set-up: offline by default, and session-wide tiny artefacts built once.

The tiny world / model / benchmark are built on first use and cached under
``.pytest_cache/freq_unlearn`` (keyed by the code that makes them), guarded by a file lock
so that pytest-xdist workers build each only once.
"""

from __future__ import annotations

import os
import sys

# Set before anything imports huggingface_hub: its constants are read once at import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Console scripts of the environment under test (freq-unlearn, lm_eval, datatrove's launchers)
# sit beside its interpreter; the suite may run as `.venv/bin/python -m pytest` without activation.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

import hashlib
from pathlib import Path
from typing import Callable

import pytest
from filelock import FileLock

from local_hub import local_hub_fixture  # noqa: E402  (tests/ is on sys.path: no __init__.py)
from tiny_settings import TINY_PRETRAIN, TINY_WORLD  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".pytest_cache" / "freq_unlearn"



def _code_key(*parts: str) -> str:
    """Cache key: the source of the modules that make an artefact, plus its parameters."""
    h = hashlib.sha256()
    for p in parts:
        path = ROOT / p
        h.update(path.read_bytes() if path.is_file() else p.encode())
    return h.hexdigest()[:16]


def _cached(name: str, key: str, build: Callable[[Path], None]) -> Path:
    """Build `name` once per code version, shared by pytest-xdist workers through a file lock."""
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / f"{name}-{key}"
    with FileLock(str(out) + ".lock"):
        if not (out / ".complete").exists():
            import shutil

            shutil.rmtree(out, ignore_errors=True)
            build(out)
            (out / ".complete").write_text("ok")
    return out


@pytest.fixture(scope="session")
def tiny_world() -> Path:
    from freq_unlearn.world import WorldConfig, generate_world

    key = _code_key("freq_unlearn/world.py", "freq_unlearn/world_text.py", repr(TINY_WORLD))
    return _cached("world", key, lambda out: generate_world(out / "world", WorldConfig(**TINY_WORLD))) / "world"


@pytest.fixture(scope="session")
def tiny_model(tiny_world: Path) -> Path:
    """A tiny GPT-2 pre-trained on tiny_world (knows its retain QA; see test_pretrain)."""
    from freq_unlearn.pretrain import PretrainConfig, pretrain

    key = _code_key("freq_unlearn/pretrain.py", "freq_unlearn/tokenizer.py", "freq_unlearn/knowledge.py",
                    "freq_unlearn/knowledge_report.py", str(tiny_world / "world.json"), repr(TINY_PRETRAIN))
    return _cached("model", key, lambda out: pretrain(tiny_world, out / "model", PretrainConfig(**TINY_PRETRAIN))) / "model"


@pytest.fixture(scope="session")
def tiny_benchmark(tiny_world: Path, tmp_path_factory) -> Path:
    """The stratified benchmark of tiny_world, counted with the `scan` backend."""
    from freq_unlearn.frequency_index import build_benchmark, count_facts
    from freq_unlearn.world import load_world

    def build(out: Path) -> None:
        world = load_world(tiny_world)
        counts = count_facts([str(p) for p in world.corpus_files], world.facts_path, out / "counts.parquet")
        build_benchmark(world.facts_path, counts, out / "benchmark")

    key = _code_key(str(tiny_world / "world.json"), *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "frequency_index").rglob("*.py")))
    return _cached("benchmark", key, build) / "benchmark"


@pytest.fixture(scope="session")
def local_hub(tmp_path_factory):
    """A real local Hub HTTP server (tests/local_hub.py); run Hub clients with its .env()."""
    yield from local_hub_fixture(tmp_path_factory)
