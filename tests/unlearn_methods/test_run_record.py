"""The run record schema: round trip, one-line validation errors, atomic writes."""

from __future__ import annotations

import json
import re

import pytest

from freq_unlearn.unlearn_methods.run_record import SCHEMA, Evaluation, RunRecord, RunRecordError, StepLog


def make_record(**changes) -> RunRecord:
    values = dict(
        method="npo", base_model="m", benchmark="b", forget_split="forget_high", retain_split="retain",
        forget_count_range=[3, 10], hyperparameters={"beta": 0.1}, seed=42, lora=False, device="cpu",
        wall_time_s=1.5, library_version="0.1.0",
        steps=[StepLog(1, 0.5, 0.4, 0.1)], evaluations=[Evaluation(0, {"answer_nll": 0.1}, {"answer_nll": 0.2})],
    )  # fmt: skip
    values.update(changes)
    return RunRecord(**values)


def test_round_trip_and_schema_key(tmp_path):
    record = make_record()
    path = record.save(tmp_path)
    data = json.loads(path.read_text())
    assert data["schema"] == SCHEMA and list(data)[0] == "schema"
    assert set(data) == {"schema", "method", "base_model", "benchmark", "forget_split", "retain_split",
                         "forget_count_range", "hyperparameters", "seed", "lora", "device", "wall_time_s",
                         "library_version", "steps", "evaluations", "status", "status_reason", "hub_id"}  # fmt: skip
    assert RunRecord.load(tmp_path) == record
    assert [p.name for p in tmp_path.iterdir()] == ["run_record.json"]  # no temp file left


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"forget_count_range": [5, 1]}, "forget_count_range"),
        ({"status": "crashed"}, "status"),
        ({"seed": "42"}, "seed"),
        ({"status": "stopped: boom"}, "status"),
        ({"status": "stopped"}, "status_reason"),
        ({"status_reason": "why"}, "status_reason"),
        ({"steps": [StepLog(1, "high")]}, "steps[0].loss"),
        ({"evaluations": [Evaluation(0, {"x": "high"})]}, "evaluations[0].forget"),
    ],
)
def test_validate_names_the_field(changes, field):
    with pytest.raises(RunRecordError, match=re.escape(f"field '{field}'")) as err:
        make_record(**changes).validate()
    assert "\n" not in str(err.value)


def test_bad_files_give_one_line(tmp_path):
    (tmp_path / "run_record.json").write_text("{oops")
    with pytest.raises(RunRecordError, match="invalid JSON at line 1"):
        RunRecord.load(tmp_path)
    data = make_record().to_dict()
    del data["device"]
    (tmp_path / "run_record.json").write_text(json.dumps(data))
    with pytest.raises(RunRecordError, match="missing field 'device'"):
        RunRecord.load(tmp_path)


def test_failed_save_keeps_the_old_file(tmp_path):
    make_record().save(tmp_path)
    before = (tmp_path / "run_record.json").read_text()
    with pytest.raises(RunRecordError):
        make_record(status="").save(tmp_path)
    assert (tmp_path / "run_record.json").read_text() == before


def test_non_finite_numbers_are_written_as_null(tmp_path):
    nan, inf = float("nan"), float("inf")
    record = make_record(steps=[StepLog(1, nan, -inf, 0.5)], evaluations=[Evaluation(3, {"answer_nll": nan}, {"answer_nll": 1.0})],
                         hyperparameters={"beta": inf}, status="failed", status_reason="non-finite weights after step 1")  # fmt: skip
    text = record.save(tmp_path).read_text()

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    data = json.loads(text, parse_constant=refuse)  # standard JSON: no NaN / Infinity tokens
    assert data["steps"][0] == {"step": 1, "loss": None, "forget_loss": None, "retain_loss": 0.5}
    assert data["evaluations"][0]["forget"] == {"answer_nll": None} and data["hyperparameters"] == {"beta": None}
    loaded = RunRecord.load(tmp_path)
    assert loaded.steps[0].loss is None and loaded.status == "failed"


def test_records_with_the_reason_in_the_status_still_load(tmp_path):
    data = make_record().to_dict()
    del data["status_reason"]
    data["status"] = "stopped: forget loss 2e3 diverged past 1000 at step 4; kept the weights of step 3"
    (tmp_path / "run_record.json").write_text(json.dumps(data))
    record = RunRecord.load(tmp_path)
    assert record.status == "stopped" and record.status_reason.startswith("forget loss 2e3 diverged")


@pytest.mark.parametrize("status, reason, accepted", [("completed", None, True), ("stopped", "guard", True), ("failed", "nan", False)])
def test_the_leaderboard_reads_every_status_the_writer_writes(tmp_path, status, reason, accepted):
    """One schema: what `unlearn` writes is what the leaderboard's reader accepts or refuses."""
    from freq_unlearn.core.run_record import STATUSES, SUBMITTABLE_STATUSES
    from freq_unlearn.leaderboard.submission import SubmissionError, read_run_record

    assert status in STATUSES and (status in SUBMITTABLE_STATUSES) == accepted
    make_record(status=status, status_reason=reason).save(tmp_path)
    if accepted:
        assert read_run_record(tmp_path)["status"] == status
    else:
        with pytest.raises(SubmissionError, match="only finished runs can be submitted"):
            read_run_record(tmp_path)
