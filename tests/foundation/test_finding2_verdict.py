"""Finding 2's verdict rule (freq_unlearn.demo.analysis.compare_sizes) on known inputs."""

from __future__ import annotations

import pytest
from scipy import stats

from freq_unlearn.demo.analysis import compare_sizes

SIX = {f"{size}-w0r{r}": size for size in ("tiny", "mini") for r in range(3)}


def test_one_size_or_one_model_per_size_is_descriptive() -> None:
    assert compare_sizes({"tiny-w0r0": "tiny", "tiny-w0r1": "tiny"}, {"tiny-w0r0": 0.1})["verdict"].startswith(
        "descriptive (one model size")
    two = compare_sizes({"tiny-w0r0": "tiny", "mini-w0r0": "mini"}, {"tiny-w0r0": 0.1, "mini-w0r0": 0.3})
    assert two["verdict"] == "descriptive (fewer than 2 models per size)" and "difference" not in two


def test_models_that_never_reach_the_matched_level_leave_no_verdict() -> None:
    result = compare_sizes(SIX, {"tiny-w0r0": 0.2, "tiny-w0r1": 0.25, "mini-w0r2": 0.4})
    assert result["claims_a_verdict"] and result["verdict"].startswith("no verdict")
    assert "2 of 3 tiny models, 1 of 3 mini models" in result["verdict"] and "difference" not in result


def test_the_welch_interval_over_models_decides() -> None:
    small, large = [0.10, 0.12, 0.11], [0.30, 0.33, 0.31]
    values = dict(zip(SIX, small + large))
    result = compare_sizes(SIX, values)
    expected = stats.ttest_ind(large, small, equal_var=False)
    assert result["ci"] == pytest.approx(list(expected.confidence_interval(0.95)))
    assert result["difference"] == pytest.approx(sum(large) / 3 - sum(small) / 3)
    assert result["verdict"] == "as predicted"
    assert compare_sizes(SIX, dict(zip(SIX, large + small)))["verdict"] == "opposite"
    assert compare_sizes(SIX, dict(zip(SIX, [0.1, 0.3, 0.2, 0.25, 0.1, 0.3])))["verdict"] == "inconclusive"
    assert compare_sizes(SIX, dict(zip(SIX, [0.2] * 6)))["verdict"] == "no verdict (degenerate interval)"
