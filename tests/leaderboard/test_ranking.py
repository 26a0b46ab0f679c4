from __future__ import annotations

import pytest
from lb_helpers import fake_result

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


def test_compact_columns_are_the_default_view():
    from freq_unlearn.leaderboard.ranking import COMPACT_COLUMNS

    assert COMPACT_COLUMNS == ("Rank", "Method", "Headline", "Headline CI", "Robustness", "Freq gap", "Collateral",
                               "Utility", "Seeds")
    row = rank([fake_result("NPO", "id", 0.4, seeds=3)])[0]
    assert row["Seeds"] == 3 and row["Interval"] == "random effects over 3 seeds" and row["Erased high"] == 0.5
