"""Before/after pairing: per-item outcomes of unlearning, and the untargeted control.

``pair(before, after)`` joins two evaluations of the same items (``evaluation.ITEM_COLUMNS``) and
adds, per item and probe:

* the *forgetting* of each measure, ``forget_<m> = <score> before - <score> after`` (positive =
  forgotten): ``logprob`` (gold answer's log-probability), ``margin`` (gold minus the best
  distractor) and ``rouge`` (ROUGE-L recall of the greedy answer), measured on every item;
* ``known``: the item was known before *above the guessing floor*: correct in both views (greedy
  answer contains the gold answer, and the gold answer beats every distractor) and not explained by
  the name-blind guess that answers every question of a relation with its most common value;
  ``kept_gen`` / ``kept_prob``: still correct after, in each view.

``targeted_net(outcomes, measure)`` applies the protocol's control: every unlearning run targets one
forget stratum but is evaluated on all of them, so each item has a *targeted* forgetting (the run
that targeted its stratum) and a *control* forgetting (the mean over the runs of the same model,
method and seed that targeted another stratum). ``net = targeted - control`` (a difference in
differences) is what the run did to that item beyond general damage; ``collateral`` is the
forgetting a run causes where it was not aimed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from freq_unlearn.core.schema import STRATA
from freq_unlearn.tasks.evaluation import DOC_COLUMNS, KEY_COLUMNS

MEASURES = {"logprob": "logprob", "margin": "mc_margin", "rouge": "rougeL_recall"}  # name -> score column
VIEW_OF = {"logprob": "prob", "margin": "prob", "rouge": "gen"}
SCORES = ("contains", "mc_acc", "logprob", "mc_margin", "rougeL_recall")
RUN_COLUMNS = ("model", "method", "target", "seed")


def majority_answers(records: Any) -> dict[str, str]:
    """Each relation's most common answer: the name-blind guess of the guessing floor."""
    counts = records.drop_duplicates(["fact_id"]).groupby(["relation", "answer"]).size().reset_index(name="n")
    counts = counts.sort_values(["relation", "n", "answer"], ascending=[True, False, True])
    return dict(counts.groupby("relation").first()["answer"])


def pair(before: Any, after: Any, floor: dict[str, str] | None = None) -> Any:
    """Items evaluated both before and after, with forgetting per measure and the known/kept flags."""
    keys = list(KEY_COLUMNS)
    left = before[keys + [c for c in DOC_COLUMNS if c in before.columns] + list(SCORES)]
    merged = left.merge(after[keys + list(SCORES)], on=keys, suffixes=("_before", "_after"))
    if merged.empty:
        raise ValueError("no item was evaluated both before and after unlearning")
    floor = floor if floor is not None else majority_answers(before)
    for name, column in MEASURES.items():
        merged[f"pre_{name}"] = merged[f"{column}_before"]
        merged[f"forget_{name}"] = merged[f"{column}_before"] - merged[f"{column}_after"]
    guessable = merged["answer"].astype(str) == merged["relation"].map(floor).astype(str)
    merged["floor"] = guessable
    merged["known"] = (merged["contains_before"] >= 1) & (merged["mc_acc_before"] >= 1) & ~guessable
    merged["kept_gen"] = merged["contains_after"] >= 1
    merged["kept_prob"] = merged["mc_acc_after"] >= 1
    merged["log_count"] = np.log(np.maximum(merged["count"].astype(float), 1.0))
    return merged


def seed_average(outcomes: Any) -> Any:
    """One row per item of a (model, method, target): numeric outcomes averaged over seeds."""
    group = ["model", "method", "target"] + list(KEY_COLUMNS)
    numeric = [c for c in outcomes.columns if c not in group and c != "seed" and outcomes[c].dtype.kind in "fcb"]
    first = [c for c in outcomes.columns if c not in group + numeric + ["seed"]]
    agg = {c: "mean" for c in numeric} | {c: "first" for c in first}
    out = outcomes.groupby(group, sort=True, as_index=False).agg(agg)
    out["seeds"] = outcomes.groupby(group, sort=True)["seed"].nunique().to_numpy()
    return out


def targeted_net(outcomes: Any, measure: str) -> Any:
    """Per forget item of each (model, method): targeted, control and net forgetting of ``measure``.

    ``outcomes`` holds ``pair`` rows of every run with RUN_COLUMNS; seeds are averaged first so an
    item counts once per model. Items whose stratum no other run left untargeted get a NaN control.
    """
    column = f"forget_{measure}"
    rows = seed_average(outcomes[outcomes["split"].isin([f"forget_{s}" for s in STRATA])])
    rows = rows.assign(targeted=rows["stratum"] == rows["target"])
    item = ["model", "method", "probe", "fact_id"]
    control = rows[~rows["targeted"]].groupby(item)[column].mean().rename("control")
    target = rows[rows["targeted"]].set_index(item)
    out = target.join(control, how="left").reset_index()
    out = out.rename(columns={column: "forgetting"})
    out["net"] = out["forgetting"] - out["control"]
    out["pre"] = out[f"pre_{measure}"]
    keep = item + ["person_id", "relation", "stratum", "count", "log_count", "pre", "forgetting", "control", "net",
                   "known", "kept_gen", "kept_prob", "seeds"]
    return out[keep]


def collateral(outcomes: Any, measure: str) -> Any:
    """Per run (model, method, target, seed) and evaluated split: mean forgetting where it was not aimed."""
    column = f"forget_{measure}"
    aimed = outcomes["split"] == "forget_" + outcomes["target"].astype(str)
    rows = outcomes[~aimed]
    out = rows.groupby(["model", "method", "target", "seed", "probe", "split"], as_index=False)[column].mean()
    return out.rename(columns={column: "collateral"})


def nan_to_none(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value
