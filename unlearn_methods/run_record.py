"""The run record, as this part writes it: the schema itself lives in the kernel
(`freq_unlearn.core.run_record`), shared with the leaderboard that reads the files."""

from __future__ import annotations

from freq_unlearn.core.run_record import (
    RUN_RECORD_FILE,
    SCHEMA,
    STATUS_COMPLETED,
    STATUS_FAILED,
    STATUS_STOPPED,
    STATUSES,
    Evaluation,
    RunRecord,
    RunRecordError,
    StepLog,
    json_safe,
    json_safe_number,
)

__all__ = [
    "RUN_RECORD_FILE", "SCHEMA", "STATUSES", "STATUS_COMPLETED", "STATUS_FAILED", "STATUS_STOPPED", "Evaluation",
    "RunRecord", "RunRecordError", "StepLog", "json_safe", "json_safe_number",
]  # fmt: skip
