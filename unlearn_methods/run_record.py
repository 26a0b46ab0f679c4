"""The run record: one JSON file per unlearning run, read as-is by the leaderboard.

The file is ``DIR/run_record.json``. It is written atomically (temp name, then ``os.replace``)
so a reader never sees half a record. `RunRecord.validate` raises one line naming the bad field.
This module imports only the standard library, so the leaderboard can read records cheaply.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from freq_unlearn.core.fsutil import atomic_write_text

SCHEMA = "freq_unlearn.run_record/1"
RUN_RECORD_FILE = "run_record.json"
STATUS_COMPLETED = "completed"
STATUS_STOPPED_PREFIX = "stopped: "


class RunRecordError(ValueError):
    """A run record that does not follow the schema; the message names the field."""


@dataclass
class StepLog:
    """Training losses logged at one optimizer step (forget/retain terms are None when absent)."""

    step: int
    loss: float
    forget_loss: float | None = None
    retain_loss: float | None = None


@dataclass
class Evaluation:
    """Forget/retain metrics at one step: keys like ``answer_nll``, ``answer_prob``, ``exact_contains``."""

    step: int
    forget: dict[str, float] = field(default_factory=dict)
    retain: dict[str, float] = field(default_factory=dict)


@dataclass
class RunRecord:
    """What an unlearning run did and measured. Field meanings:

    forget_count_range: [min, max] pre-training count of the forget split's facts.
    hyperparameters: the method's config fields that differ from TrainingArguments' own, plus
        learning rate, batch size, steps and epochs.
    status: "completed" or "stopped: <reason>" (a guard stopped the run).
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
    hub_id: str | None = None
    schema: str = SCHEMA

    # ---- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema, **{k: v for k, v in asdict(self).items() if k != "schema"}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        if not isinstance(data, dict):
            raise RunRecordError("run record: top level must be a JSON object")
        known = {f.name for f in fields(cls)}
        missing = sorted(known - set(data) - {"steps", "evaluations", "status", "hub_id"})
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

        def need(ok: bool, name: str, what: str) -> None:
            if not ok:
                raise RunRecordError(f"run record: field '{name}' {what}")

        def is_number(x: Any, allow_none: bool = False) -> bool:
            if x is None:
                return allow_none
            return isinstance(x, (int, float)) and not isinstance(x, bool)

        need(self.schema == SCHEMA, "schema", f"must be {SCHEMA!r}, got {self.schema!r}")
        for name in ("method", "base_model", "benchmark", "forget_split", "device", "library_version"):
            need(isinstance(getattr(self, name), str) and getattr(self, name) != "", name, "must be a non-empty string")
        need(self.retain_split is None or isinstance(self.retain_split, str), "retain_split", "must be a string or null")
        rng = self.forget_count_range
        need(
            isinstance(rng, list) and len(rng) == 2 and all(isinstance(c, int) and not isinstance(c, bool) for c in rng)
            and rng[0] <= rng[1],
            "forget_count_range",
            "must be [min, max] integers with min <= max",
        )
        need(isinstance(self.hyperparameters, dict), "hyperparameters", "must be an object")
        need(isinstance(self.seed, int) and not isinstance(self.seed, bool), "seed", "must be an integer")
        need(isinstance(self.lora, bool), "lora", "must be true or false")
        need(is_number(self.wall_time_s) and self.wall_time_s >= 0, "wall_time_s", "must be a number >= 0")
        need(isinstance(self.steps, list), "steps", "must be a list")
        for i, s in enumerate(self.steps):
            need(isinstance(s, StepLog), f"steps[{i}]", "must be a step entry")
            need(isinstance(s.step, int) and s.step >= 0, f"steps[{i}].step", "must be an integer >= 0")
            need(is_number(s.loss), f"steps[{i}].loss", "must be a number")
            need(is_number(s.forget_loss, True), f"steps[{i}].forget_loss", "must be a number or null")
            need(is_number(s.retain_loss, True), f"steps[{i}].retain_loss", "must be a number or null")
        need(isinstance(self.evaluations, list), "evaluations", "must be a list")
        for i, e in enumerate(self.evaluations):
            need(isinstance(e, Evaluation), f"evaluations[{i}]", "must be an evaluation entry")
            need(isinstance(e.step, int) and e.step >= 0, f"evaluations[{i}].step", "must be an integer >= 0")
            for part in ("forget", "retain"):
                metrics = getattr(e, part)
                need(
                    isinstance(metrics, dict) and all(isinstance(k, str) and is_number(v) for k, v in metrics.items()),
                    f"evaluations[{i}].{part}",
                    "must map metric names to numbers",
                )
        need(
            self.status == STATUS_COMPLETED or (self.status.startswith(STATUS_STOPPED_PREFIX) and len(self.status) > 9),
            "status",
            f"must be 'completed' or 'stopped: <reason>', got {self.status!r}",
        )
        need(self.hub_id is None or isinstance(self.hub_id, str), "hub_id", "must be a string or null")


def json_safe_number(value: float) -> float | None:
    """JSON has no NaN/inf: a non-finite loss is stored as null."""
    return value if math.isfinite(value) else None
