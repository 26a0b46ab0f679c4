"""The run record: one JSON file per unlearning run, written by `unlearn` and read by the leaderboard.

This is the one definition of the schema: ``freq_unlearn.unlearn_methods`` writes records with
`RunRecord.save`, and the leaderboard reads them by these names (``RUN_RECORD_SCHEMA``,
``RUN_RECORD_FILE``, the statuses), never by importing the unlearning part.

The file is ``DIR/run_record.json``, written atomically (temp name, then rename) so a reader never
sees half a record. It is standard JSON: a non-finite number (a NaN loss) is stored as ``null``.
`RunRecord.validate` raises one line naming the bad field.

Statuses (``status`` is one word; ``status_reason`` says why when it is not "completed"):
  completed  every planned step ran and the final weights passed the end-of-run check;
  stopped    the guard stopped the run before applying a bad update; the checkpoint holds the
             weights of the last step, and they passed the end-of-run check;
  failed     the final weights are unusable (non-finite parameters, a non-finite or diverged loss
             or in-run evaluation after the last step): never submit it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import UserError
from .fsutil import atomic_write_text

RUN_RECORD_SCHEMA = "freq_unlearn.run_record/1"
SCHEMA = RUN_RECORD_SCHEMA
RUN_RECORD_FILE = "run_record.json"

STATUS_COMPLETED = "completed"
STATUS_STOPPED = "stopped"
STATUS_FAILED = "failed"
STATUSES = (STATUS_COMPLETED, STATUS_STOPPED, STATUS_FAILED)
SUBMITTABLE_STATUSES = frozenset({STATUS_COMPLETED, STATUS_STOPPED})
# What the leaderboard refuses (it compares the lower-cased status with this set).
RUN_RECORD_FAILED_STATUSES = frozenset(STATUSES) - SUBMITTABLE_STATUSES


class RunRecordError(UserError, ValueError):
    """A run record that does not follow the schema; the message names the field."""


@dataclass
class StepLog:
    """Training losses logged at one optimizer step (None: absent, or non-finite when logged)."""

    step: int
    loss: float | None
    forget_loss: float | None = None
    retain_loss: float | None = None


@dataclass
class Evaluation:
    """Forget/retain metrics at one step: keys like ``answer_nll``, ``answer_prob``, ``exact_contains``
    (a value is None when it was non-finite)."""

    step: int
    forget: dict[str, float | None] = field(default_factory=dict)
    retain: dict[str, float | None] = field(default_factory=dict)


@dataclass
class RunRecord:
    """What an unlearning run did and measured. Field meanings:

    forget_count_range: [min, max] pre-training count of the forget split's facts.
    hyperparameters: the method's config fields that differ from TrainingArguments' own (the
        forget data format ``forget_format`` among them), plus learning rate, batch size, steps.
    status / status_reason: see the module docstring; the reason is None for "completed".
    hub_id: the Hub repo the checkpoint was pushed to, or None.
    """

    method: str
    base_model: str
    benchmark: str
    forget_split: str
    retain_split: str | None
    forget_count_range: list[int]
    hyperparameters: dict[str, Any]
    seed: int
    lora: bool
    device: str
    wall_time_s: float
    library_version: str
    steps: list[StepLog] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    status: str = STATUS_COMPLETED
    status_reason: str | None = None
    hub_id: str | None = None
    schema: str = SCHEMA

    @property
    def submittable(self) -> bool:
        return self.status in SUBMITTABLE_STATUSES

    # ---- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = {"schema": self.schema, **{k: v for k, v in asdict(self).items() if k != "schema"}}
        return json_safe(data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        if not isinstance(data, dict):
            raise RunRecordError("run record: top level must be a JSON object")
        data = _split_legacy_status(data)
        known = {f.name for f in fields(cls)}
        missing = sorted(known - set(data) - {"steps", "evaluations", "status", "status_reason", "hub_id"})
        if missing:
            raise RunRecordError(f"run record: missing field '{missing[0]}'")
        unknown = sorted(set(data) - known)
        if unknown:
            raise RunRecordError(f"run record: unknown field '{unknown[0]}'")
        values = dict(data)
        try:
            values["steps"] = [StepLog(**s) for s in data.get("steps", [])]
            values["evaluations"] = [Evaluation(**e) for e in data.get("evaluations", [])]
        except TypeError as err:
            raise RunRecordError(f"run record: bad entry in steps/evaluations ({err})") from None
        record = cls(**values)
        record.validate()
        return record

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise RunRecordError(f"run record: invalid JSON at line {err.lineno}: {err.msg}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike) -> RunRecord:
        path = Path(path)
        if path.is_dir():
            path = path / RUN_RECORD_FILE
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except RunRecordError as err:
            raise RunRecordError(f"{path}: {err}") from None

    def save(self, path: str | os.PathLike) -> Path:
        """Validate, then write atomically; `path` may be the run folder or the file."""
        self.validate()
        path = Path(path)
        if path.is_dir():
            path = path / RUN_RECORD_FILE
        atomic_write_text(path, self.to_json() + "\n")
        return path

    # ---- validation ----------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise `RunRecordError` with one line naming the first field that breaks the schema."""
        need(self.schema == SCHEMA, "schema", f"must be {SCHEMA!r}, got {self.schema!r}")
        for name in ("method", "base_model", "benchmark", "forget_split", "device", "library_version"):
            need(isinstance(getattr(self, name), str) and getattr(self, name) != "", name, "must be a non-empty string")
        need(self.retain_split is None or isinstance(self.retain_split, str), "retain_split", "must be a string or null")
        rng = self.forget_count_range
        need(
            isinstance(rng, list) and len(rng) == 2 and all(_is_int(c) for c in rng) and rng[0] <= rng[1],
            "forget_count_range",
            "must be [min, max] integers with min <= max",
        )
        need(isinstance(self.hyperparameters, dict), "hyperparameters", "must be an object")
        need(_is_int(self.seed), "seed", "must be an integer")
        need(isinstance(self.lora, bool), "lora", "must be true or false")
        need(_is_number(self.wall_time_s) and self.wall_time_s >= 0, "wall_time_s", "must be a number >= 0")
        _validate_steps(self.steps)
        _validate_evaluations(self.evaluations)
        need(self.status in STATUSES, "status", f"must be one of {', '.join(STATUSES)}; got {self.status!r}")
        if self.status == STATUS_COMPLETED:
            need(self.status_reason is None, "status_reason", "must be null when the status is 'completed'")
        else:
            need(isinstance(self.status_reason, str) and self.status_reason != "", "status_reason",
                 f"must say why the run is {self.status!r}")  # fmt: skip
        need(self.hub_id is None or isinstance(self.hub_id, str), "hub_id", "must be a string or null")


def need(ok: bool, name: str, what: str) -> None:
    if not ok:
        raise RunRecordError(f"run record: field '{name}' {what}")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any, allow_none: bool = False) -> bool:
    if x is None:
        return allow_none
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _validate_steps(steps: Any) -> None:
    need(isinstance(steps, list), "steps", "must be a list")
    for i, s in enumerate(steps):
        need(isinstance(s, StepLog), f"steps[{i}]", "must be a step entry")
        need(_is_int(s.step) and s.step >= 0, f"steps[{i}].step", "must be an integer >= 0")
        for name in ("loss", "forget_loss", "retain_loss"):
            need(_is_number(getattr(s, name), True), f"steps[{i}].{name}", "must be a number or null")


def _validate_evaluations(evaluations: Any) -> None:
    need(isinstance(evaluations, list), "evaluations", "must be a list")
    for i, e in enumerate(evaluations):
        need(isinstance(e, Evaluation), f"evaluations[{i}]", "must be an evaluation entry")
        need(_is_int(e.step) and e.step >= 0, f"evaluations[{i}].step", "must be an integer >= 0")
        for part in ("forget", "retain"):
            metrics = getattr(e, part)
            need(
                isinstance(metrics, dict) and all(isinstance(k, str) and _is_number(v, True) for k, v in metrics.items()),
                f"evaluations[{i}].{part}",
                "must map metric names to numbers (or null)",
            )


def json_safe_number(value: float | None) -> float | None:
    """JSON has no NaN/inf: a non-finite number is stored as null."""
    return value if value is None or math.isfinite(value) else None


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float (at any depth of dicts/lists) replaced by None."""
    if isinstance(value, float):
        return json_safe_number(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _split_legacy_status(data: dict[str, Any]) -> dict[str, Any]:
    """Records written before status_reason existed kept the reason in the status ("stopped: <reason>")."""
    status = data.get("status")
    if "status_reason" in data or not isinstance(status, str) or ": " not in status:
        return data
    word, _, reason = status.partition(": ")
    return dict(data, status=word, status_reason=reason) if word in STATUSES else data


__all__ = [
    "RUN_RECORD_FAILED_STATUSES", "RUN_RECORD_FILE", "RUN_RECORD_SCHEMA", "SCHEMA", "STATUSES",
    "STATUS_COMPLETED", "STATUS_FAILED", "STATUS_STOPPED", "SUBMITTABLE_STATUSES", "Evaluation", "RunRecord",
    "RunRecordError", "StepLog", "json_safe", "json_safe_number",
]  # fmt: skip
