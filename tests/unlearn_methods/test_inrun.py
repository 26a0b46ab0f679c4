"""In-run per-item records: `unlearn(metrics_steps=N, inrun_records=True)` writes the suite's evaluation
of the model being trained at every N-th step and at the last one."""

from __future__ import annotations

import pandas as pd
import pytest

from freq_unlearn.tasks.evaluation import ITEM_COLUMNS
from freq_unlearn.unlearn_methods import UnlearnInputError, unlearn


def test_inrun_records_every_n_steps_and_at_the_end(qa_model, bio_benchmark, tmp_path):
    out = tmp_path / "run"
    record = unlearn(model=str(qa_model), benchmark=str(bio_benchmark), forget="high", method="graddiff", out=out,
                     max_steps=4, metrics_steps=2, metrics_max_items=4, learning_rate=1e-3, inrun_records=True,
                     progress=False)  # fmt: skip
    assert record.status == "completed"
    files = sorted(p.name for p in (out / "inrun").iterdir())
    assert files == ["step-00002.parquet", "step-00004.parquet"]
    frames = [pd.read_parquet(out / "inrun" / f) for f in files]
    n_forget, n_retain = 12, 24
    for frame in frames:
        assert set(ITEM_COLUMNS) <= set(frame.columns)
        assert frame.groupby(["split", "probe"]).size().to_dict() == {
            ("forget_high", "bio"): n_forget, ("forget_high", "qa"): n_forget,
            ("retain", "bio"): n_retain, ("retain", "qa"): n_retain,
        }  # fmt: skip
    # the records follow the training: the forget answers' log-probability falls from step 2 to 4
    logp = [f[(f["split"] == "forget_high") & (f["probe"] == "qa")]["logprob"].mean() for f in frames]
    assert logp[1] < logp[0]
    # the aggregate in-run metrics are still logged at the same steps
    assert [e.step for e in record.evaluations] == [0, 2, 4]


def test_inrun_records_qa_only_without_bio_prefix_and_under_lora(qa_model, qa_benchmark, tmp_path):
    out = tmp_path / "qa"
    unlearn(model=str(qa_model), benchmark=str(qa_benchmark), forget="low", method="npo", out=out, max_steps=1,
            metrics_steps=1, metrics_max_items=0, inrun_records=True, progress=False, lora=True, lora_r=4)  # fmt: skip
    frame = pd.read_parquet(out / "inrun" / "step-00001.parquet")
    assert set(frame["probe"]) == {"qa"} and set(frame["split"]) == {"forget_low", "retain"}


def test_inrun_records_need_metrics_steps(qa_model, qa_benchmark, tmp_path):
    with pytest.raises(UnlearnInputError, match="metrics_steps"):
        unlearn(model=str(qa_model), benchmark=str(qa_benchmark), forget="low", method="ga", out=tmp_path / "x",
                inrun_records=True)  # fmt: skip
    assert not (tmp_path / "x").exists()


def test_inrun_stop_rule_ends_training_after_the_evaluation_that_meets_it(qa_model, bio_benchmark, tmp_path):
    seen: list[set[str]] = []

    def stop(records: pd.DataFrame) -> str | None:
        seen.append(set(records["probe"]))
        return "second evaluation" if len(seen) == 2 else None

    out = tmp_path / "run"
    record = unlearn(model=str(qa_model), benchmark=str(bio_benchmark), forget="high", method="ga", out=out,
                     max_steps=8, metrics_steps=2, metrics_max_items=0, learning_rate=1e-3, inrun_records=True,
                     inrun_probes=("qa",), inrun_stop=stop, progress=False)  # fmt: skip
    assert record.status == "completed"
    assert sorted(p.name for p in (out / "inrun").iterdir()) == ["step-00002.parquet", "step-00004.parquet"]
    assert seen == [{"qa"}, {"qa"}]  # the rule saw each evaluation's records, QA only as asked
    assert max(s.step for s in record.steps) == 4


def test_inrun_probes_must_be_offered_by_the_benchmark(qa_model, qa_benchmark, tmp_path):
    with pytest.raises(UnlearnInputError, match="inrun_probes"):
        unlearn(model=str(qa_model), benchmark=str(qa_benchmark), forget="low", method="ga", out=tmp_path / "x",
                metrics_steps=1, inrun_records=True, inrun_probes=("bio",))  # fmt: skip
    assert not (tmp_path / "x").exists()


def test_inrun_evaluations_leave_the_training_trajectory_unchanged(qa_model, bio_benchmark, tmp_path):
    """The same run with and without in-run records takes the same steps: an evaluation must not
    consume the random numbers that drive data order and dropout."""
    common = dict(model=str(qa_model), benchmark=str(bio_benchmark), forget="high", method="ga", max_steps=6,
                  learning_rate=1e-3, metrics_max_items=0, forget_format="both", progress=False, save_strategy="no")
    plain = unlearn(out=tmp_path / "plain", **common)
    watched = unlearn(out=tmp_path / "watched", metrics_steps=2, inrun_records=True, **common)
    assert [s.loss for s in watched.steps] == [s.loss for s in plain.steps]
