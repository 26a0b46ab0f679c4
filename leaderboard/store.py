"""The results store, laid out like the Hugging Face leaderboards: a *requests* dataset and a
*results* dataset.

::

    ROOT/leaderboard.json                    which benchmark, which base model (``init``)
    ROOT/requests/<method-slug>/<id>.json    one per submission: metadata + status
    ROOT/results/<method-slug>/<id>.json     one per finished submission: metrics + checksum
    ROOT/cache/base/<key>.json               the base model's evaluation, reused by every submit
    ROOT/.lock                               the file lock

Writes go to a temporary file in the same folder and are renamed into place (atomic on
POSIX), under a ``filelock`` so two ``submit`` processes at once lose nothing, and a
duplicate (same checkpoint hashes + metadata, i.e. the same submission id) is refused.
A results file carries a sha256 over its own canonical JSON: one edited by hand is
reported, never silently ranked.

``HubStore`` keeps the same two datasets in two Hub dataset repos (``HfApi.upload_file`` /
``hf_hub_download`` / ``list_repo_files``); its lock is local to the machine (see README).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from freq_unlearn.core.fsutil import atomic_write_text
from freq_unlearn.leaderboard.submission import SubmissionError, parse_json_text

RESULT_SCHEMA = "freq_unlearn.leaderboard_result/3"
# /2: the same scores, without the run records' per-step evaluations (``runs[].evaluations``, the
# forgetting curves). Read as they are (the checksum covers them unchanged): the page says that the
# result format did not keep the curves.
READABLE_RESULT_SCHEMAS = (RESULT_SCHEMA, "freq_unlearn.leaderboard_result/2")
# /1: one forget split per submission, scored by the old headline (min over all strata of retention)
OLD_RESULT_SCHEMAS = ("freq_unlearn.leaderboard_result/1",)
REQUEST_SCHEMA = "freq_unlearn.leaderboard_request/1"
CONFIG_SCHEMA = "freq_unlearn.leaderboard/1"
CONFIG_FILE = "leaderboard.json"
STATUSES = ("PENDING", "RUNNING", "FINISHED", "FAILED")
HOST = socket.gethostname()
LOCK_TIMEOUT_S = 600
# The registration fields that make results comparable (``init`` refuses to change them silently).
REGISTRATION_KEYS = ("benchmark", "benchmark_sha256", "base_model", "base_model_sha256", "task_dataset", "tasks", "limit")


class StoreError(ValueError):
    """A refused store operation or a store file that fails its checks (one line)."""


class DuplicateSubmission(StoreError):
    pass


class TamperedResult(StoreError):
    pass


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def pretty_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def digest(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "integrity"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def seal(result: dict[str, Any]) -> dict[str, Any]:
    sealed = {k: v for k, v in result.items() if k != "integrity"}
    sealed["integrity"] = {"algorithm": "sha256-canonical-json", "sha256": digest(sealed)}
    return sealed


def verify(result: dict[str, Any], where: str) -> dict[str, Any]:
    integrity = result.get("integrity")
    if not isinstance(integrity, dict) or "sha256" not in integrity:
        raise TamperedResult(f"{where}: no integrity field: not written by the leaderboard")
    if integrity["sha256"] != digest(result):
        raise TamperedResult(f"{where}: checksum mismatch: the results file was edited after it was written")
    return result


def slug(text: str, max_chars: int = 60) -> str:
    """A file-system-safe folder name for a method (display names stay in the JSON)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "method"
    return cleaned[:max_chars]


class Store:
    """Shared logic over a tiny file API (read/write/list/lock) that backends provide."""

    name = "store"

    # --- backend API -------------------------------------------------------------------
    def read_text(self, relpath: str) -> str | None:
        raise NotImplementedError

    def write_text(self, relpath: str, text: str) -> None:
        raise NotImplementedError

    def list_files(self, prefix: str) -> list[str]:
        raise NotImplementedError

    def lock(self) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError

    @property
    def cache_dir(self) -> Path:
        raise NotImplementedError

    @property
    def run_lock_dir(self) -> Path:
        """Where the per-submission run locks live (always a local folder)."""
        return self.cache_dir / "running"

    # --- JSON helpers -------------------------------------------------------------------
    def read_json(self, relpath: str) -> dict[str, Any] | None:
        text = self.read_text(relpath)
        if text is None:
            return None
        try:
            return parse_json_text(text, f"{self.name}/{relpath}")
        except SubmissionError as err:
            raise StoreError(str(err)) from None

    def write_json(self, relpath: str, data: dict[str, Any]) -> None:
        self.write_text(relpath, pretty_json(data))

    # --- configuration --------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        config = self.read_json(CONFIG_FILE)
        if config is None:
            raise StoreError(
                f"{self.name}: no {CONFIG_FILE}; run `freq-unlearn leaderboard init` to register the"
                " benchmark and its base model first"
            )
        if config.get("schema") != CONFIG_SCHEMA:
            raise StoreError(f"{self.name}/{CONFIG_FILE}: field 'schema': expected {CONFIG_SCHEMA!r}")
        return config

    def init(self, config: dict[str, Any], force: bool = False) -> None:
        """Register the settings; a store that already holds submissions keeps its settings unless
        ``force``: results under another benchmark, base model, task list or limit are not comparable."""
        with self.lock():
            existing = self.read_json(CONFIG_FILE)
            if existing is not None and not force and (self.list_files("results/") or self.list_files("requests/")):
                changed = [k for k in REGISTRATION_KEYS if existing.get(k) != config.get(k)]
                if changed:
                    raise StoreError(
                        f"{self.name}: already holds submissions under other settings ({', '.join(changed)} differ:"
                        f" {changed[0]} {existing.get(changed[0])!r} -> {config.get(changed[0])!r}); use a new store,"
                        " or --force to replace the registration"
                    )
            self.write_json(CONFIG_FILE, {**config, "schema": CONFIG_SCHEMA})

    # --- requests -------------------------------------------------------------------------
    @staticmethod
    def request_path(method: str, sid: str) -> str:
        return f"requests/{slug(method)}/{sid}.json"

    @staticmethod
    def result_path(method: str, sid: str) -> str:
        return f"results/{slug(method)}/{sid}.json"

    def find_request(self, sid: str) -> tuple[str, dict[str, Any]] | None:
        for relpath in self.list_files("requests/"):
            if relpath.endswith(f"/{sid}.json"):
                data = self.read_json(relpath)
                if data is not None:
                    return relpath, data
        return None

    def add_request(self, sid: str, method: str, submission: dict[str, Any], holding_run_lock: bool = False) -> str:
        """Register a PENDING request; a duplicate that is not FAILED is refused.

        ``holding_run_lock``: the caller holds ``running(sid)``, so a PENDING/RUNNING request of this
        id written on this machine belongs to a process that died (kill -9, SIGTERM): it is stale
        and registered again instead of blocking the submission forever."""
        with self.lock():
            found = self.find_request(sid)
            if found is not None and found[1].get("status") != "FAILED":
                status, runner = found[1].get("status"), found[1].get("runner") or {}
                stale = holding_run_lock and status in ("PENDING", "RUNNING") and runner.get("host") == HOST
                if not stale:
                    hint = (f"; if the process that ran it is gone: freq-unlearn leaderboard reset --store {self.name} {sid}"
                            if status in ("PENDING", "RUNNING") else "")
                    raise DuplicateSubmission(
                        f"duplicate submission: the same checkpoints and metadata are already in the store as"
                        f" {sid} (status {status}, {found[0]}){hint}"
                    )
            relpath = self.request_path(method, sid)
            self.write_json(
                relpath,
                {
                    "schema": REQUEST_SCHEMA,
                    "submission_id": sid,
                    "method": method,
                    "submission": submission,
                    "status": "PENDING",
                    "submitted_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "reason": None,
                    "runner": {"host": HOST, "pid": os.getpid()},
                },
            )
            return relpath

    @contextlib.contextmanager
    def running(self, sid: str) -> Iterator[None]:
        """Held while a submission is checked and evaluated. It is an OS file lock, released by the
        kernel when its process dies, so "lock free" means "nobody is evaluating this id here"."""
        self.run_lock_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.run_lock_dir / f"{sid}.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise DuplicateSubmission(
                f"submission {sid} is being evaluated right now by another process on this machine"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def is_running(self, sid: str) -> bool:
        try:
            with self.running(sid):
                return False
        except DuplicateSubmission:
            return True

    def reset(self, sid: str) -> str:
        """Mark a PENDING/RUNNING request whose evaluation is gone as FAILED (so it may be submitted
        again); returns the status it had."""
        with self.lock():
            found = self.find_request(sid)
            if found is None:
                raise StoreError(f"{self.name}: no request {sid}")
            status = str(found[1].get("status"))
            if status not in ("PENDING", "RUNNING"):
                raise StoreError(f"{self.name}/{found[0]}: status {status}: only a PENDING or RUNNING request can be reset")
        if self.is_running(sid):
            raise StoreError(f"submission {sid} is being evaluated right now by a live process on this machine")
        self.set_status(sid, "FAILED", f"reset by hand (was {status})")
        return status

    def set_status(self, sid: str, status: str, reason: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        with self.lock():
            found = self.find_request(sid)
            if found is None:
                raise StoreError(f"{self.name}: no request {sid}")
            relpath, data = found
            data.update(status=status, reason=reason, updated_time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            self.write_json(relpath, data)

    def requests(self) -> list[dict[str, Any]]:
        out = []
        for relpath in sorted(self.list_files("requests/")):
            data = self.read_json(relpath)
            if data is not None:
                out.append(data)
        return out

    # --- results --------------------------------------------------------------------------
    def put_result(self, result: dict[str, Any]) -> str:
        """Seal and write a result, then mark its request FINISHED (one lock)."""
        sid, method = result["submission_id"], result["method"]
        sealed = seal({**result, "schema": RESULT_SCHEMA})
        relpath = self.result_path(method, sid)
        with self.lock():
            self.write_json(relpath, sealed)
            found = self.find_request(sid)
            if found is not None:
                req_path, data = found
                data.update(status="FINISHED", reason=None, result_file=relpath)
                self.write_json(req_path, data)
        return relpath

    def results(self) -> list[dict[str, Any]]:
        """Every result, verified; a hand-edited one raises ``TamperedResult`` naming it."""
        out = []
        for relpath in sorted(self.list_files("results/")):
            if not relpath.endswith(".json"):
                continue
            data = self.read_json(relpath)
            if data is None:
                continue
            if data.get("schema") in OLD_RESULT_SCHEMAS:
                raise StoreError(
                    f"{self.name}/{relpath}: result in the old format {data['schema']!r} (one forget split, old"
                    f" headline), not comparable with {RESULT_SCHEMA!r}: not migrated; move it out of the store"
                    " or resubmit the method run on each forget stratum"
                )
            if data.get("schema") not in READABLE_RESULT_SCHEMAS:
                raise StoreError(f"{self.name}/{relpath}: field 'schema': expected {RESULT_SCHEMA!r}")
            out.append(verify(data, f"{self.name}/{relpath}"))
        return out


class LocalStore(Store):
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()
        self.name = str(self.root)
        self._lock = FileLock(str(self.root / ".lock"), timeout=LOCK_TIMEOUT_S)

    def _path(self, relpath: str) -> Path:
        path = (self.root / relpath).resolve()
        if self.root not in path.parents:
            raise StoreError(f"{relpath}: outside the store")
        return path

    def read_text(self, relpath: str) -> str | None:
        path = self._path(relpath)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def write_text(self, relpath: str, text: str) -> None:
        atomic_write_text(self._path(relpath), text)

    def list_files(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*.json")
            if p.is_file() and not p.name.startswith(".")
        )

    def lock(self) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return self._lock

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"


class HubStore(Store):
    """Requests and results in two Hub dataset repos (created if missing)."""

    def __init__(self, requests_repo: str, results_repo: str, cache_root: Path | str | None = None) -> None:
        from huggingface_hub import HfApi

        self.api = HfApi()
        self.repos = {"requests": requests_repo, "results": results_repo}
        self.name = f"hub:{requests_repo}+{results_repo}"
        root = Path(cache_root) if cache_root else Path.home() / ".cache" / "freq_unlearn" / "leaderboard"
        self._local = root / slug(f"{requests_repo}__{results_repo}", 120)
        self._local.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(self._local / ".lock"), timeout=LOCK_TIMEOUT_S)
        self._created = False

    def _ensure_repos(self) -> None:
        if self._created:
            return
        for repo in self.repos.values():
            self.api.create_repo(repo, repo_type="dataset", exist_ok=True)
        self._created = True

    def _split(self, relpath: str) -> tuple[str, str]:
        head, _, rest = relpath.partition("/")
        if head in self.repos and rest:
            return self.repos[head], rest
        return self.repos["requests"], relpath  # leaderboard.json lives in the requests repo

    def read_text(self, relpath: str) -> str | None:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

        repo, path = self._split(relpath)
        try:
            # no force_download: the client checks the current revision (HEAD) and re-downloads on change
            local = hf_hub_download(repo, path, repo_type="dataset", cache_dir=self._local / "dl")
        except (EntryNotFoundError, RepositoryNotFoundError):
            return None
        return Path(local).read_text(encoding="utf-8")

    def write_text(self, relpath: str, text: str) -> None:
        self._ensure_repos()
        repo, path = self._split(relpath)
        self.api.upload_file(
            path_or_fileobj=text.encode("utf-8"),
            path_in_repo=path,
            repo_id=repo,
            repo_type="dataset",
            commit_message=f"freq-unlearn leaderboard: write {path}",
        )

    def list_files(self, prefix: str) -> list[str]:
        from huggingface_hub.errors import RepositoryNotFoundError

        head = prefix.strip("/").split("/")[0]
        if head not in self.repos:
            raise ValueError(f"prefix must start with one of {list(self.repos)}")
        try:
            names = self.api.list_repo_files(self.repos[head], repo_type="dataset")
        except RepositoryNotFoundError:
            return []
        # leaderboard.json sits at the root of the requests repo: it is not a request
        return sorted(f"{head}/{n}" for n in names if n.endswith(".json") and n != CONFIG_FILE)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with self._lock:
            yield

    @property
    def cache_dir(self) -> Path:
        return self._local / "cache"


def open_store(
    store: str | Path | None = None, requests_repo: str | None = None, results_repo: str | None = None
) -> Store:
    if requests_repo or results_repo:
        if not (requests_repo and results_repo):
            raise StoreError("the Hub store needs both --hub-requests and --hub-results")
        return HubStore(requests_repo, results_repo, cache_root=store)
    return LocalStore(store or "leaderboard_store")
