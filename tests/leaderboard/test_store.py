from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

import pytest
from lb_helpers import fake_result

from freq_unlearn.leaderboard.store import (
    DuplicateSubmission,
    LocalStore,
    StoreError,
    TamperedResult,
)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_request_result_round_trip_and_duplicate(tmp_path):
    store = LocalStore(tmp_path)
    store.add_request("id1", "GA", {"method": "GA"})
    assert store.requests()[0]["status"] == "PENDING"
    with pytest.raises(DuplicateSubmission, match="already in the store as id1 .status PENDING"):
        store.add_request("id1", "GA", {"method": "GA"})
    store.put_result(fake_result("GA", "id1", 0.4))
    (request,) = store.requests()
    assert request["status"] == "FINISHED" and request["result_file"] == "results/GA/id1.json"
    (result,) = store.results()
    assert result["metrics"]["headline"]["value"] == 0.4
    with pytest.raises(DuplicateSubmission, match="FINISHED"):
        store.add_request("id1", "GA", {"method": "GA"})
    # a FAILED request may be submitted again
    store.add_request("id2", "NPO", {})
    store.set_status("id2", "FAILED", "boom")
    store.add_request("id2", "NPO", {})
    assert {r["submission_id"]: r["status"] for r in store.requests()} == {"id1": "FINISHED", "id2": "PENDING"}
    assert not list(tmp_path.rglob("*.tmp")), "no temporary files left behind"


def test_method_names_cannot_escape_the_store(tmp_path):
    store = LocalStore(tmp_path / "s")
    path = store.add_request("id9", "../../etc/<img src=x onerror=alert(1)>", {})
    assert path.startswith("requests/") and ".." not in path
    assert (tmp_path / "s" / path).is_file()


def test_hand_edited_result_is_reported_and_left_alone(tmp_path):
    store = LocalStore(tmp_path)
    relpath = store.put_result(fake_result("GA", "id1", 0.4))
    file = tmp_path / relpath
    data = json.loads(file.read_text())
    data["metrics"]["headline"]["value"] = 0.99
    file.write_text(json.dumps(data, indent=2))
    before = snapshot(tmp_path)
    with pytest.raises(TamperedResult) as err:
        store.results()
    assert "results/GA/id1.json: checksum mismatch" in str(err.value) and "\n" not in str(err.value)
    del data["integrity"]
    file.write_text(json.dumps(data))
    with pytest.raises(TamperedResult, match="no integrity field"):
        store.results()
    file.write_text("{ not json")
    with pytest.raises(StoreError, match="id1.json: line 1: invalid JSON"):
        store.results()
    assert snapshot(tmp_path).keys() == before.keys()


def _submit_many(root: str, worker: int, start, ids: list[str]) -> None:
    store = LocalStore(root)
    start.wait()
    for sid in ids:
        try:
            store.add_request(sid, f"m{worker}", {"worker": worker})
            store.put_result(fake_result(f"m{worker}", sid, 0.5))
        except DuplicateSubmission:
            pass


def test_two_processes_submitting_at_once_lose_nothing(tmp_path):
    """Each process submits 10 own ids and the same 30 shared ids; the lock lets exactly one
    win each shared id, and every own id is stored."""
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(2)
    shared = [f"shared{i}" for i in range(30)]
    procs = [
        ctx.Process(target=_submit_many, args=(str(tmp_path), w, start, [f"w{w}_{i}" for i in range(10)] + shared))
        for w in (0, 1)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = LocalStore(tmp_path)
    requests = store.requests()
    ids = [r["submission_id"] for r in requests]
    assert sorted(ids) == sorted({*ids}), "a shared id was accepted twice"
    assert len(ids) == 50 and all(r["status"] == "FINISHED" for r in requests)
    assert len(store.results()) == 50
    assert not list(tmp_path.rglob("*.tmp"))


def test_config_required_and_not_silently_replaced(tmp_path):
    store = LocalStore(tmp_path)
    with pytest.raises(StoreError, match="run `freq-unlearn leaderboard init`"):
        store.config()
    store.init({"benchmark_sha256": "b1", "base_model_sha256": "m1"})
    store.put_result(fake_result("GA", "id1", 0.4))
    with pytest.raises(StoreError, match="already holds submissions under other settings"):
        store.init({"benchmark_sha256": "b2", "base_model_sha256": "m1"})
    assert store.config()["benchmark_sha256"] == "b1"


def test_results_in_the_old_format_are_refused_in_one_line(tmp_path):
    from freq_unlearn.leaderboard.store import seal

    store = LocalStore(tmp_path)
    old = seal({**fake_result("GA", "id1", 0.4), "schema": "freq_unlearn.leaderboard_result/1"})
    (tmp_path / "results" / "GA").mkdir(parents=True)
    (tmp_path / "results" / "GA" / "id1.json").write_text(json.dumps(old))
    with pytest.raises(StoreError, match="old format 'freq_unlearn.leaderboard_result/1'.*not migrated") as err:
        store.results()
    assert "\n" not in str(err.value)
