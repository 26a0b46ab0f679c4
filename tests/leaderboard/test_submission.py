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


def metadata(**overrides):
    data = {
        "schema": "freq_unlearn.submission/1",
        "method": "NPO",
        "base_model": "tiny",
        "forget_split": "forget_high",
        "hyperparameters": {"beta": 0.1},
        "checkpoints": [{"path": "ckpt", "seed": 1}],
        "compute": {"device": "cuda", "gpu_hours": 0.5},
        "code_url": "https://example.org/code",
    }
    data.update(overrides)
    return data


def write(tmp_path: Path, data, name="meta.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    return path


def test_metadata_file_is_validated_and_paths_resolve(tmp_path):
    (tmp_path / "ckpt").mkdir()
    sub = load_metadata_file(write(tmp_path, metadata()))
    assert sub.method == "NPO" and sub.seeds == [1]
    assert sub.checkpoints[0].path == str((tmp_path / "ckpt").resolve())
    # a name that is not a local folder stays as written (a Hub id)
    sub = load_metadata_file(write(tmp_path, metadata(checkpoints=[{"path": "org/model", "seed": 2}])))
    assert sub.checkpoints[0].path == "org/model"


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"method": ""}, "field 'method'"),
        ({"checkpoints": []}, "at least one checkpoint"),
        ({"checkpoints": [{"path": "a", "seed": "one"}]}, "field 'seed'"),
        ({"checkpoints": [{"path": "a", "seed": 1}, {"path": "b", "seed": 1}]}, "seeds must differ"),
        ({"hyperparameters": [1, 2]}, "field 'hyperparameters': expected dict"),
        ({"schema": "other/1"}, "field 'schema'"),
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


def test_run_records_of_several_seeds_become_one_submission(tmp_path):
    dirs = []
    for seed in (0, 1):
        d = tmp_path / f"run{seed}"
        d.mkdir()
        (d / "run_record.json").write_text(json.dumps(run_record(seed=seed, device="cuda:0", wall_time_s=1800)))
        dirs.append(d)
    sub = load_submission(dirs)
    assert sub.source == "run_record" and sub.seeds == [0, 1] and sub.method == "ga"
    assert sub.compute["gpu_hours"] == pytest.approx(1.0)
    assert sub.forget_split == "forget_high"


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
    with pytest.raises(SubmissionError, match="checkpoint folder not found"):
        from_run_records([tmp_path / "missing"])
    with pytest.raises(SubmissionError, match="run_record.json: file not found"):
        from_run_records([tmp_path])


def test_submission_id_ignores_paths_but_not_hyperparameters(tmp_path):
    (tmp_path / "ckpt").mkdir()
    one = load_metadata_file(write(tmp_path, metadata(), "a.json"))
    two = load_metadata_file(write(tmp_path, metadata(checkpoints=[{"path": "elsewhere/x", "seed": 1}]), "b.json"))
    three = load_metadata_file(write(tmp_path, metadata(hyperparameters={"beta": 0.2}), "c.json"))
    hashes = {1: "abc"}
    assert submission_id(one.identity(hashes)) == submission_id(two.identity(hashes))
    assert submission_id(one.identity(hashes)) != submission_id(three.identity(hashes))
    assert submission_id(one.identity(hashes)) != submission_id(one.identity({1: "abd"}))
