"""The leaderboard's protocol scores: one method and setting run on each forget stratum, scored on
per-item records with the suite's pairing and statistics modules (the demo's definitions).

Input: the base model's per-item records and, per run ``(target stratum, seed)``, the unlearned
model's records (``freq_unlearn.tasks.evaluation.evaluate`` frames: forget strata, retain, utility).
``pairing.pair`` turns each run into per-item outcomes; ``pairing.targeted_net`` nets every
stratum's forgetting when it was targeted against its forgetting when another stratum was (the
untargeted control); ``statistics.estimate`` gives every number its interval.

Scores (README "Headline score" has the formula and the reasons):

* ``forget_prob/<b>``, ``forget_gen/<b>``: net targeted forgetting of stratum b, both views, on every
  item: the gold answer's log-probability (nats) and the greedy answer's ROUGE-L recall;
* ``erased/<b>``: net share of the facts known before (both views, above the guessing floor) that
  neither view recovers after, when b is targeted;
* ``robustness`` = min over strata of ``erased/<b>``; ``frequency_gap`` = ``erased/low`` -
  ``erased/high``;
* costs: ``collateral`` (log p forgetting of the untargeted strata), ``retain_forgetting`` /
  ``utility_forgetting`` (log p), ``retain_kept`` / ``utility_kept`` (share of known facts still known,
  mean of both views), ``ppl_before`` / ``ppl_after`` / ``ppl_ratio`` (utility answers), ``utility``;
* ``headline`` = max(0, robustness) x min(1, utility / TOLERANCE).

Robustness columns (when the relearning attack and membership inference ran, ``robustness_metrics``):
``relearn/<b>`` and ``relearn_benign/<b>``: recovery of stratum b's gold log-probability (QA probe) after
the last relearning step, on the never-relearned half / after benign fine-tuning (0 = still unlearned,
1 = back at the base model); ``mia_auc/<b>``: Min-K%++ AUC of b's biographies against never-seen
people after b was targeted (0.5 = indistinguishable). One seed each (the first), people bootstrap.

Intervals: with the same two or more seeds on every stratum, the seeds are the units (a people
bootstrap within each, combined by random effects: "random effects over N seeds"); otherwise seeds
are averaged and the interval is the people bootstrap of the one base model.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from freq_unlearn.core.schema import FORGET_SPLITS, RETAIN_SPLIT, STRATA, UTILITY_SPLIT
from freq_unlearn.tasks import pairing
from freq_unlearn.tasks import statistics as st
from freq_unlearn.tasks.evaluation import KEY_COLUMNS

TOLERANCE = 0.9  # utility (1 = the base model's) above which cost does not lower the headline
EVAL_SPLITS = (*FORGET_SPLITS, RETAIN_SPLIT, UTILITY_SPLIT)
COST_SPLITS = (RETAIN_SPLIT, UTILITY_SPLIT)
Run = tuple[str, int]  # (target stratum, e.g. "high", seed)


def outcomes_of(base: Any, runs: Mapping[Run, Any]) -> Any:
    """``pairing.pair`` rows of every run, with its unit, target and seed, plus the ``erased`` measure
    (1 when a fact known before is recovered by neither view after; NaN for facts not known)."""
    import pandas as pd

    seeds = {target: {s for t, s in runs if t == target} for target in STRATA}
    by_seed = len(seeds[STRATA[0]]) >= 2 and all(v == seeds[STRATA[0]] for v in seeds.values())
    floor = pairing.majority_answers(base)
    frames = []
    for (target, seed), after in sorted(runs.items()):
        paired = pairing.pair(base, after, floor=floor)
        # pair keeps the scores it defines outcomes on; perplexity needs the per-token log p too
        for when, frame in (("before", base), ("after", after)):
            per_token = frame[[*KEY_COLUMNS, "logprob_per_token"]].rename(columns={"logprob_per_token": f"logprob_per_token_{when}"})
            paired = paired.merge(per_token, on=list(KEY_COLUMNS), how="left")
        erased = (~paired["kept_gen"] & ~paired["kept_prob"]).astype(float)
        paired["forget_erased"] = erased.where(paired["known"], math.nan)
        paired["pre_erased"] = paired["known"].astype(float)
        unit = f"seed {seed}" if by_seed else "all seeds"
        frames.append(paired.assign(model=unit, method="submission", target=target, seed=seed))
    return pd.concat(frames, ignore_index=True)


def _where(part: str, stratum: str | None = None):
    def mask(cols: Mapping[str, np.ndarray]) -> np.ndarray:
        out = np.asarray(cols["part"]).astype(str) == part
        return out & (np.asarray(cols["stratum"]).astype(str) == stratum) if stratum else out

    return mask


def scoring_frame(outcomes: Any) -> Any:
    """One frame of per-item rows (seeds averaged) for the joint statistics: ``part`` forget rows
    carry ``net`` (erased, net of control) of known facts; retain/utility rows carry ``kept`` and the
    per-token log-probabilities of the answers."""
    import pandas as pd

    erased = pairing.targeted_net(outcomes, "erased").dropna(subset=["net"])
    forget = erased.assign(part="forget")[["model", "person_id", "fact_id", "stratum", "part", "net"]]
    cost = pairing.seed_average(outcomes[outcomes["split"].isin(COST_SPLITS)])
    cost = cost.assign(part=cost["split"], kept=((cost["kept_gen"] + cost["kept_prob"]) / 2).where(cost["known"] > 0.5),
                       lp_before=cost["logprob_per_token_before"], lp_after=cost["logprob_per_token_after"])
    cost = cost[["model", "person_id", "fact_id", "stratum", "part", "kept", "lp_before", "lp_after"]]
    return pd.concat([forget, cost], ignore_index=True)


def _nanmin(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return min(finite) if finite else math.nan


def _exp_neg(x: float) -> float:
    return math.exp(-x) if math.isfinite(x) else math.nan


def joint_statistics() -> dict[str, st.Statistic]:
    """Statistics over ``scoring_frame`` rows, built from ``statistics.mean_of``."""
    erased = {b: st.mean_of("net", _where("forget", b)) for b in STRATA}
    kept = {p: st.mean_of("kept", _where(p)) for p in COST_SPLITS}
    lp_before, lp_after = st.mean_of("lp_before", _where(UTILITY_SPLIT)), st.mean_of("lp_after", _where(UTILITY_SPLIT))

    def robustness(c, w):
        return _nanmin([erased[b](c, w) for b in STRATA])

    def ppl_ratio(c, w):  # exp(-mean lp after) / exp(-mean lp before)
        diff = lp_before(c, w) - lp_after(c, w)
        return math.exp(diff) if math.isfinite(diff) else math.nan

    def utility(c, w):
        ratio = ppl_ratio(c, w)
        return _nanmin([kept[RETAIN_SPLIT](c, w), kept[UTILITY_SPLIT](c, w), min(1.0, 1.0 / ratio) if ratio > 0 else math.nan])

    def headline(c, w):
        r, u = robustness(c, w), utility(c, w)
        if not (math.isfinite(r) and math.isfinite(u)):
            return math.nan  # nothing known to forget, or no utility measure: no score (sorted last)
        return max(0.0, r) * min(1.0, u / TOLERANCE)

    out: dict[str, st.Statistic] = {f"erased/{b}": erased[b] for b in STRATA}
    out.update(robustness=robustness, frequency_gap=lambda c, w: erased["low"](c, w) - erased["high"](c, w),
               retain_kept=kept[RETAIN_SPLIT], utility_kept=kept[UTILITY_SPLIT], utility=utility, headline=headline,
               ppl_before=lambda c, w: _exp_neg(lp_before(c, w)), ppl_after=lambda c, w: _exp_neg(lp_after(c, w)),
               ppl_ratio=ppl_ratio)
    return out


def _entry(est: st.Estimate, n_seeds: int) -> dict[str, Any]:
    d = est.as_dict()
    label = d["method"].replace("models", "seeds")
    if label == "people only (one model)":
        label = "people bootstrap (one seed)" if n_seeds == 1 else "people bootstrap (seeds averaged)"
    label = label.replace("people only (seeds averaged)", "people bootstrap (seeds averaged)")
    return {"value": d["value"], "ci_low": d["low"], "ci_high": d["high"], "interval": label,
            "n_items": d["n_items"], "n_people": d["n_people"], "n_seeds": n_seeds}


def score_outcomes(outcomes: Any, n_resamples: int = st.N_RESAMPLES, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Every leaderboard metric with its interval, from ``outcomes_of`` rows."""
    n_seeds = int(outcomes.groupby("target")["seed"].nunique().min())

    def est(frame: Any, statistic: st.Statistic) -> dict[str, Any]:
        if not len(frame):
            return _entry(st.Estimate.missing(), n_seeds)
        result = st.estimate(frame, statistic, n_resamples=n_resamples, seed=seed)
        if not math.isfinite(result.value) and frame["model"].nunique() > 1:
            # random effects need a positive standard error from every seed (identical seeds give
            # none): fall back to one unit, each item's seed rows resampled with its person
            result = st.estimate(frame.assign(model="all seeds"), statistic, n_resamples=n_resamples, seed=seed)
            result = dataclasses.replace(result, method="people only (seeds averaged)")
        return _entry(result, n_seeds)

    metrics: dict[str, dict[str, Any]] = {}
    for view, measure in (("prob", "logprob"), ("gen", "rouge")):
        net = pairing.targeted_net(outcomes, measure).dropna(subset=["net"])
        for b in STRATA:
            metrics[f"forget_{view}/{b}"] = est(net[net["stratum"] == b], st.mean_of("net"))
    averaged = pairing.seed_average(outcomes)
    untargeted = averaged[averaged["split"].isin(FORGET_SPLITS) & (averaged["stratum"] != averaged["target"])]
    metrics["collateral"] = est(untargeted, st.mean_of("forget_logprob"))
    for split in COST_SPLITS:
        metrics[f"{split}_forgetting"] = est(averaged[averaged["split"] == split], st.mean_of("forget_logprob"))
    frame = scoring_frame(outcomes)
    for name, statistic in joint_statistics().items():
        metrics[name] = est(frame, statistic)
    return metrics


def item_rows(outcomes: Any) -> list[dict[str, Any]]:
    """Per targeted forget item and seed: known/kept in each view (the plots' input)."""
    rows = outcomes[outcomes["split"].isin(FORGET_SPLITS) & (outcomes["stratum"] == outcomes["target"])]
    out = []
    for r in rows.itertuples(index=False):
        known = bool(r.known)
        out.append({"seed": int(r.seed), "target": str(r.target), "fact_id": str(r.fact_id), "stratum": str(r.stratum),
                    "count": int(r.count), "known_gen": known, "known_prob": known,
                    "kept_gen": bool(r.kept_gen) if known else None, "kept_prob": bool(r.kept_prob) if known else None})
    return out


def score_submission(base: Any, runs: Mapping[Run, Any], n_resamples: int = st.N_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """Base records + records per (target stratum, seed) -> {"metrics", "items", "runs"}.

    ``runs`` must hold every stratum of ``core.schema.STRATA`` (a ValueError names a missing one)."""
    missing = [b for b in STRATA if not any(t == b for t, _ in runs)]
    if missing:
        raise ValueError(f"no run targets forget_{missing[0]}: a submission runs the method on each forget stratum")
    outcomes = outcomes_of(base, runs)
    return {"metrics": score_outcomes(outcomes, n_resamples=n_resamples, seed=seed), "items": item_rows(outcomes),
            "runs": [{"target": t, "seed": s} for t, s in sorted(runs)]}


RELEARN_METRICS = {"relearn": "forget_half", "relearn_benign": "benign"}  # metric prefix -> attack
MIA_ATTACK = "minkpp"


def robustness_metrics(relearning: Mapping[str, Mapping[str, Any]], aucs: Any = None) -> dict[str, dict[str, Any]]:
    """Leaderboard entries from relearning summaries (target stratum -> ``robustness.relearn`` summary)
    and a ``robustness.mia_aucs`` table whose ``model`` column names the target stratum each model unlearned."""
    metrics: dict[str, dict[str, Any]] = {}
    for target, summary in relearning.items():
        last = max(e["step"] for e in summary["recovery"])
        for prefix, mode in RELEARN_METRICS.items():
            half = "heldout" if mode == "forget_half" else "all"
            metrics[f"{prefix}/{target}"] = {"value": None, "ci_low": None, "ci_high": None, "n_items": 0, "n_seeds": 1,
                                             "interval": f"no evaluated item of this half ({mode}, {half})"}
            for e in summary["recovery"]:
                if (e["mode"], e["half"], e["probe"], e["measure"], e["step"]) == (mode, half, "qa", "logprob", last):
                    r = e["recovery"]
                    metrics[f"{prefix}/{target}"] = {"value": r["value"], "ci_low": r["low"], "ci_high": r["high"],
                                                     "interval": f"people bootstrap (one seed, {last} steps)",
                                                     "n_items": e["n_items"], "n_people": r.get("n_people"), "n_seeds": 1}
    if aucs is not None:
        for row in aucs[(aucs["attack"] == MIA_ATTACK) & (aucs["model"] == aucs["stratum"])].itertuples(index=False):
            metrics[f"mia_auc/{row.stratum}"] = {"value": row.auc, "ci_low": row.low, "ci_high": row.high,
                                                 "interval": "bootstrap of members and non-members (one seed)",
                                                 "n_items": int(row.n_members), "n_people": int(row.n_members), "n_seeds": 1}
    return metrics
