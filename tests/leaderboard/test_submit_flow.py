"""The whole submit flow with real parts and small models: a tiny random GPT-2 as the base model,
three unlearned-copy stand-ins (one per forget stratum), the tiny world's benchmark, lm-eval through
`tasks.evaluation.evaluate`, the protocol's scores, the store, `list` and `export` (issue 14).

A random model knows no fact, so the forgetting scores are empty (None) here; the test checks the
wiring (every split evaluated, the result format, intervals labelled, the base cache, the page), and
test_protocol.py checks the numbers on records whose answers are known."""

from __future__ import annotations

import json
from pathlib import Path

from lb_helpers import curve, make_checkpoint, make_runs

from freq_unlearn.cli import main as cli

LIMIT = 4


def test_submit_list_export_with_real_evaluation(tiny_benchmark: Path, tmp_path: Path, capsys) -> None:
    base = make_checkpoint(tmp_path / "base")
    store = tmp_path / "store"
    assert cli(["leaderboard", "init", "--store", str(store), "--benchmark", str(tiny_benchmark),
                "--base-model", str(base), "--limit", str(LIMIT)]) == 0
    # the run records' per-step evaluations travel into the result (the per-method view's curves):
    # two runs report some, the medium run none
    runs = make_runs(tmp_path / "runs", base_model=str(base), method="ga", seeds=(1,), evaluations=curve())
    medium = runs[1] / "run_record.json"
    medium.write_text(json.dumps({**json.loads(medium.read_text()), "evaluations": []}))
    assert cli(["leaderboard", "submit", "--store", str(store), "--n-boot", "20", *map(str, runs)]) == 0
    out = capsys.readouterr().out
    assert "submission" in out and "FINISHED" in out

    (path,) = sorted((store / "results").rglob("*.json"))
    result = json.loads(path.read_text())
    assert result["schema"] == "freq_unlearn.leaderboard_result/3"
    assert {(r["target"], r["seed"]) for r in result["runs"]} == {("low", 1), ("medium", 1), ("high", 1)}
    kept = {r["target"]: r["evaluations"] for r in result["runs"]}
    assert kept == {"low": curve(), "medium": [], "high": curve()}
    assert set(result["checkpoints"]) == {"forget_low/1", "forget_medium/1", "forget_high/1"}
    metrics = result["metrics"]
    assert metrics["ppl_before"]["value"] > 1 and metrics["ppl_ratio"]["value"] > 0
    assert metrics["collateral"]["n_items"] == 2 * 3 * LIMIT  # two untargeted strata per run
    assert metrics["retain_forgetting"]["interval"] == "people bootstrap (one seed)"
    assert len(list((store / "cache" / "base").glob("*.parquet"))) == 1

    assert cli(["leaderboard", "list", "--store", str(store)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("| Rank | Method | Headline |") and "| ga |" in table[2]
    assert cli(["leaderboard", "export", "--store", str(store), "--out", str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "index.html").read_text()
    assert "ga" in page and 'alt="Forgetting curves of ga, reported by the submitter\'s run records"' in page
    assert "No per-step evaluations in the run records of: medium seed 1." in page
