"""The Hub option, against the real local Hub HTTP server (tests/local_hub.py): requests and
results in two dataset repos, and checkpoints fetched from a model repo (safetensors only)."""

from __future__ import annotations

import os
from pathlib import Path

from local_hub import run_python

HERE = Path(__file__).resolve().parent

CODE = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, HERE)
from lb_helpers import fake_result
from huggingface_hub import HfApi
from freq_unlearn.leaderboard.store import DuplicateSubmission, TamperedResult, open_store
from freq_unlearn.leaderboard import checkpoint as ckpt
from freq_unlearn.leaderboard.cli import main

tmp = Path(TMP)
store = open_store(tmp / "cache", "test-user/lb-requests", "test-user/lb-results")
assert store.read_json("leaderboard.json") is None
store.init({"benchmark": "bench", "base_model": "tiny", "benchmark_sha256": "b", "base_model_sha256": "m"})
store.add_request("id1", "GA", {"method": "GA"})
try:
    store.add_request("id1", "GA", {"method": "GA"})
    raise AssertionError("duplicate accepted")
except DuplicateSubmission as err:
    assert "id1" in str(err)
store.put_result(fake_result("GA", "id1", 0.4))
store.add_request("id2", "NPO", {})
store.put_result(fake_result("NPO", "id2", 0.2))

api = HfApi()
assert sorted(api.list_repo_files("test-user/lb-results", repo_type="dataset")) == [
    ".gitattributes", "results/GA/id1.json", "results/NPO/id2.json"] or sorted(
    f for f in api.list_repo_files("test-user/lb-results", repo_type="dataset") if f.endswith(".json")) == [
    "GA/id1.json", "NPO/id2.json"]
fresh = open_store(tmp / "other_cache", "test-user/lb-requests", "test-user/lb-results")
assert [r["status"] for r in fresh.requests()] == ["FINISHED", "FINISHED"]
assert [r["method"] for r in fresh.results()] == ["GA", "NPO"]
assert main(["list", "--store", str(tmp / "c3"), "--hub-requests", "test-user/lb-requests",
             "--hub-results", "test-user/lb-results", "--columns", "Rank,Method,Headline"]) == 0

# a result edited on the Hub is refused
path = next(f for f in api.list_repo_files("test-user/lb-results", repo_type="dataset") if f.endswith("id2.json"))
data = json.loads(fresh.read_text("results/" + path))
data["metrics"]["headline"]["value"] = 0.99
api.upload_file(path_or_fileobj=json.dumps(data).encode(), path_in_repo=path, repo_id="test-user/lb-results", repo_type="dataset")
try:
    fresh.results()
    raise AssertionError("tampered result accepted")
except TamperedResult as err:
    assert "checksum mismatch" in str(err)

# checkpoints from the Hub: safetensors downloaded, pickles never; pickle-only repos refused
local = Path(CKPT)
(local / "training_args.bin").write_bytes(b"\x80\x04pickle")
api.create_repo("test-user/tiny-unlearned")
api.upload_folder(folder_path=str(local), repo_id="test-user/tiny-unlearned")
checked = ckpt.fetch("test-user/tiny-unlearned")
assert checked.sha256 == ckpt.content_hash(local)
assert not (checked.folder / "training_args.bin").exists()
api.create_repo("test-user/pickled")
api.upload_file(path_or_fileobj=b"\x80\x04pickle", path_in_repo="pytorch_model.bin", repo_id="test-user/pickled")
api.upload_file(path_or_fileobj=(local / "config.json").read_bytes(), path_in_repo="config.json", repo_id="test-user/pickled")
for ref, expected in (("test-user/pickled", "only pickle weights such as pytorch_model.bin"),
                      ("test-user/missing", "not found on the Hub")):
    try:
        ckpt.fetch(ref)
        raise AssertionError(ref)
    except ckpt.CheckpointError as err:
        assert expected in str(err) and "\n" not in str(err), str(err)
print("OK")
"""


def test_hub_store_round_trip(local_hub, tmp_path, checkpoint_factory):
    ckpt = checkpoint_factory()  # built here, where torch is already imported
    code = CODE.replace("HERE", repr(str(HERE))).replace("TMP", repr(str(tmp_path))).replace("CKPT", repr(str(ckpt)))
    proc = run_python(code, env={**os.environ, **local_hub.env()}, timeout=180, cwd=tmp_path)
    assert proc.stdout.strip().endswith("OK")
