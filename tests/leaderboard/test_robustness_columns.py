"""The leaderboard's robustness columns (issue 16): a store registered with a people table runs the
relearning attack and membership inference on each targeted stratum's first seed, with real parts
(tiny random GPT-2 checkpoints, the tiny world's benchmark and held-out people, Trainer steps, lm-eval)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from lb_helpers import make_checkpoint, make_runs

from freq_unlearn.cli import main as cli
from freq_unlearn.leaderboard.ranking import COMPACT_COLUMNS, row

LIMIT = 4


def test_a_store_with_people_scores_relearning_and_membership_per_stratum(tiny_world: Path, tiny_benchmark: Path,
                                                                          tmp_path: Path, capsys) -> None:
    base = make_checkpoint(tmp_path / "base")
    store = tmp_path / "store"
    assert cli(["leaderboard", "init", "--store", str(store), "--benchmark", str(tiny_benchmark), "--base-model", str(base),
                "--limit", str(LIMIT), "--people", str(tiny_world / "facts.parquet"), "--relearn-steps", "0,2"]) == 0
    config = json.loads((store / "leaderboard.json").read_text())
    assert config["robustness"]["relearn_steps"] == [0, 2] and len(config["robustness"]["people_sha256"]) == 64
    runs = make_runs(tmp_path / "runs", base_model=str(base), method="ga", seeds=(1,))
    assert cli(["leaderboard", "submit", "--store", str(store), "--n-boot", "20", *map(str, runs)]) == 0
    assert "robustness: relearning attack and membership inference on forget_high" in capsys.readouterr().out

    (path,) = sorted((store / "results").rglob("*.json"))
    metrics = json.loads(path.read_text())["metrics"]
    facts = pd.read_parquet(tiny_world / "facts.parquet").drop_duplicates("person_id")
    for stratum in ("low", "medium", "high"):
        auc = metrics[f"mia_auc/{stratum}"]
        assert 0 <= auc["value"] <= 1 and auc["ci_low"] <= auc["value"] <= auc["ci_high"]
        assert auc["n_items"] == int((facts["group"] == stratum).sum())
        for name in (f"relearn/{stratum}", f"relearn_benign/{stratum}"):
            # with --limit 4 the evaluated items may all sit in the relearned half: then the entry says so
            assert metrics[name]["interval"] in ("people bootstrap (one seed, 2 steps)",
                                                 "no evaluated item of this half (forget_half, heldout)")
        assert metrics[f"relearn_benign/{stratum}"]["interval"] == "people bootstrap (one seed, 2 steps)"
    shown = row(json.loads(path.read_text()))
    assert shown["MIA AUC high"] == round(metrics["mia_auc/high"]["value"], 3)
    assert "MIA AUC high" not in COMPACT_COLUMNS and "Relearn low" not in COMPACT_COLUMNS  # behind the toggle


def test_a_people_table_without_held_out_people_is_refused_in_one_line(tiny_world: Path, tiny_benchmark: Path,
                                                                       tmp_path: Path, capsys) -> None:
    facts = pd.read_parquet(tiny_world / "facts.parquet")
    members = tmp_path / "members.parquet"
    facts[facts["group"] != "heldout"].to_parquet(members)
    store, base = tmp_path / "store", make_checkpoint(tmp_path / "base")
    capsys.readouterr()
    code = cli(["leaderboard", "init", "--store", str(store), "--benchmark", str(tiny_benchmark),
                "--base-model", str(base), "--people", str(members)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1 and str(members) in err and "heldout" in err
    assert not (store / "leaderboard.json").exists()
