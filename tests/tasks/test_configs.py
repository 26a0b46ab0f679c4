"""The committed YAMLs are exactly what the generator writes, and the names follow the rules."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

from freq_unlearn.tasks import DEFAULT_TASKS_DIR, PAPER_TASKS_DIR, _generate_configs as gen
from freq_unlearn.core import schema


def test_committed_yamls_match_generator(tmp_path):
    assert gen.stale_files() == []
    # a fresh generation into an empty folder gives byte-identical files
    gen.write_all(tmp_path)
    for rel in gen.expected_files():
        assert (tmp_path / rel).read_bytes() == (gen.TASKS_DIR / rel).read_bytes(), rel


def test_check_mode_reports_an_edited_file(tmp_path):
    gen.write_all(tmp_path)
    victim = tmp_path / "default/synthetic/freq_unlearn_synthetic_retain_gen.yaml"
    victim.write_text(victim.read_text() + "# hand edit\n")
    (tmp_path / "default/synthetic/stray.yaml").write_text("task: stray\n")
    stale = gen.stale_files(tmp_path)
    assert "default/synthetic/freq_unlearn_synthetic_retain_gen.yaml" in stale
    assert "default/synthetic/stray.yaml (not generated)" in stale


def _indexed(path: Path):
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(path), include_defaults=False)


def test_default_index_names_and_wildcard():
    tm = _indexed(DEFAULT_TASKS_DIR)
    qa = {f"freq_unlearn_synthetic_{s}_{v}" for s in schema.BENCHMARK_SPLITS for v in ("gen", "ll")}
    bio = {f"freq_unlearn_synthetic_{s}_bio_{v}" for s in schema.BENCHMARK_SPLITS if not s.endswith("_paraphrased")
           for v in ("gen", "ll")}
    expected = qa | bio
    assert set(tm.all_subtasks) == expected
    # the wildcard of the headline command matches every task and no group or tag
    assert set(fnmatch.filter(tm.all_tasks, "freq_unlearn_*")) == expected
    assert {"freq-unlearn-synthetic", "freq-unlearn-synthetic-gen", "freq-unlearn-synthetic-ll",
            "freq-unlearn-synthetic-bio-gen", "freq-unlearn-synthetic-bio-ll"} <= set(tm.all_groups)
    for tag in ("freq-unlearn-gen", "freq-unlearn-ll", "freq-unlearn-qa", "freq-unlearn-bio", "freq-unlearn-low", "freq-unlearn-medium", "freq-unlearn-high",
                "freq-unlearn-forget", "freq-unlearn-paraphrased", "freq-unlearn-retain", "freq-unlearn-utility"):
        assert tag in tm.all_tags
    assert tm.task_index["freq-unlearn-low"].tags == {
        f"freq_unlearn_synthetic_{s}_{v}" for s in ("forget_low", "forget_low_paraphrased", "forget_low_bio")
        for v in ("gen", "ll")
    }


def test_paper_tasks_are_outside_the_default_folder():
    tm = _indexed(PAPER_TASKS_DIR)
    names = set(tm.all_subtasks)
    assert len(names) == 3 * len(schema.PAPER_SPLITS) * 2
    assert "freq_unlearn_country_capital_forget_high_count_paraphrased_ll" in names
    assert not any(p.name.startswith("freq_unlearn_") for p in DEFAULT_TASKS_DIR.rglob("*.yaml") if "count" in p.name)


def test_generator_check_cli():
    assert gen.main(["--check"]) == 0
    assert sys.modules["freq_unlearn.tasks._generate_configs"] is gen
