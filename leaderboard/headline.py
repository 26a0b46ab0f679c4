"""The headline score: forget every stratum, high-count included, at bounded utility loss.

Defined once here and documented in README.md ("Headline score"). Inputs are the
per-seed metrics of one submission (names in ``metric_names``); retention values are
fractions in [0, 1] of the facts known before unlearning that are still known after.

    forgetting(b) = 1 - max(retention_gen(b), retention_prob(b))
    F             = min over strata b of forgetting(b)
    U             = min(retain, utility, perplexity)  with
                    retain      = mean(retention_gen(retain), retention_prob(retain))
                    utility     = mean(retention_gen(utility), retention_prob(utility))
                    perplexity  = min(1, ppl_before / ppl_after)
    headline      = F * min(1, U / (1 - TOLERANCE))

Why: the max over views counts a fact as forgotten only when neither the greedy answer
nor the multiple-choice probe still recovers it (the paper's point that the two views
disagree); the min over strata makes the hardest stratum, typically high-count, decide;
the utility factor leaves scores alone within TOLERANCE of the base model's utility and
scales them down in proportion beyond it, so destroying the model cannot win.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

TOLERANCE = 0.10
STRATA = ("low", "medium", "high")


def metric_names(strata: Sequence[str] = STRATA) -> dict[str, str]:
    names = {}
    for b in strata:
        names[f"retention_gen/{b}"] = f"generation-view retention, stratum {b}"
        names[f"retention_prob/{b}"] = f"probability-view retention, stratum {b}"
    return names


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def _mean(values: Sequence[float | None]) -> float:
    kept = [v for v in values if _finite(v)]
    return sum(kept) / len(kept) if kept else math.nan


def forget_score(metrics: Mapping[str, float], strata: Sequence[str] = STRATA) -> float:
    per_stratum = []
    for b in strata:
        views = [metrics.get(f"retention_gen/{b}"), metrics.get(f"retention_prob/{b}")]
        views = [v for v in views if _finite(v)]
        if views:  # a stratum with no known facts in either view has nothing to forget
            per_stratum.append(1.0 - max(views))
    return min(per_stratum) if per_stratum else math.nan


def utility_score(metrics: Mapping[str, float]) -> float:
    parts = [
        _mean([metrics.get("retention_gen/retain"), metrics.get("retention_prob/retain")]),
        _mean([metrics.get("retention_gen/utility"), metrics.get("retention_prob/utility")]),
    ]
    before, after = metrics.get("ppl_before"), metrics.get("ppl_after")
    if _finite(before) and _finite(after) and after > 0:
        parts.append(min(1.0, before / after))
    parts = [p for p in parts if _finite(p)]
    return min(parts) if parts else math.nan


def headline_score(metrics: Mapping[str, float], strata: Sequence[str] = STRATA, tolerance: float = TOLERANCE) -> float:
    forget, utility = forget_score(metrics, strata), utility_score(metrics)
    if not (_finite(forget) and _finite(utility)):
        return math.nan
    return forget * min(1.0, max(0.0, utility) / (1.0 - tolerance))


def scores(metrics: Mapping[str, float], strata: Sequence[str] = STRATA) -> dict[str, float]:
    return {
        "forget_score": forget_score(metrics, strata),
        "utility_score": utility_score(metrics),
        "headline": headline_score(metrics, strata),
    }
