"""Membership-inference splits written by `build` (config "mia"), read by lm-eval's mia tasks' loader
and by `people_from_benchmark`, and the same splits through `datasets.load_dataset` (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from freq_unlearn.core.benchmark_folder import MIA_CONFIG, load_splits
from freq_unlearn.robustness.mia import people_from_benchmark
from freq_unlearn.tasks.scores import MIA_GROUPS, mia_split


def test_build_writes_one_biography_per_person_and_group_including_the_held_out(tiny_world: Path,
                                                                                tiny_benchmark: Path) -> None:
    facts = pd.read_parquet(tiny_world / "facts.parquet").drop_duplicates("person_id")
    splits = load_splits(str(tiny_benchmark), MIA_CONFIG)
    assert set(splits) == {mia_split(g) for g in MIA_GROUPS}
    for group in MIA_GROUPS:
        want = facts[facts["group"] == group].set_index("person_id")["biography"].sort_index()
        got = splits[mia_split(group)].to_pandas().set_index("person_id")["biography"].sort_index()
        pd.testing.assert_series_equal(got, want, check_names=False)
    assert "mia_heldout" not in load_splits(str(tiny_benchmark))  # the default config keeps the QA splits only
    people = people_from_benchmark(str(tiny_benchmark))
    assert len(people) == len(facts) and (people["group"] == "heldout").sum() == 32


def test_the_card_loads_both_configs_with_datasets(tiny_benchmark: Path) -> None:
    from datasets import load_dataset

    default = load_dataset(str(tiny_benchmark))
    mia = load_dataset(str(tiny_benchmark), MIA_CONFIG)
    assert "forget_high" in default and "mia_heldout" not in default
    assert set(mia) == {mia_split(g) for g in MIA_GROUPS} and mia["mia_heldout"].num_rows == 32
