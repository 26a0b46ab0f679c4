"""`freq-unlearn demo --quick` end to end, on the core install (no extras), as a new user runs it.

The run happens in a fresh virtual env that holds only the core dependencies (tests/core_venv.py),
so a module that only an extra provides (orjson through gradio, say) cannot hide a missing core
dependency. The quick preset's world and tiny model are exactly the session fixtures: the test
seeds the run folder with them, as a rerun after an interruption would find them, and the demo
reuses them; every later stage (count check, benchmark, lm-eval, unlearning of each stratum with
in-run records, evaluation, analysis, report) runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from core_venv import make_core_venv, venv_env
from tiny_settings import TINY_PRETRAIN, TINY_WORLD

from freq_unlearn.core.schema import STRATA
from freq_unlearn.demo import PRESETS
from freq_unlearn.demo.pipeline import DONE
from freq_unlearn.world import load_world


def test_quick_preset_is_the_fixture_world_and_model() -> None:
    quick = PRESETS["quick"]
    assert {**quick.world, "seed": quick.main_model.world_seed} == TINY_WORLD
    assert quick.sizes == (TINY_PRETRAIN["size"],) and not quick.epochs
    assert quick.main_model.pretrain_seed == TINY_PRETRAIN["seed"] and quick.main_model.rotation == 0


def test_presets_replicate_over_rotated_models() -> None:
    default = PRESETS["default"]
    assert len(default.models) >= 3 and {m.rotation for m in default.models} == {0, 1, 2}
    assert {"ga", "npo", "simnpo"} <= set(default.methods)
    sizes = PRESETS["sizes"]
    assert all(sum(m.size == s for m in sizes.models) >= 2 for s in sizes.sizes) and len(sizes.sizes) >= 2


def _demo(venv: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["freq-unlearn", "demo", "--out", str(out), *args], env=venv_env(venv), cwd=out.parent,
                          capture_output=True, text=True, timeout=1200)


@pytest.mark.slow
def test_quick_demo_end_to_end_on_the_core_install(tiny_world: Path, tiny_model: Path, tmp_path: Path) -> None:
    venv = make_core_venv(tmp_path / "env")
    out = tmp_path / "demo"
    root = out / "models" / PRESETS["quick"].main_model.id
    shutil.copytree(tiny_world, root / "world")
    (root / "world" / DONE).write_text("ok\n")
    shutil.copytree(tiny_model, root / "model")
    (root / "model" / DONE).write_text("ok\n")

    run = _demo(venv, out, "--quick")
    assert run.returncode == 0, run.stderr[-4000:]
    # one line per stage, the libraries' bars and raw loss dicts only with --verbose
    assert "{'loss'" not in run.stdout + run.stderr
    assert len(run.stdout.splitlines()) < 40, run.stdout

    assert load_world(root / "world").content_hash == load_world(tiny_world).content_hash
    check = json.loads((root / "counts" / "check.json").read_text())
    assert check["mismatches"] == 0 and check["exact"] == check["facts"]
    text = (out / "report.md").read_text()
    for heading in ("## What the pre-trained models knew", "## Finding 1", "## Costs", "## At equal utility cost",
                    "## Finding 2", "## Stages"):
        assert heading in text
    results = json.loads((out / "results.json").read_text())
    quick = PRESETS["quick"]
    assert len(results["slopes"]) == len(quick.methods) * len(quick.probes) * 3
    # one pre-trained model: intervals are over people only, labelled so, and no model-level claim
    assert {r["estimate"]["method"] for r in results["slopes"] if r["estimate"]["value"] is not None} <= {
        "people only (one model)"}
    assert "descriptive" in results["sizes"]["verdict"]

    # per-item records: every run targeted every stratum and was evaluated again; the utility arm's
    # runs of the same stratum wrote in-run records
    for method in quick.methods:
        for stratum in STRATA:
            folder = out / "runs" / quick.main_model.id / method / stratum / "seed0"
            assert (folder / "after.parquet").is_file()
            arm = out / "utility" / quick.main_model.id / method / stratum / "seed0"
            assert sorted((arm / "inrun").glob("step-*.parquet"))
    arm = quick.utility_arm
    assert len(results["equal_utility"]) == len(arm.methods) * len(arm.levels) * 3
    items = pd.read_parquet(out / "items.parquet")
    assert (out / "items.parquet").stat().st_size < 5_000_000
    assert set(items["target"]) == set(STRATA) and set(items["probe"]) == set(quick.probes)
    assert items.groupby(["method", "target", "split", "probe", "fact_id"]).size().max() == 1  # each item once
    # unlearning happened: the targeted stratum lost gold log-probability on average
    targeted = items[items["split"] == "forget_" + items["target"]]
    assert (targeted["logprob_before"] - targeted["logprob_after"]).mean() > 0
    for png in ("net_forgetting.png", "net_vs_count.png", "equal_utility.png"):
        assert (out / "plots" / png).stat().st_size > 2000
    # the board's results keep their per-item scores (its retention-vs-count plot reads them)
    board = json.loads((out / "leaderboard" / "results.json").read_text())
    assert [r["method"] for r in board] == list(quick.methods) and all(r["items"] for r in board)

    # a rerun reuses every finished stage
    again = _demo(venv, out, "--quick")
    assert again.returncode == 0, again.stderr[-4000:]
    stages = (out / "report.md").read_text().split("## Stages")[1]
    assert "| False |" not in stages

    # another preset into the same folder is refused in one line, and nothing is touched
    before = (out / "results.json").read_bytes()
    other = _demo(venv, out, "--preset", "default")
    assert other.returncode != 0 and "other settings" in other.stderr and len(other.stderr.strip().splitlines()) == 1
    assert (out / "results.json").read_bytes() == before
