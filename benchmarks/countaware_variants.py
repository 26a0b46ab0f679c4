"""The count-aware method's variants on the tiny world, compared by a rule fixed before running (issue 17).

    python benchmarks/countaware_variants.py --demo DIR --out OUT [--variants loss,step]

DIR is a finished `freq-unlearn demo` run folder (its main model's NPO runs are the comparison). For
each variant, the count-aware method unlearns each forget stratum of the main model with the demo's
settings (seed 0), and every split is evaluated as the demo does (the demo's own count-aware runs
are the "loss" variant and are reused). Printed per variant, one pre-trained
model (descriptive, people bootstrap):

* narrowing = |slope(NPO)| - |slope(variant)| of net forgetting on log(count) (QA probe, gold
  log-probability, adjusted as the demo's Finding 1), paired on the same items;
* retain accuracy drop (QA, generation view), mean over the three runs.

Rule (fixed before running): keep the variant with the larger narrowing among those whose retain
accuracy drop is <= 10 points; a tie (within 0.005) keeps "loss", the simpler one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    import pandas as pd

    from freq_unlearn.core.schema import STRATA
    from freq_unlearn.demo.presets import PRESETS
    from freq_unlearn.tasks import pairing
    from freq_unlearn.tasks import statistics as st
    from freq_unlearn.tasks.evaluation import evaluate, write_records
    from freq_unlearn.unlearn_methods import unlearn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variants", default="loss,step")
    parser.add_argument("--n-resamples", type=int, default=999)
    args = parser.parse_args()
    preset = PRESETS[json.loads((args.demo / "demo_settings.json").read_text())["preset"]]
    model_id = preset.main_model.id
    root = args.demo / "models" / model_id
    base = pd.read_parquet(root / "base.parquet")
    splits = [f"forget_{s}" for s in STRATA] + ["retain", "utility"]

    def after(method: str, target: str, folder: Path | None = None) -> pd.DataFrame:
        run = folder or args.demo / "runs" / model_id / method / target / "seed0"
        return pd.read_parquet(run / "after.parquet")

    frames = [pairing.pair(base, after("npo", t)).assign(method="npo", target=t, seed=0) for t in STRATA]
    for variant in args.variants.split(","):
        for target in STRATA:
            out = args.out / variant / target
            demo_run = args.demo / "runs" / model_id / "countaware" / target / "seed0"
            if variant == "loss" and (demo_run / "after.parquet").exists():
                out = demo_run  # the demo's count-aware runs are this variant (the default)
            if not (out / "after.parquet").exists():
                unlearn(model=str(root / "model"), benchmark=str(root / "benchmark"), forget=target, method="countaware",
                        out=str(out), retain="retain", seed=0, progress=False, count_scaling=variant,
                        **preset.overrides("countaware"))
                write_records(evaluate(str(out), str(root / "benchmark"), splits, probes=preset.probes), out / "after.parquet")
            frames.append(pairing.pair(base, after("", target, out)).assign(method=variant, target=target, seed=0))
    outcomes = pd.concat(frames, ignore_index=True).assign(model=model_id)
    qa = outcomes[outcomes["probe"] == "qa"]
    slope = st.ols_slope("net", "log_count", ["pre"], ["relation"])

    def on(name: str):
        return st.within(slope, lambda c: c["method"].astype(str) == name)

    print(f"model {model_id} (one pre-trained model: descriptive), QA probe, gold log-probability")
    chosen, best = "loss", None
    for variant in args.variants.split(","):
        pair = qa[qa["method"].isin(["npo", variant])]
        net = pairing.targeted_net(pair, "logprob").dropna(subset=["net"])
        mine, npo = on(variant), on("npo")
        narrowing = st.estimate(net, lambda c, w: abs(npo(c, w)) - abs(mine(c, w)), n_resamples=args.n_resamples)
        value = st.estimate(net, mine, n_resamples=args.n_resamples)
        retain = pairing.seed_average(pair[(pair["method"] == variant) & (pair["split"] == "retain")])
        drop = float((retain["contains_before"] - retain["contains_after"]).mean())
        print(f"  {variant:5s} slope {value.value:+.3f} [{value.low:+.3f}, {value.high:+.3f}]  narrowing vs NPO "
              f"{narrowing.value:+.3f} [{narrowing.low:+.3f}, {narrowing.high:+.3f}]  retain accuracy drop {drop:+.1%}")
        if drop <= 0.10 and (best is None or narrowing.value > best + 0.005):
            chosen, best = variant, narrowing.value
    npo_slope = st.estimate(pairing.targeted_net(qa[qa["method"] == "npo"], "logprob").dropna(subset=["net"]), slope,
                            n_resamples=args.n_resamples)
    print(f"  npo   slope {npo_slope.value:+.3f} [{npo_slope.low:+.3f}, {npo_slope.high:+.3f}]")
    print(f"rule keeps: {chosen}")


if __name__ == "__main__":
    main()
