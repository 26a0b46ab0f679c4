"""The protocol scores on constructed per-item records whose answers are known by construction:
every number below is worked out by hand from the construction (issue 14)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from freq_unlearn.leaderboard.protocol import score_submission

N = 20  # facts per split that the base model knows; 4 more per split answer the guessable value
COUNTS = {"low": 1, "medium": 4, "high": 20, "retain": 1, "utility": 1}


def base_records() -> pd.DataFrame:
    rows = []
    for split, stratum in (("forget_low", "low"), ("forget_medium", "medium"), ("forget_high", "high"),
                           ("retain", "retain"), ("utility", "utility")):
        for i in range(N + 4):
            answer = "acme" if i >= N else f"{stratum}-{i}"  # acme: the relation's majority value (guessing floor)
            rows.append({"split": split, "probe": "qa", "fact_id": f"{stratum}{i}", "person_id": f"{stratum}{i}",
                         "subject": f"P {stratum}{i}", "relation": "employer", "stratum": stratum,
                         "count": COUNTS[stratum], "answer": answer, "continuation": answer, "contains": 1.0,
                         "rougeL_recall": 1.0, "logprob": -1.0, "logprob_per_token": -0.5, "mc_margin": 1.0,
                         "mc_acc": 1.0})
    return pd.DataFrame(rows)


def after(base: pd.DataFrame, erased: dict[str, int]) -> pd.DataFrame:
    """The first ``erased[stratum]`` known facts of each stratum forgotten in both views."""
    out = base.copy()
    index = out["fact_id"].str.extract(r"(\d+)$")[0].astype(int)
    hit = pd.Series(False, index=out.index)
    for stratum, n in erased.items():
        hit |= (out["stratum"] == stratum) & (index < n)
    out.loc[hit, ["contains", "mc_acc", "rougeL_recall", "mc_margin", "logprob"]] = [0.0, 0.0, 0.0, -1.0, -3.0]
    return out


def value(result: dict, name: str) -> float:
    return result["metrics"][name]["value"]


def test_a_method_that_erases_exactly_its_target() -> None:
    base = base_records()
    runs = {(b, 1): after(base, {b: N}) for b in ("low", "medium", "high")}
    result = score_submission(base, runs, n_resamples=50)
    for b in ("low", "medium", "high"):
        assert value(result, f"erased/{b}") == pytest.approx(1.0)
        assert value(result, f"forget_prob/{b}") == pytest.approx(2.0 * N / (N + 4))  # log p -1 -> -3 on N of N+4
        assert value(result, f"forget_gen/{b}") == pytest.approx(N / (N + 4))
    assert value(result, "robustness") == pytest.approx(1.0)
    assert value(result, "frequency_gap") == pytest.approx(0.0)
    assert value(result, "collateral") == pytest.approx(0.0)
    assert value(result, "utility") == pytest.approx(1.0) and value(result, "ppl_ratio") == pytest.approx(1.0)
    assert value(result, "headline") == pytest.approx(1.0)
    assert result["metrics"]["headline"]["interval"] == "people bootstrap (one seed)"


def test_frequency_sensitive_method_net_of_control_and_cost() -> None:
    base = base_records()
    runs = {
        ("low", 1): after(base, {"low": 20, "high": 5, "retain": 10}),  # collateral on high, damage to retain
        ("medium", 1): after(base, {"medium": 10, "retain": 10}),
        ("high", 1): after(base, {"high": 8, "retain": 10}),
    }
    result = score_submission(base, runs, n_resamples=50)
    assert value(result, "erased/low") == pytest.approx(1.0)
    assert value(result, "erased/medium") == pytest.approx(0.5)
    # high: 8/20 when targeted, minus the control (mean of 5/20 when low was targeted and 0 when medium was)
    assert value(result, "erased/high") == pytest.approx(0.4 - 0.125)
    assert value(result, "robustness") == pytest.approx(0.275)
    assert value(result, "frequency_gap") == pytest.approx(1.0 - 0.275)
    assert value(result, "retain_kept") == pytest.approx(0.5)
    assert value(result, "utility") == pytest.approx(0.5)
    assert value(result, "headline") == pytest.approx(0.275 * 0.5 / 0.9)
    # collateral: untargeted forget strata, log p forgetting; only high items forgotten (5 of 24, by 2 nats,
    # in one of the two untargeted runs of high; the mean over the 6 untargeted stratum-runs)
    assert value(result, "collateral") == pytest.approx(2.0 * 5 / 24 / 2 / 3)
    entry = result["metrics"]["robustness"]
    assert entry["ci_low"] <= entry["value"] <= entry["ci_high"]


def test_seeds_are_the_units_when_every_stratum_has_the_same_seeds() -> None:
    base = base_records()
    runs = {(b, s): after(base, {b: 10 + 2 * s + (3 if b == "high" else 0)}) for b in ("low", "medium", "high")
            for s in (1, 2, 3)}
    result = score_submission(base, runs, n_resamples=50)
    entry = result["metrics"]["erased/low"]
    assert entry["value"] == pytest.approx((12 + 14 + 16) / 3 / N, abs=0.02)
    assert entry["interval"] == "random effects over 3 seeds" and entry["n_seeds"] == 3
    assert entry["ci_low"] < entry["value"] < entry["ci_high"]


def test_a_missing_stratum_is_refused() -> None:
    base = base_records()
    with pytest.raises(ValueError, match="no run targets forget_medium"):
        score_submission(base, {("low", 1): base, ("high", 1): base}, n_resamples=10)


def test_public_entry_points_score_and_rank() -> None:
    from freq_unlearn.leaderboard import build_board
    from freq_unlearn.leaderboard import score_submission as public_score

    base = base_records()
    exact = public_score(base, {(b, 1): after(base, {b: N}) for b in ("low", "medium", "high")}, n_resamples=20)
    partial = public_score(base, {(b, 1): after(base, {b: N // 2}) for b in ("low", "medium", "high")}, n_resamples=20)
    rows = build_board([{"method": "exact", **exact}, {"method": "half", **partial}])
    assert [r["Method"] for r in rows] == ["exact", "half"] and rows[1]["Robustness"] == pytest.approx(0.5)


def test_no_known_fact_gives_no_headline_rather_than_zero() -> None:
    base = base_records()
    base[["contains", "mc_acc"]] = 0.0  # the base model knows nothing: nothing to forget
    result = score_submission(base, {(b, 1): base for b in ("low", "medium", "high")}, n_resamples=10)
    assert result["metrics"]["robustness"]["value"] is None and result["metrics"]["headline"]["value"] is None
