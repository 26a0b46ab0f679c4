"""What the relearning attack reuses: per-item records that the caller already has."""

from __future__ import annotations


def test_given_records_are_used_only_when_they_cover_the_split():
    import pandas as pd

    from freq_unlearn.robustness.relearn import _given

    rows = [{"fact_id": f"p{i}/city"} for i in range(3)]
    full = pd.DataFrame({"split": ["forget_high"] * 6, "probe": ["qa"] * 3 + ["bio"] * 3,
                         "fact_id": [r["fact_id"] for r in rows] * 2})
    assert len(_given(full, "forget_high", ("qa", "bio"), rows)) == 6
    assert _given(full.iloc[1:], "forget_high", ("qa", "bio"), rows) is None  # QA misses an item
    assert len(_given(full.iloc[:5], "forget_high", ("qa", "bio"), rows)) == 5  # BIO may skip one
    assert _given(full[full["probe"] == "qa"], "forget_high", ("qa", "bio"), rows) is None  # no BIO at all
    assert _given(full.assign(split="forget_low"), "forget_high", ("qa",), rows) is None
    assert _given(None, "forget_high", ("qa",), rows) is None
