"""`freq-unlearn demo --quick` end to end (CI's end-to-end test).

The quick preset's world and tiny model are exactly the session fixtures, so the test seeds the
run folder with them, as a rerun after an interruption would find them, and the demo reuses
them; every later stage (count check, benchmark, lm-eval, unlearning, leaderboard, report) runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tiny_settings import TINY_PRETRAIN, TINY_WORLD

from freq_unlearn.demo import PRESETS, run_demo
from freq_unlearn.core.errors import UserError
from freq_unlearn.world import load_world


def test_quick_preset_is_the_fixture_world_and_model() -> None:
    quick = PRESETS["quick"]
    assert {**quick.world, "seed": 0} == TINY_WORLD
    assert quick.sizes == (TINY_PRETRAIN["size"],) and not quick.epochs


def test_quick_demo_end_to_end(tiny_world: Path, tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    shutil.copytree(tiny_world, out / "world")
    (out / "world" / ".stage-complete").write_text("ok\n")
    shutil.copytree(tiny_model, out / "models" / "tiny")
    (out / "models" / "tiny" / ".stage-complete").write_text("ok\n")

    report = run_demo(out, "quick")
    text = report.read_text()
    assert load_world(out / "world").content_hash == load_world(tiny_world).content_hash
    check = json.loads((out / "counts" / "check.json").read_text())
    assert check["mismatches"] == 0 and check["exact"] == check["facts"] == 576
    for heading in ("## Finding 1", "## Finding 2", "### At equal utility", "## Leaderboard", "## Stages"):
        assert heading in text
    assert "Verdict:" in text and ("reproduced" in text or "inconclusive" in text)
    for png in ("retention_tiny.png", "retention_vs_count_tiny.png", "tradeoff_tiny.png",
                "views_by_size.png", "prob_vs_gen.png"):
        assert (out / "plots" / png).stat().st_size > 2000
    results = json.loads((out / "results.json").read_text())
    assert len(results["per_run"]) == 2 * 3  # two methods x three strata, one seed
    assert (out / "leaderboard" / "site" / "index.html").is_file()
    # Unlearning happened: a run forgot part of what the model knew.
    assert min(r["retention_gen"] for r in results["per_run"] if r["retention_gen"] == r["retention_gen"]) < 1.0

    # A rerun reuses every finished stage.
    again = run_demo(out, "quick").read_text()
    stages = again.split("## Stages")[1]
    assert "| False |" not in stages

    # Another preset into the same folder is refused, and nothing is touched.
    with pytest.raises(UserError, match="other settings"):
        run_demo(out, "default")
