"""build_benchmark: splits, strata rules, dataset card, determinism, load_dataset round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from freq_unlearn.core import schema
from freq_unlearn.core.errors import UserError
from freq_unlearn.frequency_index import build_benchmark, count_facts
from freq_unlearn.frequency_index.benchmark import assign_strata, cut_points


@pytest.fixture(scope="module")
def world_counts(small_world, tmp_path_factory):
    out = tmp_path_factory.mktemp("fi_counts") / "counts.parquet"
    count_facts([str(small_world / "corpus")], small_world / "facts.parquet", out, progress=False)
    return small_world / "facts.parquet", out


def test_benchmark_has_the_named_splits_and_loads_back(world_counts, tmp_path):
    from datasets import load_dataset

    facts_path, counts_path = world_counts
    facts = pd.read_parquet(facts_path)
    dd = build_benchmark(facts_path, counts_path, tmp_path / "bench")
    assert list(dd) == list(schema.BENCHMARK_SPLITS)
    for split in dd.values():
        assert set(schema.BENCHMARK_COLUMNS) <= set(split.column_names)
    # tiered world: terciles put the x1, x3 and x10 people in low, medium and high
    for stratum, copies in zip(schema.STRATA, (1, 3, 10)):
        split = dd[f"forget_{stratum}"]
        assert set(split["count"]) == {copies} and set(split["stratum"]) == {stratum}
        assert split["fact_id"] == sorted(split["fact_id"])
    by_group = facts.groupby("group").size()
    assert len(dd["retain"]) == by_group["retain"] and set(dd["retain"]["stratum"]) == {"retain"}
    assert len(dd["utility"]) == by_group["utility"]
    para, orig = dd["forget_high_paraphrased"], dd["forget_high"]
    assert para["fact_id"] == orig["fact_id"]
    assert para["original_question"] == orig["question"]
    first_paraphrase = facts.set_index("fact_id").loc[para["fact_id"], "paraphrases"].map(lambda p: p[0])
    assert para["question"] == list(first_paraphrase)

    loaded = load_dataset(str(tmp_path / "bench"))
    assert list(loaded) == list(schema.BENCHMARK_SPLITS)
    assert loaded["forget_medium"]["fact_id"] == dd["forget_medium"]["fact_id"]
    card = (tmp_path / "bench" / "README.md").read_text()
    assert card.startswith("---\nconfigs:") and "backend: scan" in card and "cut points" in card


def test_same_inputs_give_byte_identical_files(world_counts, tmp_path):
    facts_path, counts_path = world_counts
    build_benchmark(facts_path, counts_path, tmp_path / "a")
    build_benchmark(facts_path, counts_path, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == len(schema.BENCHMARK_SPLITS) + 2
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_two_valued_counts_name_the_empty_stratum(paper_world, tmp_path):
    counts = tmp_path / "counts.parquet"
    count_facts([str(paper_world / "corpus")], paper_world / "facts.parquet", counts, progress=False)
    with pytest.raises(UserError, match="forget_medium would be empty"):
        build_benchmark(paper_world / "facts.parquet", counts, tmp_path / "bench")
    assert not (tmp_path / "bench").exists()
    dd = build_benchmark(paper_world / "facts.parquet", counts, tmp_path / "bench", allow_empty=True)
    assert len(dd["forget_medium"]) == 0 and set(dd["forget_low"]["count"]) == {1}
    assert set(dd["forget_high"]["count"]) == {10}


def test_graded_world_fills_all_three_terciles(graded_world, tmp_path):
    counts = tmp_path / "counts.parquet"
    count_facts([str(graded_world / "corpus")], graded_world / "facts.parquet", counts, progress=False)
    dd = build_benchmark(graded_world / "facts.parquet", counts, tmp_path / "bench")
    low, med, high = (dd[f"forget_{s}"]["count"] for s in schema.STRATA)
    assert low and med and high
    assert max(low) < min(med) and max(med) < min(high)


def test_strata_rules():
    counts = np.array([1, 1, 2, 4, 8, 16, 32, 64, 64])
    q1, q2 = cut_points(counts, "terciles", None)
    strata = assign_strata(counts, q1, q2)
    assert list(strata[:2]) == ["low", "low"] and list(strata[-2:]) == ["high", "high"]
    assert list(assign_strata(counts, *cut_points(counts, "thresholds", (2, 32)))) == (
        ["low"] * 3 + ["medium"] * 3 + ["high"] * 3
    )
    lo, hi = cut_points(counts, "log-bins", None)
    assert np.isclose(np.log1p(lo) - np.log1p(1), (np.log1p(64) - np.log1p(1)) / 3)
    with pytest.raises(UserError, match="two cut values"):
        cut_points(counts, "quantiles", None)


def test_user_facts_without_groups_and_balancing(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        rows.append({"fact_id": f"u{i:03d}", "subject": f"Person {i}", "object": f"Thing {i}",
                     "relation": ["r1", "r2"][i % 2], "question": f"Q{i}?", "answer": f"Thing {i}",
                     "paraphrases": [f"P{i}?"], "distractors": ["x"]})
    facts = pd.DataFrame(rows)
    counts = pd.DataFrame({"fact_id": facts["fact_id"], "count": rng.integers(0, 1000, 60),
                           "subject_count": 0, "object_count": 0})
    dd = build_benchmark(facts, counts, tmp_path / "b", retain_fraction=0.1, utility_fraction=0.1)
    assert len(dd["retain"]) == 6 and len(dd["utility"]) == 6
    assert sum(len(dd[f"forget_{s}"]) for s in schema.STRATA) == 48
    ids = [dd[s]["fact_id"] for s in ("retain", "utility", "forget_low", "forget_medium", "forget_high")]
    assert len(set().union(*map(set, ids))) == 60
    balanced = build_benchmark(facts, counts, tmp_path / "c", balance=True, retain_ids=["u000"], utility_ids=["u001"])
    for relation in ("r1", "r2"):
        sizes = {len([r for r in balanced[f"forget_{s}"]["relation"] if r == relation]) for s in schema.STRATA}
        assert len(sizes) == 1
    with pytest.raises(UserError, match="has no count"):
        build_benchmark(facts, counts.iloc[1:], tmp_path / "d")


def _user_facts(n: int = 30, **extra) -> pd.DataFrame:
    rows = [{"fact_id": f"u{i:03d}", "subject": f"Person {i}", "object": f"Thing {i % 7}",
             "relation": ["r1", "r2"][i % 2], "question": f"Q{i}?", "answer": f"Thing {i % 7}",
             **{k: v(i) for k, v in extra.items()}} for i in range(n)]
    return pd.DataFrame(rows)


def _counts_for(facts: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"fact_id": facts["fact_id"], "count": np.arange(len(facts)) % 9,
                         "subject_count": 0, "object_count": 0})


def test_facts_without_distractors_get_same_relation_ones(tmp_path):
    """Issue 11 item 4: an empty list made MC accuracy all([]) = 1 for every item."""
    facts = _user_facts()
    dd = build_benchmark(facts, _counts_for(facts), tmp_path / "a", seed=3)
    answers = facts.groupby("relation")["answer"].agg(set)
    for split in dd.values():
        for row in split:
            assert 1 <= len(row["distractors"]) <= 4 and row["answer"] not in row["distractors"]
            assert set(row["distractors"]) <= answers[row["relation"]]
    again = build_benchmark(facts.iloc[::-1], _counts_for(facts), tmp_path / "b", seed=3)
    assert again["forget_low"]["distractors"] == dd["forget_low"]["distractors"]  # seeded, not order-dependent
    other = build_benchmark(facts, _counts_for(facts), tmp_path / "c", seed=4)
    assert any(a != b for split in dd for a, b in zip(dd[split]["distractors"], other[split]["distractors"]))
    import json

    assert json.loads((tmp_path / "a" / "benchmark_info.json").read_text())["generated_distractors"] == len(facts)
    given = facts.assign(distractors=[["x"]] * len(facts))
    kept = build_benchmark(given, _counts_for(given), tmp_path / "d")
    assert set(map(tuple, kept["forget_low"]["distractors"])) == {("x",)}


def test_a_relation_with_one_answer_cannot_get_distractors(tmp_path):
    facts = _user_facts().assign(answer="Same", object="Same")
    with pytest.raises(UserError, match=r"fact 'u000' has no distractors and relation 'r1' has no other answer") as err:
        build_benchmark(facts, _counts_for(facts), tmp_path / "a")
    assert "\n" not in str(err.value) and not (tmp_path / "a").exists()


def test_optional_columns_and_world_hash_are_carried(tmp_path):
    import json

    facts = _user_facts(person_id=lambda i: f"p{i // 2:03d}",
                        bio_prefix=lambda i: "" if i % 5 == 0 else f"Person {i} works with")
    dd = build_benchmark(facts, _counts_for(facts), tmp_path / "a", world_hash="abc123")
    by_id = facts.set_index("fact_id")
    for split in dd.values():
        assert set(schema.OPTIONAL_BENCHMARK_COLUMNS) <= set(split.column_names)
        for row in split:
            assert row["person_id"] == by_id.loc[row["fact_id"], "person_id"]
            assert row["bio_prefix"] == by_id.loc[row["fact_id"], "bio_prefix"]
    assert json.loads((tmp_path / "a" / "benchmark_info.json").read_text())["world_hash"] == "abc123"
    plain = build_benchmark(_user_facts(), _counts_for(facts), tmp_path / "b")
    assert not set(schema.OPTIONAL_BENCHMARK_COLUMNS) & set(plain["retain"].column_names)
    assert "world_hash" not in json.loads((tmp_path / "b" / "benchmark_info.json").read_text())
