"""Membership inference: the attack formulas, AUCs per stratum, and the lm-eval tasks agreeing with
the direct path, on the shared tiny world (tests/conftest.py) and a model trained on its corpus (conftest.py here).

Until the world writes held-out people itself, the non-members are built here the way the world
builds people: unused names, attribute values of this world, and the world's own biography templates
(``freq_unlearn.world.biography``); members are the first biography copy of each person in the corpus.
"""

from __future__ import annotations

import math
import random
import zlib

import numpy as np
import pandas as pd
import pytest

from freq_unlearn.core.errors import UserError
from freq_unlearn.robustness.mia import (
    attack_scores,
    auc,
    lowest_mean,
    mia_aucs,
    mia_scores,
    people_from_benchmark,
    records_from_mia_samples,
)
from freq_unlearn.tasks.scores import MIA_NONMEMBER, membership_scores


def test_min_k_takes_the_lowest_share_and_min_k_plus_plus_standardises_per_position():
    lp = np.log(np.array([0.5, 0.1, 0.9, 0.2, 0.05]))
    assert lowest_mean(lp, 0.4) == pytest.approx(np.mean(np.log([0.05, 0.1])))
    assert lowest_mean(lp, 0.01) == pytest.approx(math.log(0.05))  # at least one token
    mu, sigma2 = np.array([-1.0, -2.0, -1.0, -3.0, -1.0]), np.array([1.0, 4.0, 0.25, 1.0, 4.0])
    scores = attack_scores(lp, mu, sigma2, "some text", k=0.4)
    z = (lp - mu) / np.sqrt(sigma2)
    assert scores["minkpp"] == pytest.approx(np.sort(z)[:2].mean())
    assert scores["loss"] == pytest.approx(lp.mean())
    assert scores["zlib"] == pytest.approx(lp.mean() / len(zlib.compress(b"some text")))
    assert membership_scores(lp.sum(), 5, "some text")["mia_loss"] == pytest.approx(-lp.mean())


def test_auc_is_sklearns_roc_auc_and_vectorises_over_resamples():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    a, b = rng.normal(0.5, 1, 13).round(1), rng.normal(0, 1, 9).round(1)  # rounded: ties too
    assert auc(a, b) == pytest.approx(roc_auc_score(np.r_[np.ones(13), np.zeros(9)], np.r_[a, b]))
    batch = auc(np.stack([a, a[::-1]]), np.stack([b, b + 10]))
    assert batch[0] == pytest.approx(auc(a, b)) and batch[1] == 0.0


def _tiny_people(world_dir) -> pd.DataFrame:
    """Members (first biography in the corpus) of every group, plus 16 never-seen people."""
    from freq_unlearn import world_text
    from freq_unlearn.world import Person, biography, load_world

    world = load_world(world_dir)
    facts = world.facts()
    groups = facts.drop_duplicates("person_id").set_index("person_id")["group"]
    bios = {d["metadata"]["person_id"]: d["text"] for d in world.documents()
            if d["metadata"]["kind"] == "bio" and d["metadata"]["copy"] == 0}
    rows = [{"person_id": p, "group": groups[p], "biography": b} for p, b in sorted(bios.items())]
    rng = random.Random(0)
    used = set(facts["subject"])
    names = [f"{f} {s}" for f in world_text.FIRST_NAMES for s in world_text.SURNAMES if f"{f} {s}" not in used]
    values = {rel: sorted(set(part["answer"])) for rel, part in facts.groupby("relation")}
    for i, name in enumerate(rng.sample(names, 16)):
        person = Person(f"h{i:05d}", name, MIA_NONMEMBER, 0, {rel: rng.choice(v) for rel, v in values.items()})
        rows.append({"person_id": person.person_id, "group": MIA_NONMEMBER, "biography": biography(person, 0, rng).text})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def people(tiny_world) -> pd.DataFrame:
    return _tiny_people(tiny_world)


@pytest.fixture(scope="module")
def base_scores(world_model, people) -> pd.DataFrame:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(world_model))
    tokenizer = AutoTokenizer.from_pretrained(str(world_model))
    return mia_scores(model, tokenizer, people)


def test_pretraining_members_are_detected_per_stratum(base_scores):
    assert set(base_scores["group"]) >= {"low", "medium", "high", "retain", "utility", MIA_NONMEMBER}
    assert base_scores["n_tokens"].min() > 20 and base_scores[["loss", "zlib", "mink", "minkpp"]].notna().all().all()
    aucs = mia_aucs(base_scores.assign(model="base"), n_resamples=200)
    assert set(aucs["stratum"]) == {"low", "medium", "high", "retain", "utility"}
    assert (aucs["n_nonmembers"] == 16).all() and set(aucs["attack"]) == {"loss", "zlib", "mink", "minkpp"}
    high = aucs[(aucs["stratum"] == "high")].set_index("attack")
    # Biographies seen ten times are told from never-seen ones by every attack, beyond the interval.
    assert (high["low"] > 0.5).all(), high
    assert ((aucs["low"] <= aucs["auc"]) & (aucs["auc"] <= aucs["high"])).all()


def test_strangers_against_strangers_sit_at_chance(base_scores):
    """The AUC machinery is not biased: two random halves of the non-members give an interval around 0.5."""
    strangers = base_scores[~base_scores["member"]].copy()
    half = strangers["person_id"].isin(strangers["person_id"].iloc[::2])
    strangers.loc[half, "member"], strangers.loc[half, "stratum"] = True, "fake"
    auc = mia_aucs(strangers, attacks=("loss",), n_resamples=200).iloc[0]
    assert auc["low"] < 0.5 < auc["high"] or math.isclose(auc["auc"], 0.5)


def test_input_without_nonmembers_is_refused_in_one_line(people):
    with pytest.raises(UserError, match="no person of group 'heldout'"):
        mia_scores(None, None, people[people["group"] != MIA_NONMEMBER])
    with pytest.raises(UserError, match="missing biography"):
        mia_scores(None, None, people.drop(columns=["biography"]))


def test_lm_eval_mia_tasks_agree_with_the_direct_path(world_model, people, base_scores, tmp_path):
    """`mia_<group>` splits in a benchmark folder -> lm-eval's loglikelihood_rolling tasks -> the same loss."""
    from lm_eval.evaluator import evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from freq_unlearn.tasks import TASKS_DIR

    bench = tmp_path / "bench"
    (bench / "data").mkdir(parents=True)
    for group, part in people.groupby("group"):
        part.to_parquet(bench / "data" / f"mia_{group}.parquet", index=False)
    assert len(people_from_benchmark(str(bench))) == len(people)

    tm = TaskManager(include_path=str(TASKS_DIR / "mia"), include_defaults=False,
                     metadata={"benchmark": str(bench), "pretrained": str(world_model)})
    names = tm.match_tasks(["freq_unlearn_*"])
    assert sorted(names) == sorted(f"freq_unlearn_synthetic_mia_{g}" for g in set(people["group"]))
    lm = HFLM(pretrained=str(world_model), device="cpu", dtype="float32", batch_size=16)
    out = evaluate(lm=lm, task_dict=tm.load(names), log_samples=True, bootstrap_iters=0, verbosity="ERROR")
    records = records_from_mia_samples(out["samples"]).set_index("person_id").sort_index()
    direct = base_scores.set_index("person_id").sort_index()
    assert list(records.index) == list(direct.index)
    np.testing.assert_allclose(records["loss"], direct["loss"], rtol=1e-4)
    np.testing.assert_allclose(records["zlib"], direct["zlib"], rtol=1e-4)
    from_lm_eval = mia_aucs(records, attacks=("loss", "zlib"), n_resamples=50).set_index(["stratum", "attack"])["auc"]
    from_direct = mia_aucs(direct.reset_index(), attacks=("loss", "zlib"), n_resamples=50).set_index(["stratum", "attack"])["auc"]
    pd.testing.assert_series_equal(from_lm_eval, from_direct, atol=1e-6)
