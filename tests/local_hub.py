"""A small, real Hugging Face Hub HTTP server for offline round-trip tests.

Tests must never reach huggingface.co, yet they need true round trips through the unpatched
`huggingface_hub` client (``push_to_hub`` then ``load_dataset`` / ``from_pretrained``,
``upload_file`` then ``hf_hub_download``...). This module serves the subset of the Hub's HTTP API
that those paths use, from a folder, over a real socket:

* repos: ``POST /api/repos/create`` (409 when it exists), ``DELETE /api/repos/delete``,
  ``GET /api/{type}s/{id}[/revision/{rev}]`` (info with ``sha`` and ``siblings``),
  ``/refs``, ``/commits/{rev}``, ``POST|DELETE /branch/{name}``, ``PUT /settings``;
* reads: ``GET /api/{type}s/{id}/tree/{rev}[/{path}]`` (recursive or not, cursor-paginated),
  ``POST .../paths-info/{rev}``, ``HEAD|GET /{prefix}{id}/resolve/{rev}/{path}`` (with ``ETag``,
  ``X-Repo-Commit``, ``X-Linked-Etag``/``X-Linked-Size`` for LFS files, and byte ``Range``);
* writes: ``POST .../preupload/{rev}``, the LFS batch API
  (``/{prefix}{id}.git/info/lfs/objects/batch``) with a ``PUT`` upload URL on this server, and
  ``POST .../commit/{rev}`` taking the NDJSON ``header``/``file``/``lfsFile``/``deletedFile``/
  ``deletedFolder`` operations;
* ``GET /api/whoami-v2`` and ``POST /api/validate-yaml``.

Errors carry the ``X-Error-Code`` header the client maps to its exceptions (``RepoNotFound``,
``RevisionNotFound``, ``EntryNotFound``). Writes without ``Authorization: Bearer <token>`` get 401.
Xet storage is not served: `LocalHub.env` sets ``HF_HUB_DISABLE_XET=1`` so the client uses LFS.

Storage, under ``root``: ``<type>s/<namespace>/<name>/repo.json`` holds the refs and the commit
history (each commit: a 40-hex sha, its parent and a snapshot ``path -> blob record``), and
``<type>s/<namespace>/<name>/objects/<sha256>`` the file contents. Regular files are addressed by
their git blob sha1 and LFS files by sha256, as the client expects. The server keeps no state in
memory, so a new `LocalHub` on the same ``root`` sees earlier pushes.

Usage (huggingface_hub reads ``HF_ENDPOINT`` once, at import, so run the client in a fresh
interpreter)::

    with LocalHub(tmp_path / "hub") as hub:
        run_python("from datasets import load_dataset; ...", env={**os.environ, **hub.env()})
        assert "README.md" in hub.repo_files("user/data", repo_type="dataset")
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = ["LocalHub", "HubError", "run_python", "local_hub_fixture"]

USER_NAME = "test-user"
REPO_TYPES = ("model", "dataset", "space")
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}

# Files matching these suffixes go through LFS, as the Hub's default .gitattributes says; so do
# files of 10 MB or more and any file whose first bytes hold a NUL (binary).
LFS_SUFFIXES = (
    ".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gz", ".h5", ".joblib", ".mlmodel",
    ".model", ".msgpack", ".npy", ".npz", ".onnx", ".ot", ".parquet", ".pb", ".pickle", ".pkl",
    ".pt", ".pth", ".rar", ".safetensors", ".tar", ".tflite", ".tgz", ".wasm", ".xz", ".zip",
    ".zst", ".tfevents",
)  # fmt: skip
LFS_MIN_SIZE = 10 * 1024 * 1024
REPO_ID_RE = re.compile(r"[\w.-]+(/[\w.-]+)?")
TREE_PAGE_SIZE = 1000
TREE_PAGE_SIZE_EXPANDED = 50
DEFAULT_GITATTRIBUTES = "".join(f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES)
# Names after /api/{type}s/{id}/ that are API actions, used to split one-segment repo ids.
API_ACTIONS = {
    "revision", "tree", "paths-info", "preupload", "commit", "refs", "commits", "branch", "tag",
    "settings", "parquet", "discussions", "likers", "lfs-files", "auth-check", "super-squash",
}  # fmt: skip


class HubError(Exception):
    """An HTTP error answer: status, the Hub's X-Error-Code and a message."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict | None = None, body: dict | None = None
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.body = body or {}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob, which the Hub uses as the ETag of regular files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


class RepoStore:
    """The repositories on disk. All methods are called under the server's lock."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # ---- repos ------------------------------------------------------------------------------
    def repo_dir(self, repo_type: str, repo_id: str) -> Path:
        if repo_type not in REPO_TYPES or not REPO_ID_RE.fullmatch(repo_id) or ".." in repo_id:
            raise HubError(400, f"Invalid repo id '{repo_id}' or type '{repo_type}'.")
        return self.root / f"{repo_type}s" / repo_id

    def exists(self, repo_type: str, repo_id: str) -> bool:
        return (self.repo_dir(repo_type, repo_id) / "repo.json").is_file()

    def load(self, repo_type: str, repo_id: str) -> dict:
        path = self.repo_dir(repo_type, repo_id) / "repo.json"
        if not path.is_file():
            raise HubError(404, f"Repository Not Found for {repo_type} '{repo_id}'.", "RepoNotFound")
        return json.loads(path.read_text())

    def save(self, repo_type: str, repo_id: str, state: dict) -> None:
        path = self.repo_dir(repo_type, repo_id) / "repo.json"
        tmp = path.with_name(f".repo.json.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, path)

    def create(self, repo_type: str, repo_id: str, private: bool) -> dict:
        repo_dir = self.repo_dir(repo_type, repo_id)
        (repo_dir / "objects").mkdir(parents=True, exist_ok=True)
        state = {
            "id": repo_id, "type": repo_type, "private": private, "createdAt": _now(),
            "refs": {}, "tags": {}, "commits": {},
        }  # fmt: skip
        # Like the Hub, a new repo starts with one commit holding a .gitattributes file.
        gitattributes = DEFAULT_GITATTRIBUTES.encode()
        self.put_object(repo_type, repo_id, gitattributes)
        files = {".gitattributes": self.regular_record(gitattributes)}
        sha = self.add_commit(state, parent=None, files=files, title="initial commit", message="")
        state["refs"]["main"] = sha
        self.save(repo_type, repo_id, state)
        return state

    def delete(self, repo_type: str, repo_id: str) -> None:
        repo_dir = self.repo_dir(repo_type, repo_id)
        if not (repo_dir / "repo.json").is_file():
            raise HubError(404, f"Repository Not Found for {repo_type} '{repo_id}'.", "RepoNotFound")
        # Rename first so a crash never leaves a half-deleted repo that still looks alive.
        trash = repo_dir.with_name(f".deleted-{repo_dir.name}-{uuid.uuid4().hex}")
        os.replace(repo_dir, trash)
        for path in sorted(trash.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        trash.rmdir()

    # ---- objects ----------------------------------------------------------------------------
    def object_path(self, repo_type: str, repo_id: str, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise HubError(400, f"Invalid object id '{sha256}'.")
        return self.repo_dir(repo_type, repo_id) / "objects" / sha256

    def has_object(self, repo_type: str, repo_id: str, sha256: str) -> bool:
        return self.object_path(repo_type, repo_id, sha256).is_file()

    def put_object(self, repo_type: str, repo_id: str, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.object_path(repo_type, repo_id, sha256)
        if not path.is_file():
            tmp = path.with_name(f".{sha256}.{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return sha256

    @staticmethod
    def regular_record(data: bytes) -> dict:
        return {"oid": git_blob_sha1(data), "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "lfs": False}

    @staticmethod
    def lfs_record(sha256: str, size: int) -> dict:
        pointer = lfs_pointer(sha256, size)
        return {"oid": git_blob_sha1(pointer), "size": size, "sha256": sha256, "lfs": True, "pointerSize": len(pointer)}

    # ---- commits ----------------------------------------------------------------------------
    @staticmethod
    def add_commit(state: dict, parent: str | None, files: dict, title: str, message: str) -> str:
        date = _now()
        body = json.dumps([parent, files, title, message, date, uuid.uuid4().hex], sort_keys=True)
        sha = hashlib.sha1(body.encode()).hexdigest()
        state["commits"][sha] = {"parent": parent, "files": files, "title": title, "message": message, "date": date}
        return sha

    @staticmethod
    def resolve_revision(state: dict, revision: str) -> str:
        """Branch name or (full or abbreviated) commit sha -> commit sha."""
        if revision in state["refs"]:
            return state["refs"][revision]
        if revision.startswith("refs/heads/") and revision[len("refs/heads/") :] in state["refs"]:
            return state["refs"][revision[len("refs/heads/") :]]
        tags = state.get("tags", {})
        for name in (revision, revision.removeprefix("refs/tags/")):
            if name in tags:
                return tags[name]
        if re.fullmatch(r"[0-9a-f]{7,40}", revision):
            matches = [sha for sha in state["commits"] if sha.startswith(revision)]
            if len(matches) == 1:
                return matches[0]
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def entries_under(files: dict, folder: str, recursive: bool) -> list[tuple[str, dict | None]]:
    """(path, record) for files and (path, None) for folders below `folder`, sorted like the Hub."""
    prefix = f"{folder}/" if folder else ""
    found: dict[str, dict | None] = {}
    for path, record in files.items():
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        depth = len(parts) if recursive else 1
        for i in range(1, min(depth, len(parts)) + 1):
            sub = prefix + "/".join(parts[:i])
            found[sub] = record if i == len(parts) else None
    # Folders first, then files, each sorted by path (what the Hub returns).
    return sorted(found.items(), key=lambda item: (item[1] is not None, item[0]))


def is_folder(files: dict, path: str) -> bool:
    prefix = path.rstrip("/") + "/"
    return any(p.startswith(prefix) for p in files)


def folder_oid(files: dict, path: str) -> str:
    prefix = path.rstrip("/") + "/" if path else ""
    listing = "".join(f"{p}\0{r['oid']}\n" for p, r in sorted(files.items()) if p.startswith(prefix))
    return hashlib.sha1(listing.encode()).hexdigest()


def last_commit_of(state: dict, head: str, path: str) -> dict:
    """The most recent commit, reachable from head, that changed `path` (file or folder)."""

    def view(sha: str | None) -> Any:
        if sha is None:
            return None
        files = state["commits"][sha]["files"]
        if path in files:
            return files[path]["oid"]
        return folder_oid(files, path) if is_folder(files, path) else None

    sha = head
    while True:
        parent = state["commits"][sha]["parent"]
        if parent is None or view(parent) != view(sha):
            commit = state["commits"][sha]
            return {"id": sha, "title": commit["title"], "date": commit["date"]}
        sha = parent


def tree_entry(state: dict, head: str, files: dict, path: str, record: dict | None, expand: bool) -> dict:
    if record is None:
        entry: dict[str, Any] = {"type": "directory", "oid": folder_oid(files, path), "size": 0, "path": path}
    else:
        entry = {"type": "file", "oid": record["oid"], "size": record["size"], "path": path}
        if record["lfs"]:
            entry["lfs"] = {"oid": record["sha256"], "size": record["size"], "pointerSize": record["pointerSize"]}
    if expand:
        entry["lastCommit"] = last_commit_of(state, head, path)
    return entry


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects
    server: "_Server"
    body: bytes = b""  # the request body, read once in _dispatch

    # ---- plumbing ---------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        self.server.hub.request_log.append(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}")

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, body: bytes = b"", headers: dict | None = None, content_type: str = "application/json"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _json(
        self, payload: Any, status: int = 200, headers: dict | None = None, content_type: str = "application/json"
    ) -> None:
        self._send(status, json.dumps(payload).encode(), headers, content_type)

    def _dispatch(self) -> None:
        self.body = self._read_body() if self.command in ("POST", "PUT", "DELETE") else b""
        try:
            self.server.hub.route(self)
        except HubError as err:
            headers = {"X-Error-Message": err.message, **err.headers}
            if err.code:
                headers["X-Error-Code"] = err.code
            self._json({"error": err.message, **err.body}, err.status, headers)
        except Exception as err:  # a bug here must show up in the client's error, not hang it
            self.server.hub.errors.append(repr(err))
            self._json({"error": f"local hub internal error: {err!r}"}, 500)

    # ---- request helpers used by LocalHub.route ---------------------------------------------
    def json_body(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError as err:
            raise HubError(400, f"Invalid JSON body: {err}") from err

    def bearer_token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not block close()
    request_queue_size = 64  # the client uploads LFS files on several threads at once
    hub: "LocalHub"


class LocalHub:
    """A real HTTP Hub on 127.0.0.1 serving repos stored under `root`; a context manager."""

    def __init__(
        self, root: Path, token: str = "test-token", port: int = 0, tree_page_size: int = TREE_PAGE_SIZE
    ) -> None:
        self.root = Path(root)
        self.token = token
        self.tree_page_size = tree_page_size  # small values let tests exercise the client's pagination
        self.root.mkdir(parents=True, exist_ok=True)
        self.store = RepoStore(self.root)
        self.lock = threading.RLock()
        self.request_log: list[str] = []  # "METHOD path -> status", for debugging failed tests
        self.errors: list[str] = []  # internal server errors (should stay empty)
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.hub = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="local-hub", daemon=True)
        self._thread.start()

    # ---- public API -------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment for a client process talking to this hub, with a fresh cache under root."""
        home = self.root / "hf_home"
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
        return {
            "HF_ENDPOINT": self.url,
            "HF_TOKEN": self.token,
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_OFFLINE": "0",
            "HF_DATASETS_OFFLINE": "0",
            "TRANSFORMERS_OFFLINE": "0",
            "HF_HOME": str(home),
            # Set explicitly: an outer HF_HUB_CACHE / HF_DATASETS_CACHE would win over HF_HOME.
            "HF_HUB_CACHE": str(home / "hub"),
            "HUGGINGFACE_HUB_CACHE": str(home / "hub"),
            "HF_DATASETS_CACHE": str(home / "datasets"),
            "HF_XET_CACHE": str(home / "xet"),
            "HF_ASSETS_CACHE": str(home / "assets"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_IMPLICIT_TOKEN": "0",
            # A request that leaks past this server must fail fast, not hang the test.
            "HF_HUB_ETAG_TIMEOUT": "5",
            "HF_HUB_DOWNLOAD_TIMEOUT": "10",
            "NO_PROXY": no_proxy,
            "no_proxy": no_proxy,
        }

    def repo_files(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> list[str]:
        """Sorted file paths of a repo at `revision` (for assertions)."""
        with self.lock:
            state = self.store.load(repo_type, repo_id)
            sha = self.store.resolve_revision(state, revision)
            return sorted(state["commits"][sha]["files"])

    def read_file(self, repo_id: str, path: str, repo_type: str = "model", revision: str = "main") -> bytes:
        """Content of one file as stored on the hub (for assertions)."""
        with self.lock:
            state = self.store.load(repo_type, repo_id)
            record = state["commits"][self.store.resolve_revision(state, revision)]["files"][path]
            return self.store.object_path(repo_type, repo_id, record["sha256"]).read_bytes()

    def commits(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> list[str]:
        """Commit shas reachable from `revision`, newest first."""
        with self.lock:
            state = self.store.load(repo_type, repo_id)
            sha: str | None = self.store.resolve_revision(state, revision)
            history = []
            while sha is not None:
                history.append(sha)
                sha = state["commits"][sha]["parent"]
            return history

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "LocalHub":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- routing ----------------------------------------------------------------------------
    def route(self, req: _Handler) -> None:
        url = urlsplit(req.path)
        query = {key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
        # Split the raw path first, then unquote each segment: revisions arrive as refs%2Fpr%2F1.
        segments = [unquote(s) for s in url.path.strip("/").split("/")]
        method = req.command

        if segments[:1] == ["_lfs"]:
            return self._lfs_put(req, segments[1:])
        if segments[:1] != ["api"]:
            return self._route_git_or_resolve(req, segments, query)
        api = segments[1:]
        if api == ["whoami-v2"]:
            return self._whoami(req)
        if api == ["validate-yaml"] and method == "POST":
            return req._json({"errors": [], "warnings": []})
        if api == ["repos", "create"] and method == "POST":
            return self._create_repo(req)
        if api == ["repos", "delete"] and method == "DELETE":
            return self._delete_repo(req)
        if len(api) == 1 and api[0] in ("models", "datasets", "spaces") and method == "GET":
            return self._list_repos(req, api[0][:-1], query)
        if len(api) >= 2 and api[0] in ("models", "datasets", "spaces"):
            repo_type = api[0][:-1]
            repo_id, rest = self._split_repo_id(repo_type, api[1:])
            return self._route_repo_api(req, repo_type, repo_id, rest, query)
        raise HubError(404, f"Unknown endpoint {method} {url.path} on the local hub.")

    def _split_repo_id(self, repo_type: str, parts: list[str]) -> tuple[str, list[str]]:
        """`ns/name/...` or a legacy one-segment `name/...` -> (repo id, remaining segments)."""
        if len(parts) >= 2 and parts[1] not in API_ACTIONS:
            return f"{parts[0]}/{parts[1]}", parts[2:]
        if len(parts) >= 2 and self.store.exists(repo_type, f"{parts[0]}/{parts[1]}"):
            return f"{parts[0]}/{parts[1]}", parts[2:]
        return parts[0], parts[1:]

    def _route_git_or_resolve(self, req: _Handler, segments: list[str], query: dict) -> None:
        repo_type = "model"
        if segments and segments[0] in ("datasets", "spaces"):
            repo_type, segments = segments[0][:-1], segments[1:]
        # LFS batch: /{prefix}{ns}/{name}.git/info/lfs/objects/batch
        if segments[-4:] == ["info", "lfs", "objects", "batch"] and req.command == "POST":
            repo_id = "/".join(segments[:-4])
            return self._lfs_batch(req, repo_type, repo_id.removesuffix(".git"))
        if "resolve" in segments and req.command in ("GET", "HEAD"):
            i = segments.index("resolve")
            if i >= 1 and len(segments) >= i + 3:
                repo_id = "/".join(segments[:i])
                revision, path = segments[i + 1], "/".join(segments[i + 2 :])
                return self._resolve(req, repo_type, repo_id, revision, path)
        raise HubError(404, f"Unknown endpoint {req.command} {req.path} on the local hub.")

    def _route_repo_api(self, req: _Handler, repo_type: str, repo_id: str, rest: list[str], query: dict) -> None:
        method = req.command
        if not rest and method == "GET":
            return self._repo_info(req, repo_type, repo_id, "main", query)
        action, args = rest[0] if rest else "", rest[1:]
        if action == "revision" and args and method == "GET":
            return self._repo_info(req, repo_type, repo_id, "/".join(args), query)
        if action == "tree" and args and method == "GET":
            return self._tree(req, repo_type, repo_id, args[0], "/".join(args[1:]), query)
        if action == "paths-info" and args and method == "POST":
            return self._paths_info(req, repo_type, repo_id, "/".join(args))
        if action == "preupload" and args and method == "POST":
            return self._preupload(req, repo_type, repo_id, "/".join(args))
        if action == "commit" and args and method == "POST":
            return self._commit(req, repo_type, repo_id, "/".join(args), query)
        if action == "refs" and method == "GET":
            return self._refs(req, repo_type, repo_id)
        if action == "commits" and args and method == "GET":
            return self._list_commits(req, repo_type, repo_id, "/".join(args))
        if action == "branch" and args and method in ("POST", "DELETE"):
            return self._branch(req, repo_type, repo_id, "/".join(args))
        if action == "tag" and args and method in ("POST", "DELETE"):
            return self._tag(req, repo_type, repo_id, "/".join(args))
        if action == "auth-check" and method == "GET":
            self._readable_state(req, repo_type, repo_id)
            if args == ["write"]:
                self._require_write(req)
            return req._json({})
        if action == "settings" and method == "PUT":
            return self._settings(req, repo_type, repo_id)
        if action == "parquet":
            # No dataset-viewer parquet export here: datasets falls back to the repo's own files.
            self._readable_state(req, repo_type, repo_id)
            raise HubError(404, "Parquet export not available on the local hub.", "ParquetExportNotFound")
        raise HubError(404, f"Unknown endpoint {method} {req.path} on the local hub.")

    # ---- auth -------------------------------------------------------------------------------
    def _require_write(self, req: _Handler) -> None:
        token = req.bearer_token()
        if token is None:
            raise HubError(401, "Authorization header is required for this operation.")
        if token != self.token:
            raise HubError(401, "Invalid credentials in Authorization header.")

    def _readable_state(self, req: _Handler, repo_type: str, repo_id: str) -> dict:
        with self.lock:
            state = self.store.load(repo_type, repo_id)
        if state.get("private") and req.bearer_token() != self.token:
            raise HubError(404, f"Repository Not Found for {repo_type} '{repo_id}'.", "RepoNotFound")
        return state

    def _whoami(self, req: _Handler) -> None:
        if req.bearer_token() != self.token:
            raise HubError(401, "Invalid credentials in Authorization header.")
        req._json(
            {
                "type": "user",
                "id": "0" * 24,
                "name": USER_NAME,
                "fullname": "Test User",
                "email": None,
                "emailVerified": False,
                "isPro": False,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "local", "role": "write"}},
            }
        )

    # ---- repos ------------------------------------------------------------------------------
    @staticmethod
    def _repo_id_from_payload(payload: dict) -> tuple[str, str]:
        name, organization = payload.get("name"), payload.get("organization")
        repo_type = payload.get("type") or "model"
        if not name or repo_type not in REPO_TYPES:
            raise HubError(400, "Invalid repo name or type.")
        return repo_type, f"{organization or USER_NAME}/{name}"

    def _repo_url(self, repo_type: str, repo_id: str) -> str:
        return f"{self.url}/{URL_PREFIXES[repo_type]}{repo_id}"

    def _create_repo(self, req: _Handler) -> None:
        self._require_write(req)
        payload = req.json_body()
        repo_type, repo_id = self._repo_id_from_payload(payload)
        url = self._repo_url(repo_type, repo_id)
        with self.lock:
            if self.store.exists(repo_type, repo_id):
                # The client's exist_ok path reads the repo url from this 409 answer.
                raise HubError(409, f"You already created this {repo_type} repo", body={"url": url})
            private = payload.get("private") or payload.get("visibility") == "private"
            self.store.create(repo_type, repo_id, private=bool(private))
        req._json({"url": url, "name": repo_id, "id": repo_id})

    def _delete_repo(self, req: _Handler) -> None:
        self._require_write(req)
        repo_type, repo_id = self._repo_id_from_payload(req.json_body())
        with self.lock:
            self.store.delete(repo_type, repo_id)
        req._json({})

    def _settings(self, req: _Handler, repo_type: str, repo_id: str) -> None:
        self._require_write(req)
        payload = req.json_body()
        with self.lock:
            state = self.store.load(repo_type, repo_id)
            if "private" in payload:
                state["private"] = bool(payload["private"])
            if "visibility" in payload:
                state["private"] = payload["visibility"] == "private"
            self.store.save(repo_type, repo_id, state)
        req._json({})

    def _repo_info(self, req: _Handler, repo_type: str, repo_id: str, revision: str, query: dict) -> None:
        state = self._readable_state(req, repo_type, repo_id)
        sha = self.store.resolve_revision(state, revision)
        commit = state["commits"][sha]
        with_blobs = query.get("blobs", "").lower() in ("1", "true")
        siblings = []
        for path, record in sorted(commit["files"].items()):
            sibling: dict[str, Any] = {"rfilename": path}
            if with_blobs:
                sibling.update(size=record["size"], blobId=record["oid"])
                if record["lfs"]:
                    sibling["lfs"] = {
                        "sha256": record["sha256"], "size": record["size"], "pointerSize": record["pointerSize"]
                    }
            siblings.append(sibling)
        info: dict[str, Any] = {
            "_id": hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0] if "/" in repo_id else None,
            "sha": sha,
            "lastModified": commit["date"],
            "createdAt": state["createdAt"],
            "private": bool(state.get("private")),
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(r["size"] for r in commit["files"].values()),
        }
        if repo_type == "model":
            info["modelId"] = repo_id
        req._json(info)

    def _refs(self, req: _Handler, repo_type: str, repo_id: str) -> None:
        state = self._readable_state(req, repo_type, repo_id)
        def refs(kind: str, names: dict) -> list[dict]:
            return [{"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": sha} for n, sha in sorted(names.items())]

        req._json(
            {
                "branches": refs("heads", state["refs"]),
                "converts": [],
                "tags": refs("tags", state.get("tags", {})),
                "pullRequests": [],
            }
        )

    def _list_commits(self, req: _Handler, repo_type: str, repo_id: str, revision: str) -> None:
        state = self._readable_state(req, repo_type, repo_id)
        sha: str | None = self.store.resolve_revision(state, revision)
        items = []
        while sha is not None:
            commit = state["commits"][sha]
            items.append(
                {
                    "id": sha,
                    "authors": [{"user": USER_NAME}],
                    "date": commit["date"],
                    "title": commit["title"],
                    "message": commit["message"],
                }
            )
            sha = commit["parent"]
        req._json(items)

    def _branch(self, req: _Handler, repo_type: str, repo_id: str, branch: str) -> None:
        self._require_write(req)
        with self.lock:
            state = self.store.load(repo_type, repo_id)
            if req.command == "DELETE":
                if branch not in state["refs"]:
                    raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
                if branch == "main":
                    raise HubError(403, "Cannot delete the main branch.")
                del state["refs"][branch]
            else:
                if branch in state["refs"]:
                    raise HubError(409, f"Reference already exists: refs/heads/{branch}")
                start = req.json_body().get("startingPoint") or "main"
                state["refs"][branch] = self.store.resolve_revision(state, start)
            self.store.save(repo_type, repo_id, state)
        req._json({})

    def _tag(self, req: _Handler, repo_type: str, repo_id: str, name: str) -> None:
        """POST .../tag/{revision} {"tag": name} creates a tag; DELETE .../tag/{name} removes it."""
        self._require_write(req)
        with self.lock:
            state = self.store.load(repo_type, repo_id)
            tags = state.setdefault("tags", {})
            if req.command == "DELETE":
                if name not in tags:
                    raise HubError(404, f"Invalid rev id: {name}", "RevisionNotFound")
                del tags[name]
            else:
                tag = str(req.json_body().get("tag") or "")
                if not tag:
                    raise HubError(400, "Missing tag name.")
                if tag in tags:
                    raise HubError(409, f"Tag already exists: {tag}")
                tags[tag] = self.store.resolve_revision(state, name)
            self.store.save(repo_type, repo_id, state)
        req._json({})

    def _list_repos(self, req: _Handler, repo_type: str, query: dict) -> None:
        """GET /api/{type}s?author=&search=: every stored repo, newest commit first, no pagination."""
        out = []
        with self.lock:
            for state_file in sorted((self.root / f"{repo_type}s").glob("*/*/repo.json")):
                state = json.loads(state_file.read_text())
                if state.get("private") and req.bearer_token() != self.token:
                    continue
                repo_id, sha = state["id"], state["refs"]["main"]
                if query.get("author") and repo_id.split("/")[0] != query["author"]:
                    continue
                if query.get("search") and query["search"].lower() not in repo_id.lower():
                    continue
                commit = state["commits"][sha]
                info = {"_id": hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()[:24], "id": repo_id,
                        "sha": sha, "lastModified": commit["date"], "createdAt": state["createdAt"],
                        "private": bool(state.get("private")), "downloads": 0, "likes": 0, "tags": []}  # fmt: skip
                if repo_type == "model":
                    info["modelId"] = repo_id
                out.append(info)
        out.sort(key=lambda info: info["lastModified"], reverse=True)
        limit = int(query.get("limit") or 0)
        req._json(out[:limit] if limit else out)

    # ---- reads ------------------------------------------------------------------------------
    def _snapshot(self, req: _Handler, repo_type: str, repo_id: str, revision: str) -> tuple[dict, str, dict]:
        state = self._readable_state(req, repo_type, repo_id)
        sha = self.store.resolve_revision(state, revision)
        return state, sha, state["commits"][sha]["files"]

    def _tree(self, req: _Handler, repo_type: str, repo_id: str, revision: str, folder: str, query: dict) -> None:
        state, sha, files = self._snapshot(req, repo_type, repo_id, revision)
        folder = folder.strip("/")
        if folder and not is_folder(files, folder):
            raise HubError(404, f"Entry not found: {folder}", "EntryNotFound", {"X-Repo-Commit": sha})
        recursive = query.get("recursive", "").lower() in ("1", "true")
        expand = query.get("expand", "").lower() in ("1", "true")
        entries = entries_under(files, folder, recursive)
        page_size = min(TREE_PAGE_SIZE_EXPANDED, self.tree_page_size) if expand else self.tree_page_size
        start = int(query.get("cursor") or 0)
        page = entries[start : start + page_size]
        headers = {"X-Repo-Commit": sha}
        if start + page_size < len(entries):
            base = f"{self.url}{urlsplit(req.path).path}"
            params = f"recursive={str(recursive).lower()}&expand={str(expand).lower()}&cursor={start + page_size}"
            headers["Link"] = f'<{base}?{params}>; rel="next"'
        req._json([tree_entry(state, sha, files, path, record, expand) for path, record in page], headers=headers)

    def _paths_info(self, req: _Handler, repo_type: str, repo_id: str, revision: str) -> None:
        state, sha, files = self._snapshot(req, repo_type, repo_id, revision)
        if req.headers.get("Content-Type", "").startswith("application/json"):
            payload = req.json_body()
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(req.body.decode(), keep_blank_values=True)
            paths = form.get("paths", [])
            expand = form.get("expand", ["false"])[-1].lower() in ("1", "true")
        out = []
        for path in dict.fromkeys(p.strip("/") for p in paths):
            if path in files:
                out.append(tree_entry(state, sha, files, path, files[path], expand))
            elif path and is_folder(files, path):
                out.append(tree_entry(state, sha, files, path, None, expand))
        req._json(out, headers={"X-Repo-Commit": sha})

    def _resolve(self, req: _Handler, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        state, sha, files = self._snapshot(req, repo_type, repo_id, revision)
        record = files.get(path)
        if record is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound", {"X-Repo-Commit": sha})
        data = self.store.object_path(repo_type, repo_id, record["sha256"]).read_bytes()
        etag = record["sha256"] if record["lfs"] else record["oid"]
        headers: dict[str, Any] = {"ETag": f'"{etag}"', "X-Repo-Commit": sha, "Accept-Ranges": "bytes"}
        if record["lfs"]:
            headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": record["size"]})
        status = 200
        range_header = req.headers.get("Range")
        if range_header and req.command == "GET":
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", range_header.strip())
            if not match or (not match[1] and not match[2]):
                raise HubError(416, f"Unsupported Range header {range_header!r}.")
            if match[1]:
                start, end = int(match[1]), int(match[2]) if match[2] else len(data) - 1
            else:  # suffix range: the last N bytes
                start, end = max(len(data) - int(match[2]), 0), len(data) - 1
            if start >= len(data):
                unsatisfiable = {"Content-Range": f"bytes */{len(data)}"}
                raise HubError(416, "Requested range not satisfiable.", headers=unsatisfiable)
            end = min(end, len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start : end + 1], 206
        req._send(status, data, headers, content_type="application/octet-stream")

    # ---- writes -----------------------------------------------------------------------------
    @staticmethod
    def _upload_mode(path: str, size: int, sample: bytes) -> str:
        if path.lower().endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE or b"\0" in sample:
            return "lfs"
        return "regular"

    def _preupload(self, req: _Handler, repo_type: str, repo_id: str, revision: str) -> None:
        self._require_write(req)
        state, sha, files = self._snapshot(req, repo_type, repo_id, revision)
        answer = []
        for item in req.json_body().get("files", []):
            path, size = item["path"], int(item.get("size", 0))
            sample = base64.b64decode(item.get("sample", ""))
            mode = self._upload_mode(path, size, sample)
            existing = files.get(path)
            # The client compares this oid with its own: sha256 for LFS, git sha1 for regular.
            oid = None if existing is None else (existing["sha256"] if mode == "lfs" else existing["oid"])
            answer.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        req._json({"files": answer, "commitOid": sha})

    def _lfs_batch(self, req: _Handler, repo_type: str, repo_id: str) -> None:
        self._require_write(req)
        self._readable_state(req, repo_type, repo_id)
        payload = req.json_body()
        if payload.get("operation") != "upload":
            raise HubError(400, "Only the LFS 'upload' operation is served by the local hub.")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = str(obj["oid"]), int(obj["size"])
            answer: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if not re.fullmatch(r"[0-9a-f]{64}", oid):
                answer["error"] = {"code": 422, "message": f"Invalid oid {oid}"}
            elif not self.store.has_object(repo_type, repo_id, oid):
                href = f"{self.url}/_lfs/{repo_type}s/{quote(repo_id)}/{oid}?size={size}"
                answer["actions"] = {"upload": {"href": href, "header": {}, "expires_in": 3600}}
            objects.append(answer)
        batch = {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}
        req._json(batch, content_type="application/vnd.git-lfs+json")

    def _lfs_put(self, req: _Handler, segments: list[str]) -> None:
        # /_lfs/{type}s/{ns}/{name}/{oid}: the pre-signed storage URL handed out by the batch call.
        if req.command != "PUT" or len(segments) < 3 or segments[0] not in ("models", "datasets", "spaces"):
            raise HubError(404, f"Unknown endpoint {req.command} {req.path} on the local hub.")
        repo_type, repo_id, oid = segments[0][:-1], "/".join(segments[1:-1]), segments[-1]
        if hashlib.sha256(req.body).hexdigest() != oid:
            raise HubError(400, f"Uploaded content does not match LFS oid {oid}.")
        with self.lock:
            self.store.load(repo_type, repo_id)
            self.store.put_object(repo_type, repo_id, req.body)
        req._send(200, b"", {"ETag": f'"{oid}"'})

    def _commit(self, req: _Handler, repo_type: str, repo_id: str, revision: str, query: dict) -> None:
        self._require_write(req)
        if query.get("create_pr") in ("1", "true"):
            raise HubError(400, "Pull requests (create_pr) are not served by the local hub.")
        lines = [json.loads(line) for line in req.body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "Commit payload must start with a header line.")
        header = lines[0]["value"]
        with self.lock:
            state = self.store.load(repo_type, repo_id)
            if revision not in state["refs"]:
                # Commits go to branches only; a sha or unknown name is not a writable revision.
                raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            parent = state["refs"][revision]
            if header.get("parentCommit") and not parent.startswith(header["parentCommit"]):
                raise HubError(412, f"A commit has happened since. Parent commit is {parent}.")
            files = dict(state["commits"][parent]["files"])
            for line in lines[1:]:
                key, value = line.get("key"), line.get("value", {})
                path = str(value.get("path", "")).strip("/")
                if not path or ".." in path.split("/"):
                    raise HubError(400, f"Invalid path in commit: {path!r}")
                if key == "file":
                    if value.get("encoding", "base64") != "base64":
                        raise HubError(400, f"Unsupported encoding {value.get('encoding')!r}.")
                    data = base64.b64decode(value["content"])
                    self.store.put_object(repo_type, repo_id, data)
                    files[path] = self.store.regular_record(data)
                elif key == "lfsFile":
                    oid = value["oid"]
                    if not self.store.has_object(repo_type, repo_id, oid):
                        raise HubError(400, f"LFS object {oid} for {path} was never uploaded.")
                    size = self.store.object_path(repo_type, repo_id, oid).stat().st_size
                    files[path] = self.store.lfs_record(oid, size)
                elif key == "deletedFile":
                    if path not in files:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                    del files[path]
                elif key == "deletedFolder":
                    doomed = [p for p in files if p.startswith(path + "/")]
                    if not doomed:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                    for p in doomed:
                        del files[p]
                else:
                    raise HubError(400, f"Unknown commit operation {key!r}.")
            sha = self.store.add_commit(state, parent, files, header.get("summary", ""), header.get("description", ""))
            state["refs"][revision] = sha
            self.store.save(repo_type, repo_id, state)
        commit_url = f"{self._repo_url(repo_type, repo_id)}/commit/{sha}"
        req._json({"success": True, "commitOid": sha, "commitUrl": commit_url, "pullRequestUrl": None})


def local_hub_fixture(tmp_path_factory: Any) -> Any:
    """Generator body for a pytest fixture: ``yield from local_hub_fixture(tmp_path_factory)``."""
    with LocalHub(tmp_path_factory.mktemp("local_hub")) as hub:
        yield hub


def run_python(
    code: str, env: dict[str, str], timeout: float = 120, cwd: str | Path | None = None
) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with `env` (in `cwd`); raise with its stdout/stderr if it fails.

    Pass a `cwd` without folders named like repo ids: transformers and datasets load a local
    folder `ns/name` instead of the Hub repo `ns/name`.
    """
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd
        )
    except subprocess.TimeoutExpired as err:
        raise AssertionError(
            f"python subprocess timed out after {timeout}s\n--- stdout ---\n{err.stdout}\n--- stderr ---\n{err.stderr}"
        ) from err
    if proc.returncode != 0:
        raise AssertionError(
            f"python subprocess failed (exit {proc.returncode})\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    return proc
