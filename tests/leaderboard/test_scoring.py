"""Scoring on per-item records built here (the shape lm-eval's samples have after compaction)."""

from __future__ import annotations

import math

import pytest

from freq_unlearn.leaderboard.scoring import score_runs, task_names


def records(known: dict[str, list[bool]], logprob: float = -1.0) -> list[dict]:
    """One gen and one ll record per item; ``known[stratum][i]`` sets both views' correctness."""
    out = []
    for stratum, flags in known.items():
        count = {"low": 1, "medium": 4, "high": 20}.get(stratum, 1)
        for i, ok in enumerate(flags):
            doc = {"fact_id": f"{stratum}{i}/r", "stratum": stratum, "count": count + i}
            split = f"forget_{stratum}" if stratum in ("low", "medium", "high") else stratum
            out.append({"task": f"freq_unlearn_t_{split}_gen", "doc": doc, "contains": float(ok), "rougeL_recall": float(ok)})
            out.append({"task": f"freq_unlearn_t_{split}_ll", "doc": doc, "mc_acc": float(ok), "tf_acc": 1.0,
                        "logprob": logprob, "logprob_per_token": logprob})
    return out


BEFORE = {"low": [True] * 4, "medium": [True] * 4, "high": [True] * 4, "retain": [True] * 4, "utility": [True] * 4}


def test_headline_from_items():
    after = records({"low": [False] * 4, "medium": [False] * 4, "high": [True, False, False, False],
                     "retain": [True] * 4, "utility": [True] * 4})
    scored = score_runs(records(BEFORE), {0: after}, n_boot=50)
    m = scored["metrics"]
    assert m["retention_gen/high"]["value"] == 0.25 and m["retention_prob/low"]["value"] == 0.0
    assert m["forget_score"]["value"] == pytest.approx(0.75)  # the high stratum decides
    assert m["utility_score"]["value"] == 1.0 and m["ppl_ratio"]["value"] == pytest.approx(1.0)
    assert m["headline"]["value"] == pytest.approx(0.75) and m["headline"]["ci"] == "bootstrap"
    assert m["frequency_gap_gen"]["value"] == pytest.approx(0.25)
    assert len(scored["items"]) == 12 and all(it["known_gen"] for it in scored["items"])


def test_utility_loss_scales_the_headline_and_seeds_give_t_intervals():
    forgotten = {"low": [False] * 4, "medium": [False] * 4, "high": [False] * 4}
    broke = records({**forgotten, "retain": [True, False, False, False], "utility": [True] * 4}, logprob=-2.0)
    kept = records({**forgotten, "retain": [True] * 4, "utility": [True] * 4})
    scored = score_runs(records(BEFORE), {1: broke, 2: kept}, n_boot=50)
    per_seed = {s["seed"]: s["metrics"] for s in scored["per_seed"]}
    # seed 1: retain retention 0.25 (both views), perplexity e^1 -> e^2: U = min(0.25, 1, e^-1) = 0.25
    assert per_seed[1]["utility_score"] == pytest.approx(0.25)
    assert per_seed[1]["headline"] == pytest.approx(0.25 / 0.9)
    assert per_seed[2]["headline"] == pytest.approx(1.0)
    h = scored["metrics"]["headline"]
    assert h["ci"] == "t" and h["n_seeds"] == 2
    assert h["value"] == pytest.approx((0.25 / 0.9 + 1.0) / 2)
    assert h["ci_low"] < h["value"] < h["ci_high"]


def test_no_overlap_is_an_error_and_task_names_follow_the_suite():
    with pytest.raises(ValueError, match="no item was evaluated both before and after"):
        score_runs(records({"low": [True]}), {0: []}, n_boot=10)
    assert task_names("synthetic", ["retain"]) == ["freq_unlearn_synthetic_retain_gen", "freq_unlearn_synthetic_retain_ll"]
    assert not math.isnan(score_runs(records(BEFORE), {0: records(BEFORE)}, n_boot=10)["metrics"]["headline"]["value"])
