from __future__ import annotations

import math

import pytest
from lb_helpers import fake_result

from freq_unlearn.leaderboard.headline import forget_score, headline_score, utility_score
from freq_unlearn.leaderboard.ranking import COLUMN_NAMES, filter_rows, format_table, rank, sort_rows


def test_rank_orders_by_headline_with_ties_and_missing_last():
    results = [
        fake_result("B", "2", 0.3),
        fake_result("A", "1", 0.6),
        fake_result("C", "3", None),
        fake_result("D", "4", 0.3),
    ]
    rows = rank(results)
    assert [r["Method"] for r in rows] == ["A", "B", "D", "C"]
    assert [r["Rank"] for r in rows] == [1, 2, 2, None]
    assert rows[0]["Headline CI"] == "[0.550, 0.650]"
    assert list(rows[0]) == list(COLUMN_NAMES)


@pytest.mark.parametrize("column", COLUMN_NAMES)
def test_every_column_sorts_both_ways(column):
    rows = rank([fake_result(m, m, h, gen_high=g) for m, h, g in (("x", 0.1, 0.9), ("y", 0.5, 0.2), ("z", None, 0.5))])
    for descending in (True, False):
        out = sort_rows(rows, column, descending)
        values = [r[column] for r in out if r[column] is not None]
        keyed = [v.lower() if isinstance(v, str) else v for v in values]
        assert keyed == sorted(keyed, reverse=descending)
        assert all(r[column] is not None for r in out[: len(values)])  # missing last


def test_filter_searches_text_columns():
    rows = rank([fake_result("GradDiff", "aa11", 0.2), fake_result("NPO", "bb22", 0.1)])
    assert [r["Method"] for r in filter_rows(rows, "grad")] == ["GradDiff"]
    assert [r["Method"] for r in filter_rows(rows, "BB2")] == ["NPO"]
    assert len(filter_rows(rows, "")) == 2 and filter_rows(rows, "zzz") == []
    assert "| GradDiff |" in format_table(rows, ["Method", "Headline"])


def test_headline_rewards_forgetting_every_stratum_at_bounded_utility_loss():
    good_utility = {"retention_gen/retain": 1.0, "retention_prob/retain": 0.95, "ppl_before": 10.0, "ppl_after": 10.5}
    all_forgotten = {f"retention_{v}/{b}": 0.0 for v in ("gen", "prob") for b in ("low", "medium", "high")}
    high_kept = {**all_forgotten, "retention_prob/high": 0.6}
    assert forget_score(all_forgotten) == 1.0
    assert forget_score(high_kept) == pytest.approx(0.4)  # the probability view still knows 60% of high
    assert headline_score({**all_forgotten, **good_utility}) == 1.0  # within the 10% tolerance
    broken = {**all_forgotten, "retention_gen/retain": 0.3, "retention_prob/retain": 0.3}
    assert utility_score(broken) == pytest.approx(0.3)
    assert headline_score(broken) == pytest.approx(0.3 / 0.9)
    assert math.isnan(headline_score({}))
