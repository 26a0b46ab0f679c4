"""`init` stores absolute references with content hashes; every `submit` re-checks them before
anything is written (issue 11, item 1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lb_helpers import make_benchmark, make_checkpoint, make_runs

from freq_unlearn.leaderboard.checkpoint import CheckpointError
from freq_unlearn.leaderboard.store import LocalStore, StoreError
from freq_unlearn.leaderboard.submission import from_run_records
from freq_unlearn.leaderboard.submit import init_store, submit


@pytest.fixture
def two_folders(tmp_path: Path, monkeypatch) -> dict[str, Path]:
    """Folders a/ and b/ each holding a `bench` and a `model` under the same relative names."""
    for name, seed in (("a", 0), ("b", 1)):
        make_benchmark(tmp_path / name / "bench", tag=name)
        make_checkpoint(tmp_path / name / "model", seed=seed)
    monkeypatch.chdir(tmp_path / "a")
    return {"a": tmp_path / "a", "b": tmp_path / "b", "store": tmp_path / "store"}


def requests_written(store: Path) -> list[Path]:
    return sorted((store / "requests").rglob("*.json")) if (store / "requests").is_dir() else []


def test_relative_paths_are_stored_resolved(two_folders) -> None:
    config = init_store(LocalStore(two_folders["store"]), "bench", "model")
    assert config["benchmark"] == str((two_folders["a"] / "bench").resolve())
    assert config["base_model"] == str((two_folders["a"] / "model").resolve())
    assert config["benchmark_splits"] == ["forget_high", "forget_low", "forget_medium", "retain", "utility"]


def test_same_relative_base_name_from_another_folder_is_refused(two_folders, monkeypatch) -> None:
    store = LocalStore(two_folders["store"])
    init_store(store, "bench", "model")
    monkeypatch.chdir(two_folders["b"])
    runs = make_runs(two_folders["b"] / "runs", base_model="model")
    with pytest.raises(CheckpointError, match="declares base model 'model'"):
        submit(store, from_run_records(runs), progress=lambda _: None)
    assert requests_written(two_folders["store"]) == []


def test_rebuilt_benchmark_is_refused_before_anything_is_written(two_folders) -> None:
    store = LocalStore(two_folders["store"])
    init_store(store, "bench", "model")
    make_benchmark(two_folders["a"] / "bench", tag="rebuilt")  # same files, new content
    runs = make_runs(two_folders["a"] / "runs", base_model=str(two_folders["a"] / "model"))
    with pytest.raises(CheckpointError, match="changed since `leaderboard init`") as err:
        submit(store, from_run_records(runs), progress=lambda _: None)
    assert "\n" not in str(err.value)
    assert requests_written(two_folders["store"]) == []
    assert not (two_folders["store"] / "cache" / "base").exists()


def test_base_model_changed_in_place_is_refused(two_folders) -> None:
    store = LocalStore(two_folders["store"])
    init_store(store, "bench", "model")
    shutil.copy(two_folders["b"] / "model" / "model.safetensors", two_folders["a"] / "model" / "model.safetensors")
    runs = make_runs(two_folders["a"] / "runs", base_model=str(two_folders["a"] / "model"))
    with pytest.raises(CheckpointError, match="base model .* changed since"):
        submit(store, from_run_records(runs), progress=lambda _: None)
    assert requests_written(two_folders["store"]) == []


def test_store_registered_with_relative_paths_is_refused(two_folders) -> None:
    store = LocalStore(two_folders["store"])
    init_store(store, "bench", "model")
    config_file = two_folders["store"] / "leaderboard.json"
    config = json.loads(config_file.read_text())
    config_file.write_text(json.dumps({**config, "benchmark": "bench"}))  # as older versions wrote it
    runs = make_runs(two_folders["a"] / "runs", base_model=str(two_folders["a"] / "model"))
    with pytest.raises(CheckpointError, match="relative path 'bench'"):
        submit(store, from_run_records(runs), progress=lambda _: None)


@pytest.mark.parametrize("change", [{"limit": 8}, {"dataset": "other"}])
def test_reinit_with_other_settings_is_refused_once_submissions_exist(two_folders, change) -> None:
    store = LocalStore(two_folders["store"])
    init_store(store, "bench", "model", limit=4)
    init_store(store, "bench", "model", limit=4)  # the same settings again: fine
    store.add_request("id1", "ga", {"method": "ga"})
    before = (two_folders["store"] / "leaderboard.json").read_bytes()
    settings = {"limit": 4, "dataset": "synthetic", **change}
    with pytest.raises(StoreError, match="already holds submissions under other settings") as err:
        init_store(store, "bench", "model", **settings)
    assert "\n" not in str(err.value) and "--force" in str(err.value)
    assert (two_folders["store"] / "leaderboard.json").read_bytes() == before
    config = init_store(store, "bench", "model", force=True, **settings)
    assert store.config()["limit"] == config["limit"] and store.config()["task_dataset"] == config["task_dataset"]
