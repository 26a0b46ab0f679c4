"""The statistics layer on constructed data whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from freq_unlearn.tasks import statistics as st


def _frame(model_means, people=60, facts=3, sd=1.0, seed=0):
    """Rows of (model, person_id, fact, y): each model's people scatter around its mean."""
    rng = np.random.default_rng(seed)
    rows = []
    for m, mean in enumerate(model_means):
        person_effect = rng.normal(0, sd, people)
        for p in range(people):
            for f in range(facts):
                rows.append({"model": f"m{m}", "person_id": f"p{p}", "fact_id": f"p{p}/f{f}",
                             "y": mean + person_effect[p] + rng.normal(0, 0.1)})
    return pd.DataFrame(rows)


def test_one_model_is_a_people_bootstrap_labelled_so():
    frame = _frame([1.0])
    est = st.estimate(frame, st.mean_of("y"), n_resamples=499)
    assert est.method == "people only (one model)" and est.n_units == 1 and est.n_people == 60
    assert est.low < frame["y"].mean() < est.high
    assert est.value == pytest.approx(frame["y"].mean())
    assert st.verdict(est, 0.001, predicted_sign=1).startswith("descriptive")


def test_people_are_the_cluster_not_the_rows():
    """Repeating every person's rows adds no information: the interval must not shrink."""
    few = _frame([0.0], facts=1)
    many = _frame([0.0], facts=1)
    many = pd.concat([many] * 8, ignore_index=True)
    a = st.estimate(few, st.mean_of("y"), n_resamples=999)
    b = st.estimate(many, st.mean_of("y"), n_resamples=999)
    assert b.half_width == pytest.approx(a.half_width, rel=0.25)  # an iid bootstrap would be ~sqrt(8) narrower


def test_models_disagreeing_widen_the_interval():
    agree = st.estimate(_frame([1.0, 1.0, 1.0]), st.mean_of("y"), n_resamples=299)
    disagree = st.estimate(_frame([0.0, 1.0, 2.0]), st.mean_of("y"), n_resamples=299)
    assert agree.method == disagree.method == "random effects over 3 models"
    assert disagree.value == pytest.approx(1.0, abs=0.3) and disagree.low < 1.0 < disagree.high
    assert disagree.tau2 > agree.tau2 and disagree.half_width > 2 * agree.half_width


def test_adjusted_slope_recovers_the_coefficient():
    rng = np.random.default_rng(1)
    n = 400
    x, pre = rng.normal(size=n), rng.normal(size=n)
    relation = rng.choice(["a", "b", "c"], size=n)
    y = -0.5 * x + 2.0 * pre + pd.Series(relation).map({"a": 0.0, "b": 1.0, "c": -1.0}).to_numpy() + rng.normal(0, 0.2, n)
    frame = pd.DataFrame({"model": "m0", "person_id": [f"p{i // 2}" for i in range(n)], "y": y, "x": x, "pre": pre,
                          "relation": relation})
    est = st.estimate(frame, st.ols_slope("y", "x", ["pre"], ["relation"]), n_resamples=299)
    assert est.value == pytest.approx(-0.5, abs=0.05) and est.low < -0.5 < est.high


def test_holm_is_statsmodels_holm():
    p = [0.01, 0.04, 0.03, 0.20, math.nan]
    adjusted = st.holm(p)
    expected = multipletests(p[:4], method="holm")[1]
    assert np.allclose(adjusted[:4], expected) and math.isnan(adjusted[4])


def test_verdict_rules():
    base = dict(se=0.1, p_value=0.001, n_items=100, n_people=50, n_units=3, method="random effects over 3 models")
    clear = st.Estimate(value=-0.4, low=-0.6, high=-0.2, **base)
    assert st.verdict(clear, 0.01, predicted_sign=-1) == "as predicted"
    assert st.verdict(clear, 0.01, predicted_sign=1) == "opposite"
    assert st.verdict(clear, 0.2, predicted_sign=-1) == "inconclusive"
    assert st.verdict(clear, 0.01, predicted_sign=-1, min_items=12).startswith("no verdict")
    flat = st.Estimate(value=0.27, low=0.27, high=0.27, **base)
    assert st.verdict(flat, 0.01, predicted_sign=1) == "no verdict (degenerate interval)"
