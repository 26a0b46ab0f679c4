"""Fixtures for the frequency_index tests: small synthetic worlds and hand-made corpora."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from fi_helpers import write_jsonl_gz  # noqa: F401  (re-exported for tests)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> Path:
    """A tiered world (counts 1, 3, 10; retain 2) made by the project's own generator."""
    from freq_unlearn.world import WorldConfig, generate_world

    out = tmp_path_factory.mktemp("fi_world") / "world"
    generate_world(out, WorldConfig(people_per_tier=8, n_retain=8, n_utility=4, docs_per_shard=40, seed=3))
    return out


@pytest.fixture(scope="session")
def graded_world(tmp_path_factory) -> Path:
    from freq_unlearn.world import WorldConfig, generate_world

    out = tmp_path_factory.mktemp("fi_graded") / "world"
    generate_world(
        out, WorldConfig(design="graded", people_per_tier=3, graded_max=16, n_retain=4, n_utility=3,
                         docs_per_shard=30, seed=5)
    )
    return out


@pytest.fixture(scope="session")
def paper_world(tmp_path_factory) -> Path:
    from freq_unlearn.world import WorldConfig, generate_world

    out = tmp_path_factory.mktemp("fi_paper") / "world"
    generate_world(out, WorldConfig(design="paper", people_per_tier=6, n_retain=4, n_utility=3, docs_per_shard=40, seed=1))
    return out
