"""Per-item scores and the unlearning aggregates on hand-made cases with known answers."""

from __future__ import annotations

import math

import pytest

from freq_unlearn.tasks import metrics as m


def _columns(rows):
    """rows: (stratum, count, gen_before, gen_after, prob_before, prob_after, run)."""
    cols = {"fact_id": [], "stratum": [], "count": [], "run": []}
    for name in ("contains", "mc_acc", "rougeL_recall", "logprob"):
        cols[f"{name}_before"], cols[f"{name}_after"] = [], []
    for i, (stratum, count, gb, ga, pb, pa, run) in enumerate(rows):
        cols["fact_id"].append(f"f{i}")
        cols["stratum"].append(stratum)
        cols["count"].append(count)
        cols["run"].append(run)
        cols["contains_before"].append(gb)
        cols["contains_after"].append(ga)
        cols["rougeL_recall_before"].append(gb)
        cols["rougeL_recall_after"].append(ga * 0.5)
        cols["mc_acc_before"].append(pb)
        cols["mc_acc_after"].append(pa)
        cols["logprob_before"].append(math.log(0.8))
        cols["logprob_after"].append(math.log(0.4))
    return cols


# high: 4 known in both views; gen keeps 1/4, prob keeps 3/4. low: gen keeps 0/2, prob 1/2;
# one low item unknown before in both views (excluded everywhere).
ROWS = [
    ("high", 100, 1, 1, 1, 1, "0"),
    ("high", 90, 1, 0, 1, 1, "0"),
    ("high", 80, 1, 0, 1, 1, "0"),
    ("high", 70, 1, 0, 1, 0, "0"),
    ("low", 2, 1, 0, 1, 1, "0"),
    ("low", 1, 1, 0, 1, 0, "0"),
    ("low", 1, 0, 1, 0, 1, "0"),
]


def test_retention_gap_misalignment_disagreement():
    cols = _columns(ROWS)
    r = m.retention(cols, n_boot=200)
    assert r["retention_gen/high"]["value"] == pytest.approx(0.25)
    assert r["retention_prob/high"]["value"] == pytest.approx(0.75)
    assert r["retention_gen/low"]["value"] == 0.0
    assert r["retention_prob/low"]["value"] == pytest.approx(0.5)
    assert r["known_gen/low"]["value"] == 2
    assert r["ratio_rougeL_recall/high"]["value"] == pytest.approx(0.125)  # mean(after)/mean(before)
    assert r["ratio_p/high"]["value"] == pytest.approx(0.5)
    ci = r["retention_prob/high"]
    assert ci["ci"] == "bootstrap" and ci["ci_low"] <= ci["value"] <= ci["ci_high"]

    g = m.frequency_gap(cols, n_boot=200)
    assert g["frequency_gap_gen"]["value"] == pytest.approx(0.25)
    assert g["frequency_gap_prob"]["value"] == pytest.approx(0.25)
    assert -1.0 <= g["spearman_prob"]["value"] <= 1.0

    mis = m.misalignment(cols, n_boot=200)
    assert mis["misalignment/high"]["value"] == pytest.approx(0.5)  # prob still finds what gen lost
    assert mis["disagreement/high"]["value"] == pytest.approx(0.5)  # items 2 and 3
    assert mis["disagreement/low"]["value"] == pytest.approx(0.5)


def test_bootstrap_is_seeded_and_runs_use_t_intervals():
    cols = _columns(ROWS)
    a = m.retention(cols, n_boot=100, seed=1)["retention_prob/high"]
    b = m.retention(cols, n_boot=100, seed=1)["retention_prob/high"]
    assert a == b
    two_runs = _columns(ROWS + [(s, c, gb, ga, pb, 1, "1") for (s, c, gb, ga, pb, pa, _) in ROWS])
    t = m.retention(two_runs)["retention_prob/high"]
    assert t["ci"] == "t" and t["n"] == 2
    assert t["value"] == pytest.approx((0.75 + 1.0) / 2)
    assert t["ci_low"] < t["value"] < t["ci_high"]


def test_spearman_follows_count():
    # retention grows with count: a perfect positive rank correlation on binary outcomes
    rows = [("high", 100, 1, 1, 1, 1, "0"), ("medium", 10, 1, 1, 1, 1, "0"), ("low", 1, 1, 0, 1, 0, "0"), ("low", 2, 1, 0, 1, 0, "0")]
    g = m.frequency_gap(_columns(rows), n_boot=0)
    assert g["spearman_gen"]["value"] == pytest.approx(math.sqrt(0.8), rel=1e-6)
    assert g["spearman_gen"]["ci"] == "none"
