"""Forget/retain effect of every method on one model: the in-run metrics before and after.

    python benchmarks/unlearn_methods_effect.py --model M --benchmark B [--forget high,low]
        [--max-steps 20] [--learning-rate 5e-5] [--batch-size 16] [--methods ga,npo,...]

Prints, per method and forget split, the mean answer probability and greedy exact-contains
accuracy on the forget split and on the retain split, before -> after (up to --items items each).
The settings are the same for every method, so this is a smoke-level comparison, not a tuned one.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from freq_unlearn.unlearn_methods import unlearn
from freq_unlearn.unlearn_methods.registry import METHODS

# Values for tiny models where the defaults are for 7B ones.
TINY_SETTINGS = {"rmu": {"steering_coeff": 20.0, "alpha": 10.0}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--benchmark", required=True)
    p.add_argument("--forget", default="high,low")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--max-steps", type=int, default=20)
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--items", type=int, default=96, help="items per split for the metrics")
    args = p.parse_args()
    print(f"{args.max_steps} steps, lr {args.learning_rate}, batch {args.batch_size}; p = mean p(answer), acc = exact-contains")
    print(f"{'method':9} {'forget':12} {'forget p':>15} {'forget acc':>15} {'retain p':>15} {'retain acc':>15}  status")
    for forget in args.forget.split(","):
        for method in args.methods.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                r = unlearn(
                    model=args.model, benchmark=args.benchmark, forget=forget, method=method, out=Path(tmp) / "o",
                    max_steps=args.max_steps, learning_rate=args.learning_rate, per_device_train_batch_size=args.batch_size,
                    metrics_max_items=args.items, disable_tqdm=True, save_strategy="no", **TINY_SETTINGS.get(method, {}),
                )  # fmt: skip
            b, a = r.evaluations[0], r.evaluations[-1]
            cells = [f"{b.__dict__[part][m]:.3f} -> {a.__dict__[part][m]:.3f}" for part in ("forget", "retain") for m in ("answer_prob", "exact_contains")]
            print(f"{method:9} {r.forget_split:12} " + " ".join(f"{c:>15}" for c in cells) + f"  {r.status}", flush=True)


if __name__ == "__main__":
    main()
