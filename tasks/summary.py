"""One before/after pair of evaluations, summarized in the suite's vocabulary.

For lm-eval users who ran the tasks on a model before and after unlearning (``freq-unlearn
tasks-report``, the ``evaluate`` modules). One pair is one model and one run, so intervals are the
people bootstrap of that model ("people only (one model)"), and forgetting is *not* net of an
untargeted control (the demo and the leaderboard, which have one, report net forgetting):

* ``forgetting/<probe>/<stratum>/<measure>``: mean forgetting of the gold log-probability, the MC
  margin and the ROUGE-L recall (``pairing``), every item;
* ``retention_gen`` / ``retention_prob`` / ``misalignment`` / ``disagreement`` per probe and
  stratum, on the items known above the guessing floor (``known``);
* ``slope/<probe>/<measure>``: slope of forgetting on log(count), adjusted for the value before and
  the relation, over the forget strata.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from freq_unlearn.core.schema import STRATA
from freq_unlearn.tasks import statistics as st
from freq_unlearn.tasks.pairing import MEASURES

SECTIONS = ("forgetting", "retention", "slope")


def _estimate(frame: Any, statistic: st.Statistic, n_resamples: int, seed: int) -> dict[str, Any]:
    frame = frame.assign(model="one")
    return st.estimate(frame, statistic, n_resamples=n_resamples, seed=seed).as_dict() if len(frame) else \
        st.Estimate.missing().as_dict()


def summarize(paired: Any, n_resamples: int = 999, seed: int = 0, sections: tuple[str, ...] = SECTIONS) -> dict[str, Any]:
    """The summary of ``pairing.pair(before, after)`` rows (a dict of JSON-ready estimates)."""
    out: dict[str, Any] = {}
    for probe in sorted(paired["probe"].unique()):
        rows = paired[paired["probe"] == probe]
        for stratum in [s for s in (*STRATA, "retain", "utility") if s in set(rows["stratum"])]:
            part = rows[rows["stratum"] == stratum]
            key = f"{probe}/{stratum}"
            if "forgetting" in sections:
                for measure in MEASURES:
                    out[f"forgetting/{key}/{measure}"] = _estimate(part, st.mean_of(f"forget_{measure}"), n_resamples, seed)
            if "retention" in sections:
                known = part[part["known"]].assign(disagree=lambda f: f["kept_gen"] != f["kept_prob"])
                out[f"known/{key}"] = {"value": int(len(known)), "items": int(len(part))}
                for view in ("gen", "prob"):
                    out[f"retention_{view}/{key}"] = _estimate(known, st.mean_of(f"kept_{view}"), n_resamples, seed)
                gen, prob = out[f"retention_gen/{key}"]["value"], out[f"retention_prob/{key}"]["value"]
                out[f"misalignment/{key}"] = {"value": None if gen is None or prob is None else prob - gen}
                out[f"disagreement/{key}"] = _estimate(known, st.mean_of("disagree"), n_resamples, seed)
        forget = rows[rows["stratum"].isin(STRATA)]
        if "slope" in sections and forget["count"].nunique() > 1:
            for measure in MEASURES:
                statistic = st.ols_slope(f"forget_{measure}", "log_count", [f"pre_{measure}"], ["relation"])
                out[f"slope/{probe}/{measure}"] = _estimate(forget, statistic, n_resamples, seed)
    return out


def json_ready(summary: dict[str, Any]) -> dict[str, Any]:
    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (np.floating, float)):
            return None if not np.isfinite(v) else float(v)
        if isinstance(v, np.integer):
            return int(v)
        return v

    return clean(summary)
