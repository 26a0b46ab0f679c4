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
import math
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from freq_unlearn.core.run_record import RUN_RECORD_FAILED_STATUSES, RUN_RECORD_FILE, RUN_RECORD_SCHEMA
from freq_unlearn.core.schema import FORGET_SPLITS

SUBMISSION_SCHEMA = "freq_unlearn.submission/2"
# /1 was one forget split per submission; its results are not comparable with the protocol's
OLD_SUBMISSION_SCHEMAS = ("freq_unlearn.submission/1",)
FORGET_TARGETS = FORGET_SPLITS  # each targeted by one run (or more: seeds)

MAX_METHOD_CHARS = 120
MAX_SHORT_TEXT = 200  # base_model, submitter, revision, a run record's forget_split
MAX_NOTES_CHARS = 2000
MAX_PATH_CHARS = 4096
MAX_METADATA_BYTES = 1_000_000

# field -> (required, accepted types, help). Unknown fields are refused so typos surface.
METADATA_FIELDS: dict[str, tuple[bool, tuple[type, ...], str]] = {
    "schema": (True, (str,), f"must be {SUBMISSION_SCHEMA!r}"),
    "method": (True, (str,), "the unlearning method's display name"),
    "base_model": (True, (str,), "Hub id or path of the model that was unlearned"),
    "hyperparameters": (True, (dict,), "the method's settings (JSON object, may be empty)"),
    "checkpoints": (True, (list,), "[{'path': folder or Hub id, 'target': 'forget_low'|'forget_medium'|'forget_high',"
                                   " 'seed': int, 'revision'?: str}], every target at least once"),
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
    target: str  # the forget split this run unlearned (one of FORGET_TARGETS)
    revision: str | None = None

    @property
    def run(self) -> tuple[str, int]:
        return self.target, self.seed


@dataclass
class Submission:
    method: str
    base_model: str
    hyperparameters: dict[str, Any]
    checkpoints: list[CheckpointRef]
    compute: dict[str, Any] = field(default_factory=dict)
    code_url: str | None = None
    submitter: str | None = None
    notes: str | None = None
    source: str = "metadata"  # "metadata" or "run_record"

    @property
    def seeds(self) -> list[int]:
        return sorted({c.seed for c in self.checkpoints})

    @property
    def runs(self) -> list[tuple[str, int]]:
        return sorted(c.run for c in self.checkpoints)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["schema"] = SUBMISSION_SCHEMA
        return out

    def identity(self, checkpoint_hashes: dict[tuple[str, int], str]) -> dict[str, Any]:
        """What makes two submissions the same: checkpoint contents + scientific metadata.

        Paths, revisions and free text are left out: the same weights submitted from
        another folder are still a duplicate.
        """
        return {
            "method": self.method,
            "base_model": self.base_model,
            "hyperparameters": self.hyperparameters,
            "checkpoints": sorted((target, seed, checkpoint_hashes[(target, seed)]) for target, seed in self.runs),
        }


def submission_id(identity: dict[str, Any]) -> str:
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_text(text: str, where: str) -> dict[str, Any]:
    """Strict JSON: no NaN/Infinity, no lone surrogates, bounded nesting; one-line errors."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise SubmissionError(f"{where}: line {err.lineno}: invalid JSON: {err.msg}") from None
    except ValueError as err:  # parse_constant
        raise SubmissionError(f"{where}: invalid JSON: {err}") from None
    except RecursionError:
        raise SubmissionError(f"{where}: invalid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise SubmissionError(f"{where}: top level must be a JSON object")
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as err:
        raise SubmissionError(f"{where}: text holds a lone surrogate ({err.object[err.start:err.end]!a}), not valid Unicode") from None
    except RecursionError:
        raise SubmissionError(f"{where}: invalid JSON: nested too deeply") from None
    return data


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SubmissionError(f"{path}: file not found")
    if path.stat().st_size > MAX_METADATA_BYTES:
        raise SubmissionError(f"{path}: larger than {MAX_METADATA_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SubmissionError(f"{path}: not UTF-8 text ({err.reason})") from None
    return parse_json_text(text, str(path))


# Characters never accepted in displayed text: controls (newlines included: a newline injects a
# table row), format characters (zero-width, bidi overrides: "ga\u200b" displays as "ga"),
# line/paragraph separators, surrogates, private-use and unassigned code points.
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def check_text(where: str, name: str, value: Any, max_chars: int) -> str:
    """A one-line free-text field: a string without hidden characters, at most ``max_chars``."""
    if not isinstance(value, str):
        raise SubmissionError(f"{where}: field {name!r}: must be a string")
    if len(value) > max_chars:
        raise SubmissionError(f"{where}: field {name!r}: longer than {max_chars} characters")
    for ch in value:
        if unicodedata.category(ch) in _HIDDEN_CATEGORIES:
            raise SubmissionError(
                f"{where}: field {name!r}: contains the invisible or control character U+{ord(ch):04X}"
                f" ({unicodedata.name(ch, 'unnamed')})"
            )
    return unicodedata.normalize("NFC", value.strip())


def _check_method(where: str, method: Any) -> str:
    if not isinstance(method, str) or not method.strip():
        raise SubmissionError(f"{where}: field 'method': must be a non-empty string")
    return check_text(where, "method", method, MAX_METHOD_CHARS)


def _check_seed(where: str, seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SubmissionError(f"{where}: field 'seed': must be an integer, got {seed!r}")
    return seed


def check_schema(where: str, schema: str) -> None:
    if schema in OLD_SUBMISSION_SCHEMAS:
        raise SubmissionError(
            f"{where}: field 'schema': {schema!r} (one forget split per submission) is no longer accepted;"
            f" use {SUBMISSION_SCHEMA!r}: the method run on each of {', '.join(FORGET_TARGETS)} (checkpoints[].target)"
        )
    if schema != SUBMISSION_SCHEMA:
        raise SubmissionError(f"{where}: field 'schema': expected {SUBMISSION_SCHEMA!r}, got {schema!r}")


def check_target(where: str, target: Any, name: str = "target") -> str:
    if target not in FORGET_TARGETS:
        raise SubmissionError(f"{where}: field {name!r}: must be one of {', '.join(FORGET_TARGETS)}, got {target!r}")
    return str(target)


def check_runs(where: str, refs: list[CheckpointRef]) -> None:
    """Every forget stratum targeted by at least one run; (target, seed) pairs distinct."""
    runs = [r.run for r in refs]
    if len(set(runs)) != len(runs):
        twice = next(r for r in runs if runs.count(r) > 1)
        raise SubmissionError(f"{where}: two checkpoints for target {twice[0]} and seed {twice[1]}: one per (target, seed)")
    for target in FORGET_TARGETS:
        if not any(r.target == target for r in refs):
            raise SubmissionError(
                f"{where}: no checkpoint targets {target}: a submission is the method run on each of"
                f" {', '.join(FORGET_TARGETS)} (one or more seeds each)"
            )


def _parse_checkpoint(at: str, entry: Any, relative_to: Path | None) -> CheckpointRef:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
        raise SubmissionError(f"{at}: must be an object with a non-empty 'path'")
    extra = sorted(set(entry) - {"path", "seed", "target", "revision"})
    if extra:
        raise SubmissionError(f"{at}: unknown field {extra[0]!r}")
    seed = _check_seed(at, entry.get("seed"))
    target = check_target(at, entry.get("target"))
    check_text(at, "path", entry["path"], MAX_PATH_CHARS)
    if entry.get("revision") is not None:
        check_text(at, "revision", entry["revision"], MAX_SHORT_TEXT)
    path = entry["path"]
    # A relative path that exists next to the metadata file is a local folder; anything
    # else that is not a folder is treated as a Hub id later.
    if relative_to is not None and not Path(path).is_absolute() and (relative_to / path).exists():
        path = str((relative_to / path).resolve())
    return CheckpointRef(path=path, seed=seed, target=target, revision=entry.get("revision"))


def parse_metadata(data: dict[str, Any], where: str, relative_to: Path | None = None) -> Submission:
    """Validate a ``freq_unlearn.submission/1`` object; relative checkpoint paths resolve
    against ``relative_to`` (the metadata file's folder)."""
    if isinstance(data.get("schema"), str):  # first: an old format has other fields, say so rather than those
        check_schema(where, data["schema"])
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
    check_schema(where, data["schema"])
    method = _check_method(where, data["method"])
    if not data["base_model"].strip():
        raise SubmissionError(f"{where}: field 'base_model': must not be empty")
    check_text(where, "base_model", data["base_model"], MAX_SHORT_TEXT)
    for name, limit in (("submitter", MAX_SHORT_TEXT), ("notes", MAX_NOTES_CHARS)):
        if data.get(name) is not None:
            data = {**data, name: check_text(where, name, data[name], limit)}
    refs = [_parse_checkpoint(f"{where}: checkpoints[{i}]", entry, relative_to)
            for i, entry in enumerate(data["checkpoints"])]
    check_runs(where, refs)
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
        check_text(str(path), name, record[name], MAX_SHORT_TEXT)
    check_evaluations(str(path), record.get("evaluations"))
    status = str(record.get("status", "completed")).lower()
    if status in RUN_RECORD_FAILED_STATUSES:
        raise SubmissionError(f"{path}: field 'status' is {record['status']!r}: only finished runs can be submitted")
    return record


MAX_EVALUATIONS = 10_000  # per run record: per-step evaluations kept in the result (the curves)
MAX_EVAL_METRICS = 32  # metric names per part (forget / retain) of one evaluation


def check_evaluations(where: str, value: Any) -> list[dict[str, Any]]:
    """A run record's ``evaluations`` (``core.run_record.Evaluation``: ``{"step", "forget", "retain"}``)
    as the result keeps them: steps integers >= 0, metric names one-line text, values numbers or null.
    They are the submitter's own measurements, shown as such (the leaderboard verifies final
    checkpoints only); a malformed list is refused in one line like any other field."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise SubmissionError(f"{where}: field 'evaluations': must be a list")
    if len(value) > MAX_EVALUATIONS:
        raise SubmissionError(f"{where}: field 'evaluations': more than {MAX_EVALUATIONS} entries")
    out = []
    for i, entry in enumerate(value):
        at = f"evaluations[{i}]"
        if not isinstance(entry, dict) or set(entry) - {"step", "forget", "retain"}:
            raise SubmissionError(f"{where}: field {at!r}: must be an object with step, forget and retain")
        step = entry.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise SubmissionError(f"{where}: field '{at}.step': must be an integer >= 0, got {step!r}")
        kept: dict[str, Any] = {"step": step}
        for part in ("forget", "retain"):
            metrics = entry.get(part, {})
            if not isinstance(metrics, dict) or len(metrics) > MAX_EVAL_METRICS:
                raise SubmissionError(f"{where}: field '{at}.{part}': must map at most {MAX_EVAL_METRICS} metric names to numbers")
            values = {}
            for name, v in metrics.items():
                name = check_text(where, f"{at}.{part} metric name", name, MAX_SHORT_TEXT)
                values[name] = None if v is None else _finite_number(where, f"{at}.{part}.{name}", v)
            kept[part] = values
        out.append(kept)
    return out


def run_record_evaluations(checkpoint_dir: Path, target: str, seed: int) -> list[dict[str, Any]] | None:
    """The evaluations of the run record in ``checkpoint_dir`` when it records this run (its
    ``forget_split`` and ``seed``), else None (no record, or one of another run)."""
    path = checkpoint_dir / RUN_RECORD_FILE
    if not path.is_file():
        return None
    record = _read_json(path)
    if record.get("schema") != RUN_RECORD_SCHEMA or record.get("forget_split") != target or record.get("seed") != seed:
        return None
    return check_evaluations(str(path), record.get("evaluations"))


def _finite_number(where: str, name: str, v: Any) -> float:
    try:
        ok = not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(float(v))
    except OverflowError:
        ok = False
    if not ok:
        raise SubmissionError(f"{where}: field {name!r}: must be a finite number or null, got {str(v)[:40]}")
    return float(v)


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
        for name in ("method", "base_model", "hyperparameters"):
            if record[name] != first[name]:
                raise SubmissionError(
                    f"{folder / RUN_RECORD_FILE}: field {name!r} differs from {first_dir / RUN_RECORD_FILE}:"
                    " one submission is one method and setting, run on each forget stratum"
                )
    refs = [CheckpointRef(path=str(folder.resolve()), seed=r["seed"],
                          target=check_target(str(folder / RUN_RECORD_FILE), r["forget_split"], "forget_split")) for folder, r in records]
    check_runs("run records", refs)
    computes = [_compute_from_record(r) for _, r in records]
    compute = {
        "device": computes[0]["device"],
        "gpu_hours": round(sum(c["gpu_hours"] for c in computes), 6),
        "wall_time_s": sum(c["wall_time_s"] or 0.0 for c in computes),
    }
    return Submission(
        method=first["method"].strip(),
        base_model=first["base_model"],
        hyperparameters=first["hyperparameters"],
        checkpoints=refs,
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
