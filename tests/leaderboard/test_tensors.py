"""A checkpoint's tensors are checked against the base model's before any request is written
(issue 11, item 5): a missing tensor would be initialised randomly by transformers, silently."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from lb_helpers import make_benchmark, make_checkpoint, make_runs
from safetensors.torch import load_file, save_file

from freq_unlearn.leaderboard.checkpoint import CheckpointError
from freq_unlearn.leaderboard.store import LocalStore
from freq_unlearn.leaderboard.submission import from_run_records
from freq_unlearn.leaderboard.submit import init_store, submit


@pytest.fixture
def registered(tmp_path: Path):
    base = make_checkpoint(tmp_path / "base")
    store = LocalStore(tmp_path / "store")
    init_store(store, str(make_benchmark(tmp_path / "bench")), str(base))
    return store, base


def submission_with(tmp_path: Path, base: Path, edit) -> object:
    """A whole submission whose forget_high run's weights are edited."""
    runs = make_runs(tmp_path / "runs", base_model=str(base))
    ckpt = runs[-1]
    weights = load_file(str(ckpt / "model.safetensors"))
    save_file(edit(weights), str(ckpt / "model.safetensors"), metadata={"format": "pt"})
    return from_run_records(runs)


def refused(store: LocalStore, submission, pattern: str) -> None:
    with pytest.raises(CheckpointError, match=pattern) as err:
        submit(store, submission, progress=lambda _: None)
    assert "\n" not in str(err.value)
    assert not (store.root / "requests").exists(), "no request written"


def test_missing_tensor_is_refused(registered, tmp_path: Path) -> None:
    store, base = registered
    drop = lambda w: {k: v for k, v in w.items() if k != "transformer.h.1.mlp.c_fc.weight"}  # noqa: E731
    refused(store, submission_with(tmp_path, base, drop), "tensor 'transformer.h.1.mlp.c_fc.weight' .* is missing")


def test_bad_shape_is_refused(registered, tmp_path: Path) -> None:
    store, base = registered

    def reshape(w):
        w["transformer.h.0.mlp.c_fc.bias"] = w["transformer.h.0.mlp.c_fc.bias"][:-1].clone()
        return w

    refused(store, submission_with(tmp_path, base, reshape), r"c_fc.bias' has shape \[63\]")


def test_unknown_dtype_is_refused(registered, tmp_path: Path) -> None:
    store, base = registered
    sub = submission_with(tmp_path, base, lambda w: w)
    path = Path(sub.checkpoints[-1].path) / "model.safetensors"
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    name = next(k for k in header if k != "__metadata__")
    header[name]["dtype"] = "F17"
    text = json.dumps(header, separators=(",", ":")).encode().ljust(n)
    assert len(text) == n
    path.write_bytes(raw[:8] + text + raw[8 + n:])
    refused(store, sub, "unknown dtype 'F17'")


def test_half_precision_copy_is_accepted_by_the_check(registered, tmp_path: Path) -> None:
    from freq_unlearn.leaderboard.checkpoint import check_folder, check_tensors, tensor_specs

    _, base = registered
    sub = submission_with(tmp_path, base, lambda w: {k: v.half() for k, v in w.items()})
    check_tensors(check_folder(Path(sub.checkpoints[-1].path)).folder, tensor_specs(base), "base")
