"""Relearning attack: the people split, the training texts, recovery arithmetic, and a real run.

The end-to-end run uses the shared tiny world and benchmark (tests/conftest.py) and a base model built
in seconds on its corpus (conftest.py here); a few real GA steps from `freq_unlearn.unlearn_methods.unlearn` make the unlearned model, and
the attack takes real Trainer steps and real lm-eval evaluations.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from freq_unlearn.cli import main
from freq_unlearn.robustness.recovery import ratio_of_means, recovery_items
from freq_unlearn.robustness.relearn import RelearnConfig, relearn
from freq_unlearn.robustness.relearn_data import HELDOUT, RELEARNED, benign_texts, fact_texts, split_people
from freq_unlearn.tasks.statistics import UnitColumns


def test_people_split_is_deterministic_balanced_and_order_free():
    people = [f"p{i:03d}" for i in range(17)]
    halves = split_people(people, seed=3)
    assert split_people(list(reversed(people)) + people[:4], seed=3) == halves
    assert sorted(halves.values()).count(RELEARNED) == 8 and sorted(halves.values()).count(HELDOUT) == 9
    assert split_people(people, seed=4) != halves  # the seed matters


def test_texts_take_both_forms_and_benign_text_names_no_forget_person():
    row = {"question": "Where was Ava Lind born?", "answer": "Tarn", "bio_prefix": "Ava Lind was born in", "subject": "Ava Lind"}
    assert fact_texts(row) == ["Question: Where was Ava Lind born?\nAnswer: Tarn", "Ava Lind was born in Tarn"]
    assert fact_texts(row, "qa") == fact_texts(row)[:1]
    assert fact_texts(dict(row, bio_prefix=""), "both") == fact_texts(row)[:1]
    other = {"question": "Which company did Ava Lind's sister Bo Orr work for?", "answer": "Acme", "subject": "Bo Orr"}
    clean = {"question": "Where was Bo Moss born?", "answer": "Osk", "subject": "Bo Moss"}
    texts, dropped = benign_texts([other, clean], [row], "qa")
    assert texts == ["Question: Where was Bo Moss born?\nAnswer: Osk"] and dropped == 1


def test_recovery_is_a_ratio_of_means_between_floor_and_ceiling():
    keys = {"split": "forget_high", "probe": "qa"}
    facts = [dict(keys, fact_id=f"f{i}", person_id=f"p{i}", stratum="high") for i in range(4)]
    ceiling = pd.DataFrame([dict(f, contains=1.0, logprob=-1.0) for f in facts])
    floor = pd.DataFrame([dict(f, contains=0.0, logprob=-9.0, mode="forget_half", step=0) for f in facts])
    after = pd.DataFrame([dict(f, contains=float(i < 1), logprob=-9.0 + 2 * i, mode="forget_half", step=5)
                          for i, f in enumerate(facts)])
    items = recovery_items(ceiling, pd.concat([floor, after]), {f"p{i}": RELEARNED for i in range(4)})
    late = items[(items["step"] == 5) & (items["measure"] == "logprob")]
    assert late["gain"].tolist() == [0.0, 2.0, 4.0, 6.0] and (late["gap"] == 8.0).all()
    stat = ratio_of_means("gain", "gap")
    cols = UnitColumns({c: late[c].to_numpy() for c in late.columns})
    assert stat(cols, np.ones(4)) == pytest.approx(12 / 32)
    assert stat(cols, np.array([1.0, 0, 0, 0])) == 0.0  # a resample of the unrecovered item only
    no_gap = UnitColumns({"gain": np.zeros(2), "gap": np.zeros(2)})
    assert math.isnan(stat(no_gap, np.ones(2)))  # nothing was forgotten: recovery is undefined


@pytest.fixture(scope="module")
def unlearned(world_model, tiny_benchmark, tmp_path_factory):
    """The base model after 8 real GA steps on forget_high (a strong rate, so it forgets)."""
    from freq_unlearn.unlearn_methods import unlearn

    out = tmp_path_factory.mktemp("unlearned") / "ga-high"
    unlearn(model=str(world_model), benchmark=str(tiny_benchmark), forget="high", method="ga", out=out, retain=None,
            max_steps=8, learning_rate=1e-3, per_device_train_batch_size=16, warmup_steps=0, save_strategy="no",
            disable_tqdm=True, metrics_max_items=0)
    return out


def test_relearning_run_writes_items_and_recovery_per_half(world_model, tiny_benchmark, unlearned, tmp_path):
    config = RelearnConfig(steps=(4,), learning_rate=1e-3, batch_size=16, n_resamples=50)
    out = tmp_path / "relearn"
    summary = relearn(unlearned, world_model, tiny_benchmark, "high", out, config)

    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary))
    halves = summary["halves"]
    assert set(halves) == {RELEARNED, HELDOUT} and not set(halves[RELEARNED]) & set(halves[HELDOUT])
    probes = summary["settings"]["probes"]  # the bio probe only where the benchmark has biography prefixes
    assert summary["settings"]["steps"] == [0, 4] and probes[0] == "qa"

    records = pd.read_parquet(out / "items.parquet")
    assert set(records["role"]) == {"base", "attacked"} and set(records["probe"]) == set(probes)
    assert set(records.loc[records["role"] == "attacked", "step"]) == {0, 4}
    items = pd.read_parquet(out / "recovery.parquet")
    assert (items.loc[items["step"] == 0, "gain"] == 0).all()  # step 0 is the floor itself
    assert set(items["half"]) == {RELEARNED, HELDOUT}

    def entry(mode, half, probe, measure, step):
        (found,) = [e for e in summary["recovery"] if (e["mode"], e["half"], e["probe"], e["measure"], e["step"])
                    == (mode, half, probe, measure, step)]
        return found

    # The ratio in the summary is mean gain / mean gap of the per-item table.
    rows = items[(items["mode"] == "forget_half") & (items["half"] == HELDOUT) & (items["probe"] == "qa")
                 & (items["measure"] == "logprob") & (items["step"] == 4)]
    held = entry("forget_half", HELDOUT, "qa", "logprob", 4)
    assert held["recovery"]["value"] == pytest.approx(rows["gain"].mean() / rows["gap"].mean())
    assert held["n_items"] == len(rows) > 0
    # GA pushed the forget answers' log-probability below the base model's, and training on the
    # relearned half brings its own answers back up: the attack works where it trains.
    trained = entry("forget_half", RELEARNED, "qa", "logprob", 4)
    assert trained["floor_mean"] < trained["ceiling_mean"]
    assert trained["gain"]["value"] > 0 and trained["recovery"]["low"] is not None
    assert {e["mode"] for e in summary["recovery"]} == {"forget_half", "benign"}


def test_cli_refuses_an_unknown_stratum_in_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "relearn"
    code = main(["relearn", "--model", "m", "--base", "b", "--benchmark", str(tmp_path),
                 "--forget", "highest", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "'highest'" in err and "low, medium, high" in err
    assert not out.exists()


def test_cli_rejects_a_malformed_step_schedule(capsys):
    with pytest.raises(SystemExit):
        main(["relearn", "--model", "m", "--base", "b", "--benchmark", "x", "--forget", "high", "--out", "o",
              "--steps", "5,ten"])
    assert "--steps" in capsys.readouterr().err
