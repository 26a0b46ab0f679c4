"""The equal-utility arm's analysis (freq_unlearn.demo.analysis) on in-run records written by hand,
and the rule by which an older run folder continues when only a new stage was added."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from freq_unlearn.core.schema import STRATA
from freq_unlearn.demo import continues
from freq_unlearn.demo.analysis import at_utility_levels, equal_utility
from freq_unlearn.demo.pipeline import Demo
from freq_unlearn.demo.presets import DemoPreset, UtilityArm, rotated

N_RETAIN, N_PEOPLE = 20, 40  # retain items; forget people per stratum (one fact each)
COUNTS = {"low": 1, "medium": 8, "high": 64}


def _records(retain_correct: int, target: str | None, target_logprob: float) -> pd.DataFrame:
    """QA records: retain items (the first ``retain_correct`` answered), and every forget stratum's
    items at log p(gold) 0 except the ``target`` stratum's at ``target_logprob``."""
    rows = []
    for i in range(N_RETAIN):
        rows.append(("retain", f"r{i}", f"rp{i}", "retain", 1, float(i < retain_correct), 0.0))
    for stratum in STRATA:
        for i in range(N_PEOPLE):
            lp = target_logprob if stratum == target else 0.0
            rows.append((f"forget_{stratum}", f"{stratum}{i}", f"{stratum}p{i}", stratum, COUNTS[stratum], 1.0, lp))
    frame = pd.DataFrame(rows, columns=["split", "fact_id", "person_id", "stratum", "count", "contains", "logprob"])
    return frame.assign(probe="qa", subject="x", relation=[("city", "job")[k % 2] for k in range(len(frame))],
                        answer="a", mc_acc=1.0, mc_margin=frame["logprob"], rougeL_recall=frame["contains"])


def _write_run(demo: Demo, run, curve: list[tuple[int, int, float]]) -> None:
    inrun = demo.arm_dir(run) / "inrun"
    inrun.mkdir(parents=True)
    for step, correct, logprob in curve:
        _records(correct, run.target, logprob).to_parquet(inrun / f"step-{step:05d}.parquet")


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    preset = DemoPreset("test", models=rotated("tiny", rotations=1), methods=("ga",), n_resamples=99,
                        utility_arm=UtilityArm(methods=("ga",), levels=(0.05, 0.10)))
    return Demo(tmp_path, preset, say=lambda _: None)


def test_forgetting_is_read_at_the_interpolated_step_where_retain_accuracy_fell_by_each_level(demo: Demo) -> None:
    base = _records(N_RETAIN, None, 0.0)
    runs = {r.target: r for r in demo.arm_runs()}
    # Retain accuracy 100% -> 95% at step 10 -> 85% at step 20: the 5-point level is met at step 10,
    # the 10-point level halfway between 10 and 20. Log p(gold) of the target: -1 at 10, -3 at 20.
    for stratum in STRATA:
        _write_run(demo, runs[stratum], [(10, 19, -1.0), (20, 17, -3.0)])
    items, reached = at_utility_levels(demo, {demo.preset.main_model.id: base})
    assert all(r["reached"] for r in reached)
    assert sorted(r["step"] for r in reached) == pytest.approx([10] * 3 + [15] * 3)
    at10 = items[items["level"] == 0.10]
    assert len(at10) == len(STRATA) * N_PEOPLE and set(at10["split"]) == {f"forget_{s}" for s in STRATA}
    assert np.allclose(items.loc[items["level"] == 0.05, "forget_logprob"], 1.0)
    assert np.allclose(at10["forget_logprob"], 2.0)  # halfway between -1 and -3

    rows = equal_utility(demo, items, reached)
    row = next(r for r in rows if r["level"] == 0.10 and r["measure"] == "logprob")
    assert row["high"]["value"] == pytest.approx(2.0) and row["high_runs_reached"] == "1/1" and row["high_step"] == pytest.approx(15)
    assert row["verdict"].startswith("descriptive")  # one pre-trained model


def test_a_stratum_that_never_reaches_a_level_is_reported_and_gets_no_verdict(demo: Demo) -> None:
    base = _records(N_RETAIN, None, 0.0)
    runs = {r.target: r for r in demo.arm_runs()}
    _write_run(demo, runs["low"], [(10, 19, -1.0), (20, 19, -2.0)])  # stays at a 5-point drop
    for stratum in ("medium", "high"):
        _write_run(demo, runs[stratum], [(10, 19, -1.0), (20, 17, -3.0)])
    items, reached = at_utility_levels(demo, {demo.preset.main_model.id: base})
    rows = equal_utility(demo, items, reached)
    ten = [r for r in rows if r["level"] == 0.10]
    assert all(r["low"] is None and r["low_runs_reached"] == "0/1" for r in ten)
    assert all(r["verdict"] == "no verdict (not every stratum reached the level)" for r in ten)
    assert all(r["high"]["value"] == pytest.approx(2.0) for r in ten if r["measure"] == "logprob")
    five = [r for r in rows if r["level"] == 0.05]
    assert all(r["all_reached"] and r["low_runs_reached"] == "1/1" for r in five)


def test_an_older_folder_continues_only_when_a_stage_was_added() -> None:
    stored = {"preset": "thorough", "methods": ["ga"], "inrun_steps": 10}
    assert continues(stored, dict(stored))
    assert continues(stored, dict(stored, utility_arm={"methods": ["ga"]}))
    assert not continues(stored, dict(stored, inrun_steps=0, utility_arm=None))
    assert not continues(stored, dict(stored, seeds=[0, 1]))
    assert not continues(dict(stored, utility_arm=None), dict(stored, utility_arm={"methods": ["ga"]}))
