"""Real client round trips through tests/local_hub.py: datasets, a tiny GPT-2, raw Hub files.

Every client call runs in a fresh interpreter with `hub.env()`, because huggingface_hub reads
HF_ENDPOINT once at import (and tests/conftest.py sets HF_HUB_OFFLINE=1 for this process).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from local_hub import LocalHub, run_python


@pytest.fixture
def hub(tmp_path: Path):
    with LocalHub(tmp_path / "hub") as server:
        yield server
        assert server.errors == [], f"local hub internal errors: {server.errors}"


def client_env(hub: LocalHub) -> dict[str, str]:
    return {**os.environ, **hub.env()}


def test_dataset_dict_push_then_load_dataset(hub: LocalHub, tmp_path: Path) -> None:
    rows = {
        "forget": {"question": ["Who wrote Hamlet?", "Capital of Peru?"], "count": [1200, 35]},
        "retain": {"question": ["Boiling point of water?"], "count": [99999]},
    }
    push = f"""
from datasets import Dataset, DatasetDict
rows = {rows!r}
DatasetDict({{split: Dataset.from_dict(cols) for split, cols in rows.items()}}).push_to_hub("lab/freq-qa")
"""
    run_python(push, client_env(hub), cwd=tmp_path)
    files = hub.repo_files("lab/freq-qa", repo_type="dataset")
    assert "README.md" in files
    assert sorted(f for f in files if f.endswith(".parquet")) == [
        "data/forget-00000-of-00001.parquet",
        "data/retain-00000-of-00001.parquet",
    ]

    load = """
import json
from datasets import load_dataset
ds = load_dataset("lab/freq-qa")
print(json.dumps({split: ds[split].to_dict() for split in ds}))
"""
    loaded = json.loads(run_python(load, client_env(hub), cwd=tmp_path).stdout.strip().splitlines()[-1])
    assert loaded == rows


TINY_GPT2_ROUND_TRIP = r"""
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2LMHeadModel,
                          PreTrainedTokenizerFast)

corpus = ["the cat sat on the mat", "a dog ran in the park", "facts are counted in the corpus"] * 5
bpe = Tokenizer(models.BPE(unk_token="<unk>"))
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=80, special_tokens=["<unk>", "<eos>"]))
tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", eos_token="<eos>")

torch.manual_seed(0)
config = GPT2Config(vocab_size=len(tokenizer), n_layer=1, n_embd=16, n_head=2, n_positions=32,
                    eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id)
model = GPT2LMHeadModel(config)
model.push_to_hub("lab/tiny-gpt2")
tokenizer.push_to_hub("lab/tiny-gpt2")

# Pushing leaves the download cache empty, so these read everything back from the server.
loaded = AutoModelForCausalLM.from_pretrained("lab/tiny-gpt2")
loaded_tokenizer = AutoTokenizer.from_pretrained("lab/tiny-gpt2")
expected, got = model.state_dict(), loaded.state_dict()
assert set(got) == set(expected), sorted(set(got) ^ set(expected))
for name, tensor in expected.items():
    assert torch.equal(got[name], tensor), name
text = "the cat sat on the mat"
assert loaded_tokenizer(text)["input_ids"] == tokenizer(text)["input_ids"]
print("ok")
"""


def test_tiny_gpt2_push_to_hub_then_from_pretrained(hub: LocalHub, tmp_path: Path) -> None:
    # One interpreter for both halves keeps the test fast (transformers takes seconds to import).
    out = run_python(TINY_GPT2_ROUND_TRIP, client_env(hub), cwd=tmp_path)
    assert out.stdout.strip().endswith("ok")
    files = hub.repo_files("lab/tiny-gpt2")
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= set(files)
    downloads = {line.split()[1].rsplit("/", 1)[-1] for line in hub.request_log if line.startswith("GET ")}
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= downloads


def test_upload_file_download_list_and_revisions(hub: LocalHub, tmp_path: Path) -> None:
    first = {"model": "lab/m1", "status": "PENDING"}
    second = {"model": "lab/m1", "status": "FINISHED"}
    code = f"""
import json
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
api = HfApi()
api.create_repo("lab/requests", repo_type="dataset")
api.create_repo("lab/requests", repo_type="dataset", exist_ok=True)
c1 = api.upload_file(path_or_fileobj=json.dumps({first!r}).encode(), path_in_repo="lab/m1_eval_request.json",
                     repo_id="lab/requests", repo_type="dataset")
files = api.list_repo_files("lab/requests", repo_type="dataset")
c2 = api.upload_file(path_or_fileobj=json.dumps({second!r}).encode(), path_in_repo="lab/m1_eval_request.json",
                     repo_id="lab/requests", repo_type="dataset")
old = open(hf_hub_download("lab/requests", "lab/m1_eval_request.json", repo_type="dataset", revision=c1.oid)).read()
new = open(hf_hub_download("lab/requests", "lab/m1_eval_request.json", repo_type="dataset")).read()
snap = snapshot_download("lab/requests", repo_type="dataset")
print(json.dumps({{"files": files, "c1": c1.oid, "c2": c2.oid, "old": old, "new": new,
                  "sha": api.dataset_info("lab/requests").sha, "snap": snap}}))
"""
    out = json.loads(run_python(code, client_env(hub)).stdout.strip().splitlines()[-1])
    assert out["files"] == [".gitattributes", "lab/m1_eval_request.json"]
    assert out["c1"] != out["c2"] and out["sha"] == out["c2"]
    assert json.loads(out["old"]) == first and json.loads(out["new"]) == second
    assert json.loads(Path(out["snap"], "lab/m1_eval_request.json").read_text()) == second
    assert hub.commits("lab/requests", repo_type="dataset")[:2] == [out["c2"], out["c1"]]
    assert hub.read_file("lab/requests", "lab/m1_eval_request.json", repo_type="dataset", revision=out["c1"]) == (
        json.dumps(first).encode()
    )


def test_missing_file_revision_and_repo_raise_client_errors(hub: LocalHub) -> None:
    code = """
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError
api = HfApi()
api.create_repo("lab/results", repo_type="dataset")
api.upload_file(path_or_fileobj=b"{}", path_in_repo="a.json", repo_id="lab/results", repo_type="dataset")
checks = [
    (EntryNotFoundError, lambda: hf_hub_download("lab/results", "missing.json", repo_type="dataset")),
    (RevisionNotFoundError, lambda: hf_hub_download("lab/results", "a.json", repo_type="dataset", revision="nope")),
    (RepositoryNotFoundError, lambda: hf_hub_download("lab/absent", "a.json", repo_type="dataset")),
    (EntryNotFoundError, lambda: api.delete_file("missing.json", "lab/results", repo_type="dataset")),
]
for expected, call in checks:
    try:
        call()
    except expected:
        continue
    raise SystemExit(f"{expected.__name__} not raised")
assert not api.file_exists("lab/results", "missing.json", repo_type="dataset")
assert api.file_exists("lab/results", "a.json", repo_type="dataset")
print("ok")
"""
    assert run_python(code, client_env(hub)).stdout.strip().endswith("ok")


def test_writes_need_the_token(hub: LocalHub) -> None:
    def post(token: str | None) -> int:
        request = urllib.request.Request(
            f"{hub.url}/api/repos/create",
            data=json.dumps({"name": "x", "organization": "lab", "type": "model"}).encode(),
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code

    assert post(None) == 401
    assert post("wrong-token") == 401
    assert post(hub.token) == 200
    assert post(hub.token) == 409
    assert hub.repo_files("lab/x") == [".gitattributes"]


def test_run_python_reports_failures() -> None:
    with pytest.raises(AssertionError, match="boom"):
        run_python("import sys; sys.stderr.write('boom'); sys.exit(3)", dict(os.environ))
    assert isinstance(run_python("print(1)", dict(os.environ)), subprocess.CompletedProcess)


def test_branches_tags_pagination_and_private_repos(tmp_path: Path) -> None:
    # A page size of 2 makes list_repo_files follow the server's Link headers.
    with LocalHub(tmp_path / "hub", tree_page_size=2) as hub:
        code = """
import json
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download
from huggingface_hub.errors import RepositoryNotFoundError
api = HfApi()
api.create_repo("lab/results", repo_type="dataset", private=True)
ops = [CommitOperationAdd(f"r/{i}.json", json.dumps({"i": i}).encode()) for i in range(5)]
api.create_commit("lab/results", ops, commit_message="five results", repo_type="dataset")
api.create_branch("lab/results", branch="dev", repo_type="dataset")
api.upload_file(path_or_fileobj=b"{}", path_in_repo="r/dev.json", repo_id="lab/results", repo_type="dataset",
                revision="dev")
api.create_tag("lab/results", tag="v1", repo_type="dataset")
refs = api.list_repo_refs("lab/results", repo_type="dataset")
try:
    api.dataset_info("lab/results", token=False)
    anonymous = "visible"
except RepositoryNotFoundError:
    anonymous = "hidden"
print(json.dumps({
    "main": api.list_repo_files("lab/results", repo_type="dataset"),
    "dev": api.list_repo_files("lab/results", repo_type="dataset", revision="dev"),
    "v1": json.load(open(hf_hub_download("lab/results", "r/3.json", repo_type="dataset", revision="v1"))),
    "branches": sorted(b.name for b in refs.branches), "tags": [t.name for t in refs.tags],
    "listed": [d.id for d in api.list_datasets(author="lab")], "anonymous": anonymous,
}))
"""
        out = json.loads(run_python(code, client_env(hub)).stdout.strip().splitlines()[-1])
        main_files = [".gitattributes"] + [f"r/{i}.json" for i in range(5)]
        assert out["main"] == main_files
        assert out["dev"] == sorted(main_files + ["r/dev.json"])
        assert out["v1"] == {"i": 3}
        assert out["branches"] == ["dev", "main"] and out["tags"] == ["v1"]
        assert out["listed"] == ["lab/results"] and out["anonymous"] == "hidden"
        assert any("cursor=" in line for line in hub.request_log), "client never followed a next-page link"
        assert hub.errors == []
