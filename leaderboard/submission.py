"""What a submission is: metadata (validated against a schema) plus one checkpoint per seed.

Two ways in:

* a metadata JSON file (schema ``freq_unlearn.submission/1``, fields in ``METADATA_FIELDS``)
  listing its checkpoints;
* one or more checkpoint folders holding the ``run_record.json`` that ``freq-unlearn
  unlearn`` writes (schema ``freq_unlearn.run_record/1``), accepted as is. Several records
  of the same method, base model, forget split and hyperparameters with different seeds
  become one submission with one checkpoint per seed.

The run record is read as a file, by schema: the leaderboard never imports unlearn_methods.
Every error is a ``SubmissionError`` whose text is one line naming the file and field.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from freq_unlearn.core.run_record import RUN_RECORD_FAILED_STATUSES, RUN_RECORD_FILE, RUN_RECORD_SCHEMA

SUBMISSION_SCHEMA = "freq_unlearn.submission/1"

MAX_METHOD_CHARS = 120
MAX_METADATA_BYTES = 1_000_000

# field -> (required, accepted types, help). Unknown fields are refused so typos surface.
METADATA_FIELDS: dict[str, tuple[bool, tuple[type, ...], str]] = {
    "schema": (True, (str,), f"must be {SUBMISSION_SCHEMA!r}"),
    "method": (True, (str,), "the unlearning method's display name"),
    "base_model": (True, (str,), "Hub id or path of the model that was unlearned"),
    "forget_split": (True, (str,), "the benchmark split(s) that were unlearned"),
    "hyperparameters": (True, (dict,), "the method's settings (JSON object, may be empty)"),
    "checkpoints": (True, (list,), "[{'path': folder or Hub id, 'seed': int, 'revision'?: str}]"),
    "compute": (False, (dict,), "{'device': str, 'gpu_hours': float, 'wall_time_s'?: float}"),
    "code_url": (False, (str,), "http(s) link to the code"),
    "submitter": (False, (str,), "who submits"),
    "notes": (False, (str,), "free text"),
}


class SubmissionError(ValueError):
    """Malformed metadata or run record: the message is one line naming file and field."""


@dataclass(frozen=True)
class CheckpointRef:
    path: str  # local folder or Hub id
    seed: int
    revision: str | None = None


@dataclass
class Submission:
    method: str
    base_model: str
    forget_split: str
    hyperparameters: dict[str, Any]
    checkpoints: list[CheckpointRef]
    compute: dict[str, Any] = field(default_factory=dict)
    code_url: str | None = None
    submitter: str | None = None
    notes: str | None = None
    source: str = "metadata"  # "metadata" or "run_record"

    @property
    def seeds(self) -> list[int]:
        return [c.seed for c in self.checkpoints]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["schema"] = SUBMISSION_SCHEMA
        return out

    def identity(self, checkpoint_hashes: dict[int, str]) -> dict[str, Any]:
        """What makes two submissions the same: checkpoint contents + scientific metadata.

        Paths, revisions and free text are left out: the same weights submitted from
        another folder are still a duplicate.
        """
        return {
            "method": self.method,
            "base_model": self.base_model,
            "forget_split": self.forget_split,
            "hyperparameters": self.hyperparameters,
            "checkpoints": sorted(
                (seed, checkpoint_hashes[seed]) for seed in self.seeds
            ),
        }


def submission_id(identity: dict[str, Any]) -> str:
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SubmissionError(f"{path}: file not found")
    if path.stat().st_size > MAX_METADATA_BYTES:
        raise SubmissionError(f"{path}: larger than {MAX_METADATA_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise SubmissionError(f"{path}: not UTF-8 text ({err.reason})") from None
    except json.JSONDecodeError as err:
        raise SubmissionError(f"{path}: line {err.lineno}: invalid JSON: {err.msg}") from None
    if not isinstance(data, dict):
        raise SubmissionError(f"{path}: top level must be a JSON object")
    return data


def _check_method(where: str, method: Any) -> str:
    if not isinstance(method, str) or not method.strip():
        raise SubmissionError(f"{where}: field 'method': must be a non-empty string")
    if len(method) > MAX_METHOD_CHARS:
        raise SubmissionError(f"{where}: field 'method': longer than {MAX_METHOD_CHARS} characters")
    if any(ord(ch) < 32 for ch in method):
        raise SubmissionError(f"{where}: field 'method': contains control characters")
    return method.strip()


def _check_seed(where: str, seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SubmissionError(f"{where}: field 'seed': must be an integer, got {seed!r}")
    return seed


def parse_metadata(data: dict[str, Any], where: str, relative_to: Path | None = None) -> Submission:
    """Validate a ``freq_unlearn.submission/1`` object; relative checkpoint paths resolve
    against ``relative_to`` (the metadata file's folder)."""
    unknown = sorted(set(data) - set(METADATA_FIELDS))
    if unknown:
        raise SubmissionError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(METADATA_FIELDS)})")
    for name, (required, types, help_text) in METADATA_FIELDS.items():
        if name not in data:
            if required:
                raise SubmissionError(f"{where}: missing field {name!r} ({help_text})")
            continue
        if not isinstance(data[name], types):
            raise SubmissionError(
                f"{where}: field {name!r}: expected {types[0].__name__}, got {type(data[name]).__name__}"
            )
    if data["schema"] != SUBMISSION_SCHEMA:
        raise SubmissionError(f"{where}: field 'schema': expected {SUBMISSION_SCHEMA!r}, got {data['schema']!r}")
    method = _check_method(where, data["method"])
    for name in ("base_model", "forget_split"):
        if not data[name].strip():
            raise SubmissionError(f"{where}: field {name!r}: must not be empty")
    if not data["checkpoints"]:
        raise SubmissionError(f"{where}: field 'checkpoints': needs at least one checkpoint")
    refs: list[CheckpointRef] = []
    for i, entry in enumerate(data["checkpoints"]):
        at = f"{where}: checkpoints[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
            raise SubmissionError(f"{at}: must be an object with a non-empty 'path'")
        extra = sorted(set(entry) - {"path", "seed", "revision"})
        if extra:
            raise SubmissionError(f"{at}: unknown field {extra[0]!r}")
        seed = _check_seed(at, entry.get("seed"))
        if entry.get("revision") is not None and not isinstance(entry["revision"], str):
            raise SubmissionError(f"{at}: field 'revision': must be a string")
        path = entry["path"]
        # A relative path that exists next to the metadata file is a local folder; anything
        # else that is not a folder is treated as a Hub id later.
        if relative_to is not None and not Path(path).is_absolute() and (relative_to / path).exists():
            path = str((relative_to / path).resolve())
        refs.append(CheckpointRef(path=path, seed=seed, revision=entry.get("revision")))
    seeds = [r.seed for r in refs]
    if len(set(seeds)) != len(seeds):
        raise SubmissionError(f"{where}: field 'checkpoints': seeds must differ, got {seeds}")
    compute = data.get("compute", {})
    gpu_hours = compute.get("gpu_hours", 0.0)
    if isinstance(gpu_hours, bool) or not isinstance(gpu_hours, (int, float)) or gpu_hours < 0:
        raise SubmissionError(f"{where}: field 'compute.gpu_hours': must be a number >= 0")
    code_url = data.get("code_url")
    if code_url is not None and not re.match(r"^https?://[^\s<>\"']+$", code_url):
        raise SubmissionError(f"{where}: field 'code_url': must be an http(s) URL without spaces or quotes")
    return Submission(
        method=method,
        base_model=data["base_model"].strip(),
        forget_split=data["forget_split"].strip(),
        hyperparameters=data["hyperparameters"],
        checkpoints=refs,
        compute=compute,
        code_url=code_url,
        submitter=data.get("submitter"),
        notes=data.get("notes"),
        source="metadata",
    )


def load_metadata_file(path: Path) -> Submission:
    return parse_metadata(_read_json(path), str(path), relative_to=path.parent)


# The run record fields the leaderboard relies on (the rest is kept but not required).
RUN_RECORD_REQUIRED = ("schema", "method", "base_model", "forget_split", "hyperparameters", "seed")


def read_run_record(checkpoint_dir: Path) -> dict[str, Any]:
    path = checkpoint_dir / RUN_RECORD_FILE
    record = _read_json(path)
    for name in RUN_RECORD_REQUIRED:
        if name not in record:
            raise SubmissionError(f"{path}: missing field {name!r}")
    if record["schema"] != RUN_RECORD_SCHEMA:
        raise SubmissionError(f"{path}: field 'schema': expected {RUN_RECORD_SCHEMA!r}, got {record['schema']!r}")
    _check_method(str(path), record["method"])
    _check_seed(str(path), record["seed"])
    if not isinstance(record["hyperparameters"], dict):
        raise SubmissionError(f"{path}: field 'hyperparameters': expected object")
    for name in ("base_model", "forget_split"):
        if not isinstance(record[name], str) or not record[name]:
            raise SubmissionError(f"{path}: field {name!r}: must be a non-empty string")
    status = str(record.get("status", "completed")).lower()
    if status in RUN_RECORD_FAILED_STATUSES:
        raise SubmissionError(f"{path}: field 'status' is {record['status']!r}: only finished runs can be submitted")
    return record


def _compute_from_record(record: dict[str, Any]) -> dict[str, Any]:
    device = str(record.get("device", "unknown"))
    wall = record.get("wall_time_s")
    wall = float(wall) if isinstance(wall, (int, float)) and not isinstance(wall, bool) else None
    on_gpu = device.startswith("cuda") or device.startswith("gpu")
    return {
        "device": device,
        "wall_time_s": wall,
        "gpu_hours": round(wall / 3600.0, 6) if (wall is not None and on_gpu) else 0.0,
    }


def from_run_records(checkpoint_dirs: list[Path]) -> Submission:
    """One submission from the run records of one or more checkpoints (one per seed)."""
    if not checkpoint_dirs:
        raise SubmissionError("no checkpoint given")
    records: list[tuple[Path, dict[str, Any]]] = []
    for folder in checkpoint_dirs:
        if not folder.is_dir():
            raise SubmissionError(f"{folder}: checkpoint folder not found")
        records.append((folder, read_run_record(folder)))
    first_dir, first = records[0]
    for folder, record in records[1:]:
        for name in ("method", "base_model", "forget_split", "hyperparameters"):
            if record[name] != first[name]:
                raise SubmissionError(
                    f"{folder / RUN_RECORD_FILE}: field {name!r} differs from {first_dir / RUN_RECORD_FILE}:"
                    " one submission is one method and setting over several seeds"
                )
    seeds = [r["seed"] for _, r in records]
    if len(set(seeds)) != len(seeds):
        raise SubmissionError(f"run records share a seed ({seeds}): one checkpoint per seed")
    computes = [_compute_from_record(r) for _, r in records]
    compute = {
        "device": computes[0]["device"],
        "gpu_hours": round(sum(c["gpu_hours"] for c in computes), 6),
        "wall_time_s": sum(c["wall_time_s"] or 0.0 for c in computes),
    }
    return Submission(
        method=first["method"].strip(),
        base_model=first["base_model"],
        forget_split=first["forget_split"],
        hyperparameters=first["hyperparameters"],
        checkpoints=[CheckpointRef(path=str(folder.resolve()), seed=r["seed"]) for folder, r in records],
        compute=compute,
        code_url=None,
        submitter=None,
        notes=f"library_version={first.get('library_version')}" if first.get("library_version") else None,
        source="run_record",
    )


def load_submission(paths: list[Path], metadata: Path | None = None) -> Submission:
    """The CLI's entry: a metadata file, or checkpoint folders with run records."""
    if metadata is not None:
        if paths:
            raise SubmissionError("give either --metadata FILE or checkpoint folders, not both")
        return load_metadata_file(metadata)
    if len(paths) == 1 and paths[0].suffix == ".json":
        return load_metadata_file(paths[0])
    return from_run_records(paths)
