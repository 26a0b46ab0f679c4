"""The suite's metrics, defined once: per-item scores and the unlearning aggregates.

Per item (what the lm-eval tasks log for every question):

* generation view (``*_gen`` tasks): ``rougeL_recall`` of the gold answer against the greedy
  continuation only (never the prompt), and ``contains``: the normalized gold answer occurs as a
  whole-word sequence in the normalized continuation (lowercase, punctuation and the articles
  a/an/the removed, whitespace collapsed: the SQuAD answer normalization).
* probability view (``*_ll`` tasks): ``logprob`` = log p(answer | prompt) summed over the answer
  tokens, ``logprob_per_token``, ``mc_acc`` (the gold answer scores strictly higher than every
  same-relation distractor; K candidates, ties count as wrong) and ``tf_acc`` (a balanced
  True/False probe: one true and one false statement per fact, so 0.5 is chance).

Per unlearning run (a BEFORE and an AFTER evaluation of the same items), per stratum b and
view v in {gen, prob}:

* an item is *known* in view v when it was correct BEFORE unlearning in that view
  (gen: ``contains == 1``; prob: ``mc_acc == 1``);
* ``retention_v(b)`` = mean over the known items of stratum b of their correctness AFTER
  (the fraction of known facts still known); for continuous scores (``rougeL_recall``,
  p = exp(logprob)) also the ratio of means after/before on the same known items;
* ``frequency_gap_v`` = retention_v(high) - retention_v(low), and the Spearman correlation
  between log(count) and per-item retention (known items of all forget strata);
* ``misalignment(b)`` = retention_prob(b) - retention_gen(b): positive when the probability
  view still finds knowledge that the generation view calls forgotten;
* ``disagreement(b)`` = among items known in BOTH views before, the fraction for which exactly
  one view says forgotten after.

Confidence intervals: for one run, a seeded percentile bootstrap over items; for several runs
(seeds), a Student-t interval over the per-run values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from freq_unlearn.core.schema import STRATA

# --------------------------------------------------------------------------- per item

# --------------------------------------------------------------------------- samples -> items

from freq_unlearn.tasks.scores import GEN_METRICS, PROB_METRICS, TF_METRIC

PROB_METRICS = PROB_METRICS + (TF_METRIC,)
VIEWS = {"gen": "contains", "prob": "mc_acc"}  # the correctness that defines "known"


def read_samples(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """lm-eval ``--log_samples`` records (``samples_<task>_<date>.jsonl``) from files or folders."""
    records: list[dict[str, Any]] = []
    for path in paths:
        path = Path(path)
        files = sorted(path.rglob("samples_*.jsonl")) if path.is_dir() else [path]
        for file in files:
            task = file.name[len("samples_") :].rsplit("_", 1)[0] if file.name.startswith("samples_") else ""
            with file.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        record = json.loads(line)
                        record.setdefault("task", task)
                        records.append(record)
    return records


def item_table(samples: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """fact_id (+ '#paraphrased' for paraphrased splits) -> merged metrics of both variants.

    Accepts records from log files (:func:`read_samples`) or ``simple_evaluate(...)["samples"]``
    flattened with their task names in a ``task`` key.
    """
    items: dict[str, dict[str, Any]] = {}
    for record in samples:
        doc = record["doc"]
        task = str(record.get("task", ""))
        key = str(doc["fact_id"]) + ("#paraphrased" if "paraphrased" in task else "")
        item = items.setdefault(
            key,
            {"fact_id": doc["fact_id"], "stratum": doc["stratum"], "count": int(doc["count"]), "task": task},
        )
        for metric in GEN_METRICS + PROB_METRICS:
            if metric in record:
                item[metric] = float(record[metric])
    return items


def samples_from_results(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``simple_evaluate(..., log_samples=True)["samples"]`` -> records carrying their task."""
    return [{**s, "task": task} for task, rows in results["samples"].items() for s in rows]


@dataclass
class PairedItems:
    """The items evaluated before and after one unlearning run (columns, aligned)."""

    fact_id: list[str] = field(default_factory=list)
    stratum: list[str] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    before: dict[str, list[float]] = field(default_factory=dict)
    after: dict[str, list[float]] = field(default_factory=dict)
    run: list[str] = field(default_factory=list)

    def as_columns(self) -> dict[str, list]:
        """The inputs of the ``evaluate`` modules: one list per column."""
        cols: dict[str, list] = {
            "fact_id": self.fact_id,
            "stratum": self.stratum,
            "count": self.count,
            "run": self.run,
        }
        for metric in GEN_METRICS + PROB_METRICS:
            cols[f"{metric}_before"] = self.before.get(metric, [math.nan] * len(self.fact_id))
            cols[f"{metric}_after"] = self.after.get(metric, [math.nan] * len(self.fact_id))
        return cols


def pair_runs(
    before: Iterable[Mapping[str, Any]],
    after: Iterable[Mapping[str, Any]],
    run: str = "0",
    include_paraphrased: bool = False,
) -> PairedItems:
    """Join BEFORE and AFTER sample records on fact id (items present in both)."""
    b_items, a_items = item_table(before), item_table(after)
    paired = PairedItems()
    for key in sorted(b_items.keys() & a_items.keys()):
        if key.endswith("#paraphrased") and not include_paraphrased:
            continue
        b, a = b_items[key], a_items[key]
        paired.fact_id.append(str(b["fact_id"]))
        paired.stratum.append(str(b["stratum"]))
        paired.count.append(int(b["count"]))
        paired.run.append(str(run))
        for metric in GEN_METRICS + PROB_METRICS:
            paired.before.setdefault(metric, []).append(b.get(metric, math.nan))
            paired.after.setdefault(metric, []).append(a.get(metric, math.nan))
    return paired


def concat_runs(runs: Sequence[PairedItems]) -> dict[str, list]:
    """Columns of several runs (their ``run`` labels must differ) for the across-seed intervals."""
    out: dict[str, list] = {}
    for paired in runs:
        for name, values in paired.as_columns().items():
            out.setdefault(name, []).extend(values)
    return out


# --------------------------------------------------------------------------- aggregates


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int  # items (one run) or runs (several)
    method: str  # "bootstrap" | "t" | "none"

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci_low": self.low, "ci_high": self.high, "n": self.n, "ci": self.method}


def _as_arrays(columns: Mapping[str, Sequence]) -> dict[str, np.ndarray]:
    arrays = {k: np.asarray(v) for k, v in columns.items()}
    n = len(arrays["fact_id"])
    if "run" not in arrays or len(arrays["run"]) != n:
        arrays["run"] = np.asarray(["0"] * n)
    arrays["run"] = arrays["run"].astype(str)
    arrays["stratum"] = arrays["stratum"].astype(str)
    return arrays


def _known(cols: Mapping[str, np.ndarray], view: str) -> np.ndarray:
    return np.nan_to_num(cols[f"{VIEWS[view]}_before"].astype(float)) >= 1.0


def _still_known(cols: Mapping[str, np.ndarray], view: str) -> np.ndarray:
    return (np.nan_to_num(cols[f"{VIEWS[view]}_after"].astype(float)) >= 1.0).astype(float)


def _interval(
    cols: Mapping[str, np.ndarray],
    statistic: Callable[[Mapping[str, np.ndarray]], float],
    n_boot: int,
    seed: int,
    confidence: float,
) -> Estimate:
    """The statistic with a CI: t over runs when several runs are given, else item bootstrap."""
    runs = sorted(set(cols["run"].tolist()))
    alpha = 1.0 - confidence
    if len(runs) > 1:
        from scipy import stats

        per_run = np.array([statistic({k: v[cols["run"] == r] for k, v in cols.items()}) for r in runs])
        per_run = per_run[~np.isnan(per_run)]
        if len(per_run) == 0:
            return Estimate(math.nan, math.nan, math.nan, 0, "t")
        mean = float(per_run.mean())
        if len(per_run) < 2:
            return Estimate(mean, math.nan, math.nan, len(per_run), "t")
        half = float(stats.t.ppf(1 - alpha / 2, len(per_run) - 1) * per_run.std(ddof=1) / math.sqrt(len(per_run)))
        return Estimate(mean, mean - half, mean + half, len(per_run), "t")
    value = float(statistic(cols))
    n = len(cols["fact_id"])
    if math.isnan(value) or n == 0 or n_boot <= 0:
        return Estimate(value, math.nan, math.nan, n, "none")
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        boots.append(statistic({k: v[idx] for k, v in cols.items()}))
    boots_arr = np.asarray(boots, dtype=float)
    boots_arr = boots_arr[~np.isnan(boots_arr)]
    if len(boots_arr) == 0:
        return Estimate(value, math.nan, math.nan, n, "bootstrap")
    low, high = np.quantile(boots_arr, [alpha / 2, 1 - alpha / 2])
    return Estimate(value, float(low), float(high), n, "bootstrap")


def _retention_stat(view: str, stratum: str | None) -> Callable[[Mapping[str, np.ndarray]], float]:
    def stat(cols: Mapping[str, np.ndarray]) -> float:
        mask = _known(cols, view)
        if stratum is not None:
            mask &= cols["stratum"] == stratum
        return float(_still_known(cols, view)[mask].mean()) if mask.any() else math.nan

    return stat


def _ratio_stat(view: str, score: str, stratum: str) -> Callable[[Mapping[str, np.ndarray]], float]:
    """Ratio of means after/before of a continuous score on the items known before."""

    def values(cols: Mapping[str, np.ndarray], when: str) -> np.ndarray:
        if score == "p":
            return np.exp(cols[f"logprob_{when}"].astype(float))
        return cols[f"{score}_{when}"].astype(float)

    def stat(cols: Mapping[str, np.ndarray]) -> float:
        mask = _known(cols, view) & (cols["stratum"] == stratum)
        if not mask.any():
            return math.nan
        before = values(cols, "before")[mask].mean()
        return float(values(cols, "after")[mask].mean() / before) if before > 0 else math.nan

    return stat


def _spearman_stat(view: str) -> Callable[[Mapping[str, np.ndarray]], float]:
    def stat(cols: Mapping[str, np.ndarray]) -> float:
        from scipy import stats

        mask = _known(cols, view) & np.isin(cols["stratum"], STRATA)
        x = np.log(np.maximum(cols["count"][mask].astype(float), 1.0))
        y = _still_known(cols, view)[mask]
        if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
            return math.nan
        return float(stats.spearmanr(x, y).statistic)

    return stat


def _gap_stat(view: str) -> Callable[[Mapping[str, np.ndarray]], float]:
    high, low = _retention_stat(view, "high"), _retention_stat(view, "low")
    return lambda cols: high(cols) - low(cols)


def _misalignment_stat(stratum: str) -> Callable[[Mapping[str, np.ndarray]], float]:
    prob, gen = _retention_stat("prob", stratum), _retention_stat("gen", stratum)
    return lambda cols: prob(cols) - gen(cols)


def _disagreement_stat(stratum: str) -> Callable[[Mapping[str, np.ndarray]], float]:
    def stat(cols: Mapping[str, np.ndarray]) -> float:
        mask = _known(cols, "gen") & _known(cols, "prob") & (cols["stratum"] == stratum)
        if not mask.any():
            return math.nan
        differ = _still_known(cols, "gen") != _still_known(cols, "prob")
        return float(differ[mask].mean())

    return stat


def _strata(cols: Mapping[str, np.ndarray]) -> list[str]:
    present = set(cols["stratum"].tolist())
    return [s for s in STRATA if s in present] + sorted(present - set(STRATA))


def retention(
    columns: Mapping[str, Sequence], n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, dict[str, Any]]:
    """Per view and stratum: retention of known facts (+ ratio of means of continuous scores)."""
    cols = _as_arrays(columns)
    out: dict[str, dict[str, Any]] = {}
    for stratum in _strata(cols):
        for view in VIEWS:
            out[f"retention_{view}/{stratum}"] = _interval(cols, _retention_stat(view, stratum), n_boot, seed, confidence).as_dict()
            out[f"known_{view}/{stratum}"] = {"value": int((_known(cols, view) & (cols["stratum"] == stratum)).sum())}
        out[f"ratio_rougeL_recall/{stratum}"] = _interval(cols, _ratio_stat("gen", "rougeL_recall", stratum), n_boot, seed, confidence).as_dict()
        out[f"ratio_p/{stratum}"] = _interval(cols, _ratio_stat("prob", "p", stratum), n_boot, seed, confidence).as_dict()
    return out


def frequency_gap(
    columns: Mapping[str, Sequence], n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, dict[str, Any]]:
    """Per view: retention(high) - retention(low) and Spearman(log count, per-item retention)."""
    cols = _as_arrays(columns)
    out: dict[str, dict[str, Any]] = {}
    for view in VIEWS:
        out[f"frequency_gap_{view}"] = _interval(cols, _gap_stat(view), n_boot, seed, confidence).as_dict()
        out[f"spearman_{view}"] = _interval(cols, _spearman_stat(view), n_boot, seed, confidence).as_dict()
    return out


def misalignment(
    columns: Mapping[str, Sequence], n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, dict[str, Any]]:
    """Per stratum: retention_prob - retention_gen (signed) and the disagreement rate."""
    cols = _as_arrays(columns)
    out: dict[str, dict[str, Any]] = {}
    for stratum in _strata(cols):
        out[f"misalignment/{stratum}"] = _interval(cols, _misalignment_stat(stratum), n_boot, seed, confidence).as_dict()
        out[f"disagreement/{stratum}"] = _interval(cols, _disagreement_stat(stratum), n_boot, seed, confidence).as_dict()
    return out


def unlearning_report(
    columns: Mapping[str, Sequence], n_boot: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, dict[str, Any]]:
    """All aggregates at once (retention, frequency gap, misalignment)."""
    return {
        **retention(columns, n_boot, seed, confidence),
        **frequency_gap(columns, n_boot, seed, confidence),
        **misalignment(columns, n_boot, seed, confidence),
    }
