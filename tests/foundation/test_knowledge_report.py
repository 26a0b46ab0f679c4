"""The pre-training knowledge report at the edges: groups at 0% and 100% accuracy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from freq_unlearn.core import schema
from freq_unlearn.knowledge_report import plot, summarize


def _scored(group: str, correct: bool, n: int) -> pd.DataFrame:
    return pd.DataFrame({"group": group, "relation": [schema.RELATIONS[i % len(schema.RELATIONS)] for i in range(n)],
                         "true_count": 1, "correct": correct, "answer_prob": 0.5})


def test_all_or_nothing_groups_get_intervals_around_their_estimate_and_a_plot(tmp_path: Path) -> None:
    # 6 of 6 and 0 of 11 once gave Wilson bounds a rounding error inside the estimate (1 - 1e-16,
    # 3e-17), and the plot refused the negative error bar: a thorough demo's mini model stopped there.
    scored = pd.concat([_scored(schema.GROUP_RETAIN, True, 6), _scored(schema.GROUP_LOW, False, 11)])
    summary = summarize(scored)
    for group, expected in ((schema.GROUP_RETAIN, 1.0), (schema.GROUP_LOW, 0.0)):
        block = summary["by_group"][group]
        lo, hi = block["accuracy_ci95"]
        assert block["accuracy"] == expected and lo <= expected <= hi and hi - lo > 0.2
    plot(summary, tmp_path / "accuracy.png")
    assert (tmp_path / "accuracy.png").stat().st_size > 1000
