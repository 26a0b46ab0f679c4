"""Recovery of relearning: per item, normalised between the unlearned floor and the base ceiling.

Per item, probe and measure (generation view ``contains``, probability view gold ``logprob``):

* ``floor`` = the unlearned model's score (step 0 of the attack), ``ceiling`` = the base model's,
  ``score`` = the score after k attack steps;
* ``gain = score - floor`` (what the attack brought back) and ``gap = ceiling - floor`` (what
  unlearning had removed).

Per (mode, half, probe, measure, step) the summary reports, with the suite's people-bootstrap
intervals (``freq_unlearn.tasks.statistics.estimate``):

* ``gain``: ``mean_of("gain")``;
* ``recovery``: mean gain / mean gap, a ratio of two ``mean_of`` statistics resampled together:
  0 = still at the unlearned level, 1 = back at the base model's level. It is a ratio of means, not a
  mean of per-item ratios, because an item the unlearning barely moved (gap near 0) would make its
  own ratio explode; it is undefined (NaN) when unlearning removed nothing on average (mean gap <= 0).
"""

from __future__ import annotations

import math
from typing import Any

from freq_unlearn.tasks.evaluation import DOC_COLUMNS, KEY_COLUMNS
from freq_unlearn.tasks.statistics import N_RESAMPLES, Statistic, estimate, mean_of

MEASURES = {"contains": "gen", "logprob": "prob"}  # score column -> view
ALL = "all"  # the half label of both halves together


def ratio_of_means(numerator: str, denominator: str) -> Statistic:
    """mean(numerator) / mean(denominator); NaN unless the denominator's mean is > 0."""
    top, bottom = mean_of(numerator), mean_of(denominator)

    def stat(cols: Any, weights: Any) -> float:
        below = bottom(cols, weights)
        return top(cols, weights) / below if math.isfinite(below) and below > 0 else math.nan

    return stat


def recovery_items(ceiling: Any, attacked: Any, halves: dict[str, str]) -> Any:
    """Long per-item table: one row per (mode, step, split, probe, fact, measure).

    ``ceiling``: evaluation records of the base model; ``attacked``: records with ``mode`` and
    ``step`` columns, step 0 being the unlearned model itself (the floor) in every mode.
    """
    import pandas as pd

    keys = list(KEY_COLUMNS)
    floor = attacked[attacked["step"] == 0]
    if floor.empty:
        raise ValueError("the attacked records have no step 0 (the unlearned model, the floor)")
    frames = []
    for measure, view in MEASURES.items():
        top = ceiling[keys + [measure]].rename(columns={measure: "ceiling"})
        bottom = floor[keys + ["mode", measure]].rename(columns={measure: "floor"})
        rows = attacked[keys + [c for c in DOC_COLUMNS if c in attacked.columns] + ["mode", "step", measure]]
        rows = rows.rename(columns={measure: "score"}).merge(bottom, on=keys + ["mode"]).merge(top, on=keys)
        frames.append(rows.assign(measure=measure, view=view))
    out = pd.concat(frames, ignore_index=True)
    out["half"] = out["person_id"].astype(str).map(halves).fillna("")
    out["gain"] = out["score"] - out["floor"]
    out["gap"] = out["ceiling"] - out["floor"]
    return out.sort_values(["mode", "measure", "step", "split", "probe", "fact_id"], kind="stable").reset_index(drop=True)


def recovery_summary(items: Any, unit: str = "model", n_resamples: int = N_RESAMPLES, seed: int = 0) -> list[dict[str, Any]]:
    """One entry per (mode, half, stratum, probe, measure, step): means, gain and recovery with intervals."""
    out = []
    for half in sorted(set(items["half"])) + [ALL]:
        rows = items if half == ALL else items[items["half"] == half]
        group = ["mode", "stratum", "probe", "measure", "view", "step"]
        for key, part in rows.groupby(group, sort=True):
            entry = dict(zip(group, key)) | {"half": half, "n_items": int(len(part))}
            entry |= {f"{c}_mean": _mean(part[c]) for c in ("score", "floor", "ceiling")}
            for name, statistic in (("gain", mean_of("gain")), ("recovery", ratio_of_means("gain", "gap"))):
                entry[name] = estimate(part, statistic, unit=unit, n_resamples=n_resamples, seed=seed).as_dict()
            entry["step"] = int(entry["step"])
            out.append(entry)
    return out


def _mean(series: Any) -> float | None:
    value = float(series.mean()) if len(series) else math.nan
    return value if math.isfinite(value) else None
