from __future__ import annotations

import json
from pathlib import Path

import pytest
from lb_helpers import run_record

from freq_unlearn.leaderboard.submission import (
    SubmissionError,
    from_run_records,
    load_metadata_file,
    load_submission,
    submission_id,
)


TARGETS = ("forget_low", "forget_medium", "forget_high")


def checkpoints(seed: int = 1, prefix: str = "ckpt") -> list[dict]:
    return [{"path": f"{prefix}_{t}", "seed": seed, "target": t} for t in TARGETS]


def metadata(**overrides):
    data = {
        "schema": "freq_unlearn.submission/2",
        "method": "NPO",
        "base_model": "tiny",
        "hyperparameters": {"beta": 0.1},
        "checkpoints": checkpoints(),
        "compute": {"device": "cuda", "gpu_hours": 0.5},
        "code_url": "https://example.org/code",
    }
    data.update(overrides)
    return data


def write(tmp_path: Path, data, name="meta.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    return path


def record_dirs(tmp_path: Path, seeds=(0,), targets=TARGETS, **record) -> list[Path]:
    dirs = []
    for target in targets:
        for seed in seeds:
            d = tmp_path / f"run_{target}_{seed}"
            d.mkdir()
            (d / "run_record.json").write_text(json.dumps(run_record(seed=seed, forget_split=target, **record)))
            dirs.append(d)
    return dirs


def test_metadata_file_is_validated_and_paths_resolve(tmp_path):
    (tmp_path / "ckpt_forget_low").mkdir()
    sub = load_metadata_file(write(tmp_path, metadata()))
    assert sub.method == "NPO" and sub.seeds == [1]
    assert sub.runs == [("forget_high", 1), ("forget_low", 1), ("forget_medium", 1)]
    low = next(c for c in sub.checkpoints if c.target == "forget_low")
    assert low.path == str((tmp_path / "ckpt_forget_low").resolve())
    # a name that is not a local folder stays as written (a Hub id)
    assert next(c for c in sub.checkpoints if c.target == "forget_high").path == "ckpt_forget_high"


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"method": ""}, "field 'method'"),
        ({"checkpoints": []}, "no checkpoint targets forget_low"),
        ({"checkpoints": checkpoints()[:2]}, "no checkpoint targets forget_high: a submission is the method run on each"),
        ({"checkpoints": [{"path": "a", "seed": "one", "target": "forget_low"}]}, "field 'seed'"),
        ({"checkpoints": [{"path": "a", "seed": 1, "target": "forget_all"}]}, "field 'target': must be one of"),
        ({"checkpoints": checkpoints() + checkpoints(prefix="other")}, "two checkpoints for target forget_low and seed 1"),
        ({"hyperparameters": [1, 2]}, "field 'hyperparameters': expected dict"),
        ({"schema": "other/1"}, "field 'schema'"),
        ({"schema": "freq_unlearn.submission/1", "forget_split": "forget_high"},
         "one forget split per submission) is no longer accepted"),
        ({"forget_split": "forget_high"}, "unknown field 'forget_split'"),
        ({"colour": "red"}, "unknown field 'colour'"),
        ({"code_url": "javascript:alert(1)"}, "field 'code_url'"),
        ({"compute": {"gpu_hours": -1}}, "compute.gpu_hours"),
    ],
)
def test_malformed_metadata_gives_one_line_naming_the_field(tmp_path, change, expected):
    path = write(tmp_path, metadata(**change))
    with pytest.raises(SubmissionError) as err:
        load_metadata_file(path)
    assert expected in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_field_and_bad_json(tmp_path):
    data = metadata()
    del data["base_model"]
    with pytest.raises(SubmissionError, match="missing field 'base_model'"):
        load_metadata_file(write(tmp_path, data))
    with pytest.raises(SubmissionError, match=r"line 2: invalid JSON"):
        load_metadata_file(write(tmp_path, '{"schema":\n  oops}'))
    with pytest.raises(SubmissionError, match="file not found"):
        load_metadata_file(tmp_path / "nope.json")


def test_run_records_of_every_stratum_and_seed_become_one_submission(tmp_path):
    sub = load_submission(record_dirs(tmp_path, seeds=(0, 1), device="cuda:0", wall_time_s=600))
    assert sub.source == "run_record" and sub.seeds == [0, 1] and sub.method == "ga"
    assert len(sub.runs) == 6 and {t for t, _ in sub.runs} == set(TARGETS)
    assert sub.compute["gpu_hours"] == pytest.approx(1.0, abs=1e-5)  # 6 runs of 10 minutes on a GPU


def test_run_records_missing_a_stratum_are_refused(tmp_path):
    with pytest.raises(SubmissionError, match="no checkpoint targets forget_medium") as err:
        load_submission(record_dirs(tmp_path, targets=("forget_low", "forget_high")))
    assert "\n" not in str(err.value)


def test_run_records_must_agree_and_be_finished(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "run_record.json").write_text(json.dumps(run_record(seed=0)))
    (b / "run_record.json").write_text(json.dumps(run_record(seed=1, method="npo")))
    with pytest.raises(SubmissionError, match="field 'method' differs"):
        from_run_records([a, b])
    (b / "run_record.json").write_text(json.dumps(run_record(seed=1, status="failed")))
    with pytest.raises(SubmissionError, match="only finished runs"):
        from_run_records([b])
    (b / "run_record.json").write_text(json.dumps(run_record(seed=1, forget_split="retain")))
    with pytest.raises(SubmissionError, match="field 'forget_split': must be one of forget_low"):
        from_run_records([b])
    with pytest.raises(SubmissionError, match="checkpoint folder not found"):
        from_run_records([tmp_path / "missing"])
    with pytest.raises(SubmissionError, match="run_record.json: file not found"):
        from_run_records([tmp_path])


def test_submission_id_ignores_paths_but_not_hyperparameters(tmp_path):
    one = load_metadata_file(write(tmp_path, metadata(), "a.json"))
    two = load_metadata_file(write(tmp_path, metadata(checkpoints=checkpoints(prefix="elsewhere/x")), "b.json"))
    three = load_metadata_file(write(tmp_path, metadata(hyperparameters={"beta": 0.2}), "c.json"))
    hashes = {(t, 1): f"hash-{t}" for t in TARGETS}
    assert submission_id(one.identity(hashes)) == submission_id(two.identity(hashes))
    assert submission_id(one.identity(hashes)) != submission_id(three.identity(hashes))
    assert submission_id(one.identity(hashes)) != submission_id(one.identity({**hashes, ("forget_low", 1): "other"}))
