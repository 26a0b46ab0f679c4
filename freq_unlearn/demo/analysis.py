"""The demo's analysis: every number of the report, computed from the per-item records.

The rules, fixed before any result was seen (statistics: ``freq_unlearn.tasks.statistics``):

* **Outcomes on every forget item**, per probe (QA, BIO) and measure: forgetting of the gold
  answer's log-probability, of its margin over the best distractor, and of the greedy answer's
  ROUGE-L recall (``pairing``: before - after, positive = forgotten), net of the untargeted control
  (the same item's forgetting when another stratum was targeted).
* **Frequency effect** = the slope of net forgetting on log(count), adjusted for the item's value
  before unlearning and its relation (OLS), per pre-trained model with a people bootstrap, combined
  over models by random effects. The paper predicts a *negative* slope (frequent facts are harder
  to unlearn). Holm correction over every slope of the report; no verdict from < 30 items per
  stratum and model or from a degenerate interval. Per-stratum means are reported beside it.
* **Known -> forgotten** only above the guessing floor (``pairing.pair``'s ``known``); descriptive
  where a stratum has < 30 known items.
* **Costs**: forgetting of the untargeted strata (collateral) and of retain/utility; retain accuracy.
* **Equal utility** (the preset's utility arm: runs at a constant learning rate until retain
  accuracy has fallen by the largest level): each stratum's forgetting of every targeted item, QA
  probe, at the step where retain accuracy first fell by 5 and by 10 points (scores interpolated
  linearly between in-run evaluations), and the frequency slope over the three strata, adjusted as in Finding 1 (not net
  of a control: the matched utility loss is the control). A level that a stratum's runs do not all
  reach is reported so, and that row gets no slope and no verdict. Holm over this table's slopes.
* **Count-aware method** (``count_aware_comparison``): narrowing of |slope| against its base loss
  (NPO), paired on the same items, Holm-corrected, with the retain-accuracy cost difference beside it.
* **Robustness** (main model only, so descriptive): relearning recovery of each targeted stratum
  after the last attack step (forget_half: the never-relearned half; benign: all items), 0 = still
  unlearned, 1 = back at the base model; membership-inference AUC of the targeted stratum's
  biographies against never-seen people, before and after unlearning (0.5 = never seen).
* **Views** (finding 2): misalignment = retention_prob - retention_gen and disagreement per stratum;
  compared across sizes at matched generation-view forgetting (half the known items forgotten, from
  the in-run curves) only when a preset has >= 2 models of each of >= 2 sizes; otherwise descriptive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from freq_unlearn.core.schema import STRATA
from freq_unlearn.tasks import pairing, statistics as st

if TYPE_CHECKING:
    from freq_unlearn.demo.pipeline import Demo

MEASURES = ("logprob", "margin", "rouge")
MEASURE_NAMES = {"logprob": "gold log-probability", "margin": "MC margin", "rouge": "ROUGE-L recall"}
MATCHED_GEN_FORGETTING = 0.5
UTILITY_COLUMNS = ("model", "method", "target", "seed", "level", "fact_id", "person_id", "relation", "stratum", "count",
                   "logprob_before", "logprob_after", "mc_margin_before", "mc_margin_after", "rougeL_recall_before",
                   "rougeL_recall_after")
COMPACT_COLUMNS = ("model", "method", "target", "seed", "split", "probe", "fact_id", "person_id", "relation",
                   "stratum", "count", "answer", "floor", "known", "contains_before", "contains_after",
                   "mc_acc_before", "mc_acc_after", "logprob_before", "logprob_after", "mc_margin_before",
                   "mc_margin_after", "rougeL_recall_before", "rougeL_recall_after")


@dataclass
class Results:
    """What the report prints; ``as_json`` is results.json."""

    models: list[dict[str, Any]] = field(default_factory=list)
    slopes: list[dict[str, Any]] = field(default_factory=list)
    strata: list[dict[str, Any]] = field(default_factory=list)
    retention: list[dict[str, Any]] = field(default_factory=list)
    costs: list[dict[str, Any]] = field(default_factory=list)
    equal_utility: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    sizes: dict[str, Any] = field(default_factory=dict)
    robustness: dict[str, Any] = field(default_factory=dict)
    count_aware: list[dict[str, Any]] = field(default_factory=list)
    outcomes: Any = None  # the paired per-item table (pandas)
    utility_items: Any = None  # the utility arm's paired items at each level (pandas)

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("outcomes", "utility_items")}


def base_records(demo: Demo) -> dict[str, Any]:
    """Each pre-trained model's base per-item records, read once per analysis (model id -> frame)."""
    import pandas as pd

    return {m.id: pd.read_parquet(demo.base_records(m)) for m in demo.preset.models}


def load_outcomes(demo: Demo, bases: dict[str, Any]) -> Any:
    """``pairing.pair`` rows of every run, with the run's model, method, target and seed."""
    import pandas as pd

    frames = []
    for run in demo.runs():
        paired = pairing.pair(bases[run.model.id], pd.read_parquet(demo.after_records(run)))
        frames.append(paired.assign(model=run.model.id, size=run.model.size, method=run.method, target=run.target,
                                    seed=run.seed))
    return pd.concat(frames, ignore_index=True)


def _est(frame: Any, statistic: st.Statistic, demo: Demo) -> st.Estimate:
    return st.estimate(frame, statistic, n_resamples=demo.preset.n_resamples) if len(frame) else st.Estimate.missing()


def _min_items(frame: Any, by: tuple[str, ...] = ("model", "stratum")) -> int:
    return int(frame.groupby(list(by)).size().min()) if len(frame) else 0


def frequency_slopes(demo: Demo, outcomes: Any) -> list[dict[str, Any]]:
    rows = []
    for method in demo.preset.methods:
        for probe in demo.preset.probes:
            subset = outcomes[(outcomes["method"] == method) & (outcomes["probe"] == probe)]
            for measure in MEASURES:
                net = pairing.targeted_net(subset, measure).dropna(subset=["net"])
                est = _est(net, st.ols_slope("net", "log_count", ["pre"], ["relation"]), demo)
                sd = float(net["net"].std()) if len(net) > 1 else math.nan
                rows.append({"method": method, "probe": probe, "measure": measure, "estimate": est.as_dict(),
                             "sd_outcome": sd, "half_width_sd": est.half_width / sd if sd and sd > 0 else math.nan,
                             "min_items": _min_items(net)})
    adjusted = st.holm([r["estimate"]["p_value"] if r["estimate"]["p_value"] is not None else math.nan for r in rows])
    for row, p in zip(rows, adjusted):
        row["p_holm"] = p
        est = st.Estimate(**{k: (math.nan if v is None else v) for k, v in row["estimate"].items()})
        row["verdict"] = st.verdict(est, p, predicted_sign=-1, min_items=row["min_items"])
    return rows


def strata_means(demo: Demo, outcomes: Any) -> list[dict[str, Any]]:
    """Per method, probe and stratum: targeted, control and net forgetting of the gold log-probability."""
    rows = []
    for method in demo.preset.methods:
        for probe in demo.preset.probes:
            subset = outcomes[(outcomes["method"] == method) & (outcomes["probe"] == probe)]
            net = pairing.targeted_net(subset, "logprob")
            for stratum in STRATA:
                part = net[net["stratum"] == stratum]
                rows.append({"method": method, "probe": probe, "stratum": stratum, "items": int(len(part)),
                             **{k: _est(part, st.mean_of(k), demo).as_dict() for k in ("forgetting", "control", "net")}})
    return rows


def known_retention(demo: Demo, outcomes: Any) -> list[dict[str, Any]]:
    """Binary known -> still known, on items known above the guessing floor (targeted rows)."""
    rows = []
    targeted = outcomes[outcomes["stratum"] == outcomes["target"]]
    for method in demo.preset.methods:
        for probe in demo.preset.probes:
            part = targeted[(targeted["method"] == method) & (targeted["probe"] == probe)]
            part = pairing.seed_average(part)
            for stratum in STRATA:
                known = part[(part["stratum"] == stratum) & (part["known"] > 0.5)]
                n_known = int(len(known))
                row = {"method": method, "probe": probe, "stratum": stratum, "known": n_known,
                       "items": int((part["stratum"] == stratum).sum()), "descriptive": n_known < st.MIN_ITEMS}
                for view in ("gen", "prob"):
                    row[f"retention_{view}"] = _est(known, st.mean_of(f"kept_{view}"), demo).as_dict()
                row["misalignment"] = (_none_to_nan(row["retention_prob"]["value"]) - _none_to_nan(row["retention_gen"]["value"]))
                known = known.assign(disagree=(known["kept_gen"] > 0.5) != (known["kept_prob"] > 0.5))
                row["disagreement"] = _est(known, st.mean_of("disagree"), demo).as_dict()
                rows.append(row)
    return rows


def costs(demo: Demo, outcomes: Any) -> list[dict[str, Any]]:
    """Collateral forgetting (untargeted strata) and damage to retain/utility, QA probe."""
    rows = []
    qa = outcomes[outcomes["probe"] == "qa"]
    for method in demo.preset.methods:
        part = pairing.seed_average(qa[qa["method"] == method])
        untargeted = part[part["split"].str.startswith("forget_") & (part["stratum"] != part["target"])]
        row = {"method": method, "collateral_logprob": _est(untargeted, st.mean_of("forget_logprob"), demo).as_dict()}
        for split in ("retain", "utility"):
            cut = part[part["split"] == split].assign(acc_drop=lambda f: f["contains_before"] - f["contains_after"])
            row[f"{split}_logprob"] = _est(cut, st.mean_of("forget_logprob"), demo).as_dict()
            row[f"{split}_accuracy_drop"] = _est(cut, st.mean_of("acc_drop"), demo).as_dict()
        rows.append(row)
    return rows


def _none_to_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


# ---------------------------------------------------------------------------- in-run curves


def inrun_curve(folder: Path, base: Any) -> list[tuple[int, Any]]:
    """(step, per-item records) of a run's in-run evaluations in ``folder``, step 0 being the base model."""
    import pandas as pd

    steps = [(int(p.stem.split("-")[1]), p) for p in sorted(folder.glob("step-*.parquet"))] if folder.is_dir() else []
    return [(0, base)] + [(s, pd.read_parquet(p)) for s, p in steps if s > 0]


def _interpolate(curve: list[tuple[int, float]], level: float) -> tuple[float, int, int, float] | None:
    """First crossing of ``level`` (> the first value) by the curve's values, linearly interpolated:
    (step, index before, index after, weight of the later evaluation)."""
    for i in range(1, len(curve)):
        (s0, v0), (s1, v1) = curve[i - 1], curve[i]
        if v1 >= level:
            w = 1.0 if v1 == v0 else min(max((level - v0) / (v1 - v0), 0.0), 1.0)
            return s0 + w * (s1 - s0), i - 1, i, w
    return None


def at_utility_levels(demo: Demo, bases: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    """The utility arm's runs at each level: ``pairing.pair`` rows of the targeted stratum (QA probe)
    between the base model and the scores interpolated at the step where retain accuracy first fell
    by the level, and one row per run and level saying whether (and at which step) it got there."""
    import pandas as pd

    from freq_unlearn.demo.pipeline import retain_accuracy
    from freq_unlearn.tasks.evaluation import KEY_COLUMNS

    arm = demo.preset.utility_arm
    frames, reached = [], []
    for run in demo.arm_runs():
        base = bases[run.model.id]
        target = f"forget_{run.target}"
        curve = [(s, r[r["probe"] == "qa"]) for s, r in inrun_curve(demo.arm_dir(run) / "inrun", base)]
        start = retain_accuracy(curve[0][1])
        drops = [(s, start - retain_accuracy(r)) for s, r in curve]
        before = curve[0][1][curve[0][1]["split"] == target]
        scored = [r[r["split"] == target].set_index(list(KEY_COLUMNS))[list(pairing.SCORES)] for _, r in curve]
        for level in arm.levels:
            hit = _interpolate(drops, level)
            tag = {"model": run.model.id, "method": run.method, "target": run.target, "seed": run.seed, "level": level}
            reached.append({**tag, "reached": hit is not None, "step": hit[0] if hit else None})
            if hit is not None:
                _, i, j, w = hit
                at = ((1 - w) * scored[i] + w * scored[j].reindex(scored[i].index)).reset_index()
                frames.append(pairing.pair(before, at).assign(**tag))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), reached


def equal_utility(demo: Demo, items: Any, reached: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per arm method, level and measure: each stratum's forgetting at that retain-accuracy drop, and
    the frequency slope over all strata (adjusted as in Finding 1) when every stratum's runs got there.
    ``items`` and ``reached`` come from ``at_utility_levels``."""
    arm = demo.preset.utility_arm
    if arm is None:
        return []
    rows = []
    for method in arm.methods:
        for level in arm.levels:
            runs = [r for r in reached if r["method"] == method and r["level"] == level]
            part = items[(items["method"] == method) & (items["level"] == level)] if len(items) else items
            part = pairing.seed_average(part) if len(part) else part
            entry: dict[str, Any] = {"method": method, "level": level}
            complete = {}  # stratum -> did all of its runs reach the level?
            for stratum in STRATA:
                mine = [r for r in runs if r["target"] == stratum]
                got = [r for r in mine if r["reached"]]
                entry[f"{stratum}_runs_reached"] = f"{len(got)}/{len(mine)}"
                entry[f"{stratum}_step"] = float(np.mean([r["step"] for r in got])) if got else None
                complete[stratum] = bool(mine) and len(got) == len(mine)
            every = all(complete.values())
            for measure in MEASURES:
                row = dict(entry, measure=measure, all_reached=every)
                for stratum in STRATA:
                    row[stratum] = (_est(part[part["stratum"] == stratum], st.mean_of(f"forget_{measure}"), demo).as_dict()
                                    if complete[stratum] else None)
                slope = (_est(part, st.ols_slope(f"forget_{measure}", "log_count", [f"pre_{measure}"], ["relation"]),
                              demo) if every else st.Estimate.missing())
                row.update(slope=slope.as_dict(), min_items=_min_items(part) if every else 0)
                rows.append(row)
    adjusted = st.holm([_none_to_nan(r["slope"]["p_value"]) for r in rows])
    for row, p in zip(rows, adjusted):
        row["p_holm"] = p
        if not row["all_reached"]:
            row["verdict"] = "no verdict (not every stratum reached the level)"
            continue
        est = st.Estimate(**{k: (math.nan if v is None else v) for k, v in row["slope"].items()})
        row["verdict"] = st.verdict(est, p, predicted_sign=-1, min_items=row["min_items"])
    return rows


def size_comparison(demo: Demo, bases: dict[str, Any]) -> dict[str, Any]:
    """Finding 2: disagreement at matched generation-view forgetting, larger vs smaller models."""
    return compare_sizes({m.id: m.size for m in demo.preset.models}, _matched_disagreement(demo, bases))


def compare_sizes(size_of: dict[str, str], values: dict[str, float]) -> dict[str, Any]:
    """The verdict of finding 2 from each model's disagreement at matched forgetting (``values``,
    model id -> value; a model whose runs never reached the level is absent): the largest size minus
    the smallest (preset order), Welch interval over models; a verdict only with >= 2 models of each
    size reaching the level and a non-degenerate interval."""
    from scipy import stats

    sizes = tuple(dict.fromkeys(size_of.values()))
    per_size = {s: [m for m, size in size_of.items() if size == s] for s in sizes}
    claims = len(sizes) >= 2 and all(len(models) >= 2 for models in per_size.values())
    summary: dict[str, Any] = {"sizes": list(sizes), "claims_a_verdict": claims, "per_model": values}
    if len(sizes) < 2:
        summary["verdict"] = "descriptive (one model size in this preset: run `--preset sizes` or `--preset thorough`)"
        return summary
    small, large = sizes[0], sizes[-1]
    a, b = ([values[m] for m in per_size[s] if m in values and math.isfinite(values[m])] for s in (small, large))
    summary.update(small=small, large=large, small_values=a, large_values=b)
    if not claims:
        summary["verdict"] = "descriptive (fewer than 2 models per size)"
        return summary
    if len(a) < 2 or len(b) < 2:
        reached = ", ".join(f"{len(v)} of {len(per_size[s])} {s} models" for s, v in ((small, a), (large, b)))
        summary["verdict"] = (f"no verdict: the matched level ({MATCHED_GEN_FORGETTING:.0%} of the known targeted items "
                              f"forgotten in the generation view) was reached by the runs of {reached}")
        return summary
    test = stats.ttest_ind(b, a, equal_var=False)
    low, high = (float(x) for x in test.confidence_interval(0.95))
    summary.update(difference=float(np.mean(b) - np.mean(a)), ci=[low, high], p_value=float(test.pvalue))
    if not (math.isfinite(low) and math.isfinite(high)) or (np.ptp(a) == 0 and np.ptp(b) == 0):  # no spread
        summary["verdict"] = "no verdict (degenerate interval)"
    else:
        summary["verdict"] = "as predicted" if low > 0 else "opposite" if high < 0 else "inconclusive"
    return summary


def _matched_disagreement(demo: Demo, bases: dict[str, Any]) -> dict[str, float]:
    """Per model: mean over its runs of the disagreement at the step where the generation view has
    forgotten MATCHED_GEN_FORGETTING of the known targeted items (QA probe)."""
    per_model: dict[str, list[float]] = {}
    for run in demo.runs():
        curve = inrun_curve(demo.run_dir(run) / "inrun", bases[run.model.id])
        target = f"forget_{run.target}"
        items = [r[(r["probe"] == "qa") & (r["split"] == target)].set_index("fact_id") for _, r in curve]
        first = items[0]
        known = first.index[(first["contains"] >= 1) & (first["mc_acc"] >= 1)]
        if len(known) == 0 or len(curve) < 2:
            continue
        gen_forgot, disagree = [], []
        for (step, _), r in zip(curve, items):
            r = r.reindex(known)
            kept_gen, kept_prob = r["contains"] >= 1, r["mc_acc"] >= 1
            gen_forgot.append((step, float(1 - kept_gen.mean())))
            disagree.append(float((kept_gen != kept_prob).mean()))
        hit = _interpolate(gen_forgot, MATCHED_GEN_FORGETTING)
        if hit is not None:
            _, i, j, w = hit
            per_model.setdefault(run.model.id, []).append((1 - w) * disagree[i] + w * disagree[j])
    return {m: float(np.mean(v)) for m, v in per_model.items()}


COUNT_AWARE = "countaware"
COUNT_AWARE_BASE = "npo"  # the loss the count-aware method weights (unlearn_methods/countaware.py default)


def count_aware_comparison(demo: Demo, outcomes: Any) -> list[dict[str, Any]]:
    """Does the count-aware method narrow the frequency gap of its base loss at equal utility cost?

    Rule, fixed before the run: per probe and measure, ``narrowing`` = |slope(NPO)| - |slope(count-aware)|
    of net forgetting on log(count) (adjusted as in Finding 1), both methods on the same items and
    people, so one people bootstrap per model resamples them together and models are combined by random
    effects. Holm over the tests of this section. "narrows" when the corrected interval is above 0,
    "widens" when below, "inconclusive" otherwise. Beside it, the difference in retain accuracy drop
    (count-aware - NPO): "at equal utility cost" only when that interval contains 0.
    """
    methods = demo.preset.methods
    if COUNT_AWARE not in methods or COUNT_AWARE_BASE not in methods:
        return []
    pair = outcomes[outcomes["method"].isin([COUNT_AWARE, COUNT_AWARE_BASE])]

    def is_method(name: str) -> Any:
        return lambda cols: np.asarray(cols["method"]).astype(str) == name

    slope = st.ols_slope("net", "log_count", ["pre"], ["relation"])
    ca, base = st.within(slope, is_method(COUNT_AWARE)), st.within(slope, is_method(COUNT_AWARE_BASE))
    rows = []
    for probe in demo.preset.probes:
        for measure in MEASURES:
            net = pairing.targeted_net(pair[pair["probe"] == probe], measure).dropna(subset=["net"])
            est = _est(net, lambda c, w: abs(base(c, w)) - abs(ca(c, w)), demo)
            diff = _est(net, lambda c, w: ca(c, w) - base(c, w), demo)
            rows.append({"probe": probe, "measure": measure, "narrowing": est.as_dict(), "slope_difference": diff.as_dict(),
                         "min_items": _min_items(net, ("model", "method", "stratum"))})
    qa = pairing.seed_average(pair[(pair["probe"] == "qa") & (pair["split"] == "retain")])
    qa = qa.assign(acc_drop=qa["contains_before"] - qa["contains_after"])
    cost = _est(qa, st.difference_of_means("acc_drop", "method", COUNT_AWARE, COUNT_AWARE_BASE), demo).as_dict()
    adjusted = st.holm([r["narrowing"]["p_value"] if r["narrowing"]["p_value"] is not None else math.nan for r in rows])
    for row, p in zip(rows, adjusted):
        est = st.Estimate(**{k: (math.nan if v is None else v) for k, v in row["narrowing"].items()})
        word = st.verdict(est, p, predicted_sign=1, min_items=row["min_items"])
        row["p_holm"] = p
        row["verdict"] = {"as predicted": "narrows", "opposite": "widens"}.get(word, word)
        row["retain_accuracy_drop_difference"] = cost
        row["equal_cost"] = bool(cost["low"] is not None and cost["low"] <= 0 <= cost["high"])
    return rows


RELEARN_VIEWS = (("forget_half", "heldout"), ("benign", "all"))  # (attack, the half its recovery is read on)
MIA_ATTACKS = ("loss", "minkpp")


def robustness(demo: Demo) -> dict[str, Any]:
    """Relearning recovery (last attack step) and MIA AUC of each targeted stratum, per method."""
    import json

    import pandas as pd

    from freq_unlearn.robustness.mia import mia_aucs

    runs = [r for r in demo.robustness_runs() if (demo.relearn_dir(r) / "summary.json").is_file()]
    if not runs:
        return {}
    last = max(demo.preset.relearn_steps)
    relearning = []
    for run in runs:
        summary = json.loads((demo.relearn_dir(run) / "summary.json").read_text())
        for entry in summary["recovery"]:
            if (entry["mode"], entry["half"]) in RELEARN_VIEWS and entry["step"] == last:
                relearning.append({"method": run.method, "target": run.target, "mode": entry["mode"],
                                   "probe": entry["probe"], "measure": entry["measure"], "step": last,
                                   "n_items": entry["n_items"], "recovery": entry["recovery"],
                                   "gain": entry["gain"]})
    frames = [pd.read_parquet(demo.mia_records()).assign(model="base")]
    frames += [pd.read_parquet(demo.mia_records(r)).assign(model=f"{r.method}/{r.target}") for r in runs
               if demo.mia_records(r).is_file()]
    aucs = mia_aucs(pd.concat(frames, ignore_index=True), attacks=MIA_ATTACKS, n_resamples=demo.preset.n_resamples)
    auc = {(row.model, row.stratum, row.attack): {"value": row.auc, "low": row.low, "high": row.high}
           for row in aucs.itertuples(index=False)}
    membership = []
    for run in runs:
        for attack in MIA_ATTACKS:
            membership.append({"method": run.method, "target": run.target, "attack": attack,
                               "before": auc.get(("base", run.target, attack)),
                               "after": auc.get((f"{run.method}/{run.target}", run.target, attack)),
                               "n_members": int(aucs.loc[(aucs["model"] == "base") & (aucs["stratum"] == run.target),
                                                         "n_members"].max()),
                               "n_nonmembers": int(aucs["n_nonmembers"].max())})
    return {"model": demo.preset.main_model.id, "relearn_steps": list(demo.preset.relearn_steps),
            "relearning": relearning, "membership": membership,
            "verdict": "descriptive (one pre-trained model)"}


def model_summaries(demo: Demo, bases: dict[str, Any]) -> list[dict[str, Any]]:
    """What each pre-trained model knew: accuracy per group and probe, and the guessing floor."""
    rows = []
    for model in demo.preset.models:
        base = bases[model.id]
        floor = pairing.majority_answers(base)
        params = _parameters(demo, model)
        for probe in demo.preset.probes:
            part = base[base["probe"] == probe]
            guess = part["answer"].astype(str) == part["relation"].map(floor).astype(str)
            for split in sorted(part["split"].unique()):
                cut = part[part["split"] == split]
                g = guess[part["split"] == split]
                known = (cut["contains"] >= 1) & (cut["mc_acc"] >= 1) & ~g
                rows.append({"model": model.id, "parameters": params, "probe": probe, "split": split,
                             "items": int(len(cut)), "accuracy_gen": float(cut["contains"].mean()),
                             "accuracy_mc": float(cut["mc_acc"].mean()), "guess_floor": float(g.mean()),
                             "known_above_floor": int(known.sum())})
    return rows


def _parameters(demo: Demo, model: Any) -> int:
    import json

    record = demo.model_dir(model) / "pretrain_record.json"
    return int(json.loads(record.read_text())["parameters"]) if record.is_file() else 0


def analyse(demo: Demo) -> Results:
    bases = base_records(demo)
    outcomes = load_outcomes(demo, bases)
    results = Results(outcomes=outcomes)
    results.models = model_summaries(demo, bases)
    results.slopes = frequency_slopes(demo, outcomes)
    results.strata = strata_means(demo, outcomes)
    results.retention = known_retention(demo, outcomes)
    results.costs = costs(demo, outcomes)
    if demo.preset.utility_arm is not None:
        results.utility_items, reached = at_utility_levels(demo, bases)
        results.equal_utility = equal_utility(demo, results.utility_items, reached)
    results.sizes = size_comparison(demo, bases)
    results.robustness = robustness(demo)
    results.count_aware = count_aware_comparison(demo, outcomes)
    return results
