"""The synthetic world: determinism, true counts, hidden QA, facts, bad input."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from freq_unlearn.core import schema
from freq_unlearn.core.errors import UserError
from freq_unlearn.world import WorldConfig, generate_world, load_world

SMALL = dict(people_per_tier=6, n_retain=8, n_utility=4, n_cities=12, docs_per_shard=50)


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_world(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", WorldConfig(**SMALL, seed=3))
    b = generate_world(tmp_path / "b", WorldConfig(**SMALL, seed=3))
    c = generate_world(tmp_path / "c", WorldConfig(**SMALL, seed=4))
    assert _all_bytes(a) == _all_bytes(b)
    assert _all_bytes(a)["facts.parquet"] != _all_bytes(c)["facts.parquet"]


def test_true_count_is_the_number_of_documents_stating_the_fact(tiny_world: Path) -> None:
    world = load_world(tiny_world)
    facts = world.facts()
    docs = list(world.documents())
    assert {"id", "text", "source", "metadata"} <= set(docs[0])
    # Count, from the text alone, the documents that contain both subject and object.
    for _, f in facts.sample(60, random_state=0).iterrows():
        n = sum(1 for d in docs if f["subject"] in d["text"] and f["object"] in d["text"])
        assert n == f["true_count"], f["fact_id"]
    stating = Counter((d["metadata"]["person_id"], d["metadata"].get("relation")) for d in docs)
    for p, rel, c in zip(facts["person_id"], facts["relation"], facts["true_count"]):
        assert stating[(p, None)] + stating[(p, rel)] == c


def test_designs_control_the_counts(tmp_path: Path) -> None:
    def counts(design: str) -> dict[str, set[int]]:
        w = load_world(generate_world(tmp_path / design, WorldConfig(design=design, **SMALL)))
        f = w.facts()
        return {g: set(f[f["group"] == g]["true_count"]) for g in set(f["group"])}

    assert counts("paper") == {"high": {10}, "low": {1}, "retain": {3}, "utility": {1}}
    assert counts("tiered") == {"high": {10}, "medium": {3}, "low": {1}, "retain": {3}, "utility": {1}}
    assert counts("graded")["graded"] == {1, 2, 4, 8, 16, 32, 64}


def test_hidden_qa_is_never_in_the_corpus(tiny_world: Path) -> None:
    world = load_world(tiny_world)
    text = "\n".join(d["text"] for d in world.documents())
    facts = world.facts()
    for _, f in facts.iterrows():
        asked = schema.QA_PROMPT.format(question=f["question"]) in text
        assert asked == (f["group"] == schema.GROUP_RETAIN), f["fact_id"]


def test_biography_copies_are_reworded(tiny_world: Path) -> None:
    world = load_world(tiny_world)
    high = world.facts().query("group == 'high'")["person_id"].iloc[0]
    bios = [d["text"] for d in world.documents()
            if d["metadata"]["person_id"] == high and d["metadata"]["kind"] == "bio"]
    assert len(bios) == 10
    sentences = [set(b.split(". ")) for b in bios]
    # No sentence wording repeats across all copies.
    assert not set.intersection(*sentences)


def test_facts_table_schema(tiny_world: Path) -> None:
    facts = load_world(tiny_world).facts()
    assert list(facts.columns) == list(schema.FACT_COLUMNS)
    assert facts["fact_id"].is_unique
    assert set(facts["relation"]) == set(schema.RELATIONS)
    assert (facts["answer"] == facts["object"]).all()
    pools = facts.groupby("relation")["answer"].agg(set)
    for _, f in facts.iterrows():
        assert len(f["paraphrases"]) >= 1 and f["question"] not in list(f["paraphrases"])
        d = list(f["distractors"])
        assert len(d) == len(set(d)) >= 2 and f["answer"] not in d
        assert set(d) <= pools[f["relation"]]  # same relation
        assert not f["question"].endswith(" ")


def test_bio_prefix_and_biography_are_the_first_biography_in_the_corpus(tiny_world: Path) -> None:
    world = load_world(tiny_world)
    facts = world.facts()
    facts = facts[facts["group"] != "heldout"]  # held-out people are never in the corpus (tested below)
    first_bio = {d["metadata"]["person_id"]: d["text"] for d in world.documents()
                 if d["metadata"]["kind"] == "bio" and d["metadata"]["copy"] == 0}
    assert set(first_bio) == set(facts["person_id"])
    for _, f in facts.iterrows():
        bio = f["biography"]
        assert bio == first_bio[f["person_id"]], f["fact_id"]
        if f["bio_prefix"]:
            # The prefix is one sentence's start, never a neighbouring sentence's end.
            assert f["bio_prefix"] + " " + f["answer"] in bio, f["fact_id"]
            assert "." not in f["bio_prefix"].replace(f["subject"], ""), f["fact_id"]
        else:  # the attribute opens its sentence: nothing precedes it to complete from
            assert bio.startswith(f["answer"] + " ") or (". " + f["answer"] + " ") in bio, f["fact_id"]
    # Most facts have a sentence prefix (the BIO probe keeps only those).
    assert (facts["bio_prefix"] != "").mean() > 0.7
    assert facts.query("relation == 'employer'")["bio_prefix"].str.len().gt(0).any()


def test_rotations_move_the_same_people_through_the_tiers(tmp_path: Path) -> None:
    worlds = [load_world(generate_world(tmp_path / f"r{r}", WorldConfig(**SMALL, rotation=r)))
              for r in range(3)]
    assert [w.meta["config"]["rotation"] for w in worlds] == [0, 1, 2]
    facts = [w.facts().set_index("fact_id") for w in worlds]
    # The same people with the same attributes (and questions) in every rotation.
    for f in facts[1:]:
        assert f.index.equals(facts[0].index)
        for column in ("person_id", "subject", "relation", "answer", "question"):
            assert (f[column] == facts[0][column]).all(), column
    groups = pd.DataFrame({r: f.groupby("person_id")["group"].first() for r, f in enumerate(facts)})
    order = [schema.GROUP_LOW, schema.GROUP_MEDIUM, schema.GROUP_HIGH]
    forget = groups[groups[0].isin(order)]
    assert len(forget) == 3 * SMALL["people_per_tier"]
    for r in (1, 2):  # one tier further along low -> medium -> high -> low per rotation
        moved = forget[0].map(lambda g: order[(order.index(g) + r) % 3])
        assert (forget[r] == moved).all()
    assert all(set(row) == set(order) for row in forget.itertuples(index=False))  # each tier once
    others = groups[~groups[0].isin(order)]
    assert len(others) and (others[1] == others[0]).all() and (others[2] == others[0]).all()
    # The counts follow the people, and the corpus says so.
    for w, f in zip(worlds, facts):
        docs = [d["text"] for d in w.documents()]
        for fact_id, row in f.sample(25, random_state=1).iterrows():
            n = sum(1 for d in docs if row["subject"] in d and row["object"] in d)
            assert n == row["true_count"], (w.meta["config"]["rotation"], fact_id)


def test_rotation_is_range_checked() -> None:
    with pytest.raises(UserError, match=r"rotation must be in 0..2 \(the tiered design has 3 tiers\), got 3"):
        WorldConfig(rotation=3)
    with pytest.raises(UserError, match="rotation must be in 0..1"):
        WorldConfig(design="paper", rotation=-1)
    assert WorldConfig(design="graded", graded_max=8, rotation=3).rotation == 3  # 4 levels


def test_heldout_people_are_never_in_the_corpus_and_change_nobody_else(tmp_path: Path) -> None:
    base = generate_world(tmp_path / "base", WorldConfig(**SMALL, rotation=1))
    out = generate_world(tmp_path / "held", WorldConfig(**SMALL, rotation=1, n_heldout=5))
    a, b = _all_bytes(base), _all_bytes(out)
    assert {k for k in a if k.startswith("corpus/")} == {k for k in b if k.startswith("corpus/")}
    assert all(a[k] == b[k] for k in a if k.startswith("corpus/"))
    world = load_world(out)
    facts = world.facts()
    held = facts[facts["group"] == schema.GROUP_HELDOUT]
    assert held["person_id"].nunique() == 5 and len(held) == 5 * len(schema.RELATIONS)
    assert (held["true_count"] == 0).all()
    members = facts[facts["group"] != schema.GROUP_HELDOUT].reset_index(drop=True)
    assert members.equals(load_world(base).facts())  # distractors included
    assert not set(held["subject"]) & set(members["subject"])
    text = "\n".join(d["text"] for d in world.documents())
    for _, f in held.iterrows():
        assert f["subject"] not in text
        bio = f["biography"]
        assert f["subject"] in bio and f["answer"] in bio and bio.count(". ") == len(schema.RELATIONS) - 1
        if f["bio_prefix"]:
            assert f["bio_prefix"] + " " + f["answer"] in bio
        assert f["answer"] not in list(f["distractors"]) and len(f["distractors"]) == SMALL.get("n_distractors", 4)
    assert world.meta["summary"]["groups"][schema.GROUP_HELDOUT] == {"people": 5, "documents": 0}
    with pytest.raises(UserError, match="n_heldout must be >= 0"):
        WorldConfig(n_heldout=-1)


def test_corpus_is_dolma_style_jsonl_gz(tiny_world: Path) -> None:
    shard = load_world(tiny_world).corpus_files[0]
    with gzip.open(shard, "rt") as f:
        rec = json.loads(f.readline())
    assert isinstance(rec["text"], str) and rec["source"].startswith("freq_unlearn.synthetic")


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(people_per_tier=0), "people_per_tier must be a positive integer"),
        (dict(n_retain=-1), "n_retain must be >= 0"),
        (dict(high_copies=0), "high_copies must be a positive integer"),
        (dict(design="nope"), "design 'nope' is unknown"),
        (dict(medium_copies=12), "tiered design needs 1 < medium_copies < high_copies"),
        (dict(people_per_tier=40000), "exceed"),
    ],
)
def test_impossible_parameters_are_one_line_errors(bad: dict, message: str) -> None:
    with pytest.raises(UserError, match=message) as err:
        WorldConfig(**bad)
    assert "\n" not in str(err.value)


def test_refuses_non_empty_output_and_keeps_it(tmp_path: Path) -> None:
    out = tmp_path / "w"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(UserError, match="exists and is not empty"):
        generate_world(out, WorldConfig(**SMALL))
    assert (out / "precious.txt").read_text() == "keep me"
    generate_world(out, WorldConfig(**SMALL), overwrite=True)
    assert not (out / "precious.txt").exists() and load_world(out)
    assert [p.name for p in tmp_path.iterdir()] == ["w"]  # no temporary folder left behind


def test_edited_or_incomplete_world_is_detected(tmp_path: Path) -> None:
    out = generate_world(tmp_path / "w", WorldConfig(**SMALL))
    shard = sorted((out / "corpus").glob("*.jsonl.gz"))[0]
    original = shard.read_bytes()
    shard.write_bytes(gzip.compress(b'{"id": "x", "text": "edited"}\n'))
    with pytest.raises(UserError, match=r"shard_00000.jsonl.gz was changed after generation"):
        load_world(out)
    shard.unlink()
    with pytest.raises(UserError, match="incomplete: corpus/shard_00000.jsonl.gz is missing"):
        load_world(out)
    shard.write_bytes(original)
    assert load_world(out)
    (out / "world.json").unlink()
    with pytest.raises(UserError, match="world.json is missing"):
        load_world(out)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["config"].update(high_copies=20),
        lambda m: m.update(seed=99),
        lambda m: m["summary"]["groups"]["high"].update(documents=1),
        lambda m: m["files"].update({"corpus/extra.jsonl.gz": "0" * 64}),
    ],
    ids=["config", "seed", "summary", "files"],
)
def test_edited_world_json_is_detected(tmp_path: Path, edit) -> None:
    out = generate_world(tmp_path / "w", WorldConfig(**SMALL))
    meta_path = out / "world.json"
    meta = json.loads(meta_path.read_text())
    edit(meta)
    meta_path.write_text(json.dumps(meta, indent=2))
    with pytest.raises(UserError, match=r"world.json was edited after generation") as err:
        load_world(out)
    assert "\n" not in str(err.value)
    assert load_world(out, verify=False).meta == meta  # verify=False reads without checking
    meta_path.write_text("[1, 2]")
    with pytest.raises(UserError, match="format 'list' is not"):
        load_world(out)


def test_facts_parquet_reads_with_pandas(tiny_world: Path) -> None:
    f = pd.read_parquet(tiny_world / "facts.parquet")
    meta = json.loads((tiny_world / "world.json").read_text())
    assert len(f) == meta["summary"]["facts"] == meta["summary"]["people"] * 6


def test_world_command_takes_rotation_and_heldout(tmp_path: Path) -> None:
    from freq_unlearn.cli import main

    out = tmp_path / "w"
    assert main(["world", "--out", str(out), "--people-per-tier", "3", "--n-retain", "4", "--n-utility", "2",
                 "--n-cities", "10", "--rotation", "2", "--n-heldout", "3"]) == 0
    world = load_world(out)
    assert world.config.rotation == 2 and world.config.n_heldout == 3
    assert (world.facts()["group"] == schema.GROUP_HELDOUT).sum() == 3 * len(schema.RELATIONS)
