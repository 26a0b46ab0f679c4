"""The infini-gram API client, against a real local HTTP endpoint serving a real local index."""

from __future__ import annotations

import socket

import pandas as pd
import pytest
from fi_api_server import LocalInfiniGramAPI

from freq_unlearn.core.errors import UserError
from freq_unlearn.frequency_index import ApiOptions, LocalIndexOptions, MatchOptions, count_facts, read_provenance
from freq_unlearn.frequency_index.infinigram_api import InfiniGramAPI, count_with_api

KEYS = ["count", "subject_count", "object_count"]


@pytest.fixture(scope="module")
def world_index(small_world, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fi_api")
    facts = pd.read_parquet(small_world / "facts.parquet").iloc[:90]  # 15 people keep the test quick
    facts.to_parquet(tmp / "facts.parquet")
    local = count_facts([str(small_world / "corpus")], facts, tmp / "local.parquet",
                        backend="infini-gram", options=LocalIndexOptions(index_dir=tmp / "index", mode="cnf"),
                        match=MatchOptions(casing="paper"), progress=False)
    return tmp / "index", local, tmp / "facts.parquet"


def test_api_counts_equal_the_local_engine_with_retries(world_index, tmp_path):
    index_dir, local, facts = world_index
    with LocalInfiniGramAPI(index_dir, fail_first=2) as api:
        counts = count_facts([], facts, tmp_path / "api.parquet", backend="infini-gram-api",
                             options=ApiOptions(url=api.url, index="v4_local_u8", backoff_s=0.05),
                             match=MatchOptions(casing="paper"), progress=False)
        served = api.requests
    pd.testing.assert_frame_equal(counts[["fact_id"] + KEYS], local[["fact_id"] + KEYS])
    assert (counts["count"] > 0).any() and (counts["subject_count"] > 0).all()
    prov = read_provenance(tmp_path / "api.parquet")
    assert prov["backend"] == "infini-gram-api" and prov["mode"] == "cnf" and prov["api_url"] == api.url
    assert prov["api_requests"] == served  # two 503s were retried; repeated queries come from the cache


def test_api_errors_are_one_line(world_index, tmp_path):
    index_dir, _, _ = world_index
    with LocalInfiniGramAPI(index_dir) as api:
        with pytest.raises(UserError, match="Invalid index: v4_nope"):
            InfiniGramAPI(api.url, "v4_nope", retries=1).count("a AND b")
    with socket.socket() as s:  # a port with nobody listening: the offline case
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/"
    facts = pd.DataFrame([{"fact_id": "f", "subject": "A b", "object": "C d"}])
    with pytest.raises(UserError, match=r"unreachable after 5 tries \(ConnectionError\); offline\?") as err:
        count_with_api(facts, MatchOptions(), ApiOptions(url=closed, index="v4_local_u8", backoff_s=0.01),
                       progress=False)
    assert "\n" not in str(err.value)
    with pytest.raises(UserError, match="takes ApiOptions, got LocalIndexOptions"):
        count_facts([], facts, tmp_path / "x.parquet", backend="infini-gram-api",
                    options=LocalIndexOptions(index_dir=tmp_path), progress=False)
