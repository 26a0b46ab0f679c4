"""The demo's leaderboard: every method submitted under the leaderboard's protocol.

A submission is one method and setting run on each forget stratum of one base model, so the demo
submits, per method, its runs on the main model (every target, every seed). Scores come from the
leaderboard's own protocol (``freq_unlearn.leaderboard.score_submission``) over the per-item
records the demo already has (QA probe, as the leaderboard evaluates), and the page is the
leaderboard's static export: the same definitions and the same page as ``freq-unlearn leaderboard``.
Methods the robustness stage attacked also get the relearning and membership-inference columns.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from freq_unlearn.core.fsutil import atomic_write_text
from freq_unlearn.core.schema import STRATA

if TYPE_CHECKING:
    from freq_unlearn.demo.pipeline import Demo


def make_leaderboard(demo: Demo) -> None:
    import pandas as pd

    from freq_unlearn.leaderboard import score_submission
    from freq_unlearn.leaderboard.export import export
    from freq_unlearn.leaderboard.submission import run_record_evaluations

    model = demo.preset.main_model
    base = pd.read_parquet(demo.base_records(model))
    base = base[base["probe"] == "qa"]
    results = []
    for method in demo.preset.methods:
        runs, folders = {}, {}
        for run in demo.runs():
            if run.model == model and run.method == method:
                after = pd.read_parquet(demo.after_records(run))
                runs[(run.target, run.seed)] = after[after["probe"] == "qa"]
                folders[(run.target, run.seed)] = demo.run_dir(run)
        scored = score_submission(base, runs, n_resamples=demo.preset.n_resamples)
        scored["metrics"].update(_robustness(demo, method))
        # the per-method view's forgetting curves: each run record's in-run evaluations
        scored["runs"] = [{**r, "evaluations": run_record_evaluations(folders[(r["target"], r["seed"])],
                                                                      f"forget_{r['target']}", r["seed"])}
                          for r in scored["runs"]]
        results.append({"method": method, "submission": {"method": method, "forget_splits": [f"forget_{s}" for s in STRATA],
                                                         "settings": demo.preset.overrides(method)}, **scored})
    folder = demo.out / "leaderboard"
    atomic_write_text(folder / "results.json", json.dumps(results, indent=1, default=float))
    config = {"benchmark": str(demo.benchmark_dir(model).relative_to(demo.out)),
              "base_model": str(demo.model_dir(model).relative_to(demo.out))}
    export(results, folder / "site", config, title=f"freq-unlearn demo leaderboard ({model.id})", force=True)


def _robustness(demo: Demo, method: str) -> dict:
    import pandas as pd

    from freq_unlearn.leaderboard.protocol import robustness_metrics
    from freq_unlearn.robustness.mia import mia_aucs

    runs = [r for r in demo.robustness_runs() if r.method == method and (demo.relearn_dir(r) / "summary.json").is_file()]
    if not runs:
        return {}
    relearning = {r.target: json.loads((demo.relearn_dir(r) / "summary.json").read_text()) for r in runs}
    scores = pd.concat([pd.read_parquet(demo.mia_records(r)).assign(model=r.target) for r in runs], ignore_index=True)
    return robustness_metrics(relearning, mia_aucs(scores, n_resamples=demo.preset.n_resamples))
