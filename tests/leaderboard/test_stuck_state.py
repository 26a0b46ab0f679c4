"""A submit killed during evaluation does not leave its request stuck (issue 11, stuck state):
the run lock dies with its process, so the request is recognised as stale; `reset` frees one
by hand; temporary copy folders of dead processes are removed."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from freq_unlearn.cli import main as cli
from freq_unlearn.leaderboard.checkpoint import remove_abandoned_copies
from freq_unlearn.leaderboard.store import DuplicateSubmission, LocalStore, StoreError


def _evaluate_forever(root: str, ready) -> None:
    """What `submit` does up to evaluation, then hangs (as lm-eval would, for minutes)."""
    store = LocalStore(root)
    with store.running("sid1"):
        store.add_request("sid1", "ga", {"method": "ga"}, holding_run_lock=True)
        store.set_status("sid1", "RUNNING")
        ready.set()
        signal.pause()


@pytest.fixture
def killed_submit(tmp_path: Path):
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_evaluate_forever, args=(str(tmp_path), ready))
    proc.start()
    assert ready.wait(60)
    store = LocalStore(tmp_path)
    yield store, proc
    if proc.is_alive():
        proc.kill()
        proc.join()


def test_running_request_of_a_live_process_is_a_duplicate(killed_submit) -> None:
    store, _ = killed_submit
    with pytest.raises(DuplicateSubmission, match="being evaluated right now"):
        with store.running("sid1"):
            pass
    with pytest.raises(StoreError, match="being evaluated right now"):
        store.reset("sid1")


def test_request_of_a_killed_process_is_recovered(killed_submit) -> None:
    store, proc = killed_submit
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert store.requests()[0]["status"] == "RUNNING"
    with store.running("sid1"):
        store.add_request("sid1", "ga", {"method": "ga"}, holding_run_lock=True)
    (request,) = store.requests()
    assert request["status"] == "PENDING" and request["runner"]["pid"] == os.getpid()


def test_reset_command_marks_a_dead_request_failed(killed_submit, capsys) -> None:
    store, proc = killed_submit
    proc.kill()
    proc.join(30)
    assert cli(["leaderboard", "reset", "--store", str(store.root), "sid1"]) == 0
    assert "was RUNNING" in capsys.readouterr().out
    (request,) = store.requests()
    assert request["status"] == "FAILED" and "reset by hand" in request["reason"]
    assert cli(["leaderboard", "reset", "--store", str(store.root), "sid1"]) == 2
    err = capsys.readouterr().err
    assert "only a PENDING or RUNNING request can be reset" in err and len(err.strip().splitlines()) == 1
    store.add_request("sid1", "ga", {"method": "ga"})  # a FAILED request may be submitted again


def test_copy_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    abandoned = tmp_path / f".abc123.x7yz.{pid}.tmp"
    live = tmp_path / f".abc123.k2lm.{os.getpid()}.tmp"
    for folder in (abandoned, live):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"x")
    assert remove_abandoned_copies(tmp_path) == [abandoned]
    assert not abandoned.exists() and live.exists()
