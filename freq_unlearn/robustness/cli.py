"""``freq-unlearn relearn``: the relearning attack on an unlearned checkpoint (see relearn.py)."""

from __future__ import annotations

import argparse
from typing import Any


def _steps(text: str) -> tuple[int, ...]:
    try:
        steps = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--steps: expected comma-separated integers like 0,5,10,20, got {text!r}") from None
    if not steps:
        raise argparse.ArgumentTypeError("--steps: give at least one step")
    return steps


def _names(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "relearn",
        help="relearning attack: fine-tune an unlearned model a few steps, measure recovery per stratum",
        description=(
            "Fine-tune an unlearned checkpoint for a few steps (plain causal-LM loss, constant learning rate) on "
            "half of the forgotten people's facts (forget_half) and on benign retain text (benign), and measure "
            "how much of the forgotten knowledge returns on the never-relearned half: both views, normalised "
            "between the unlearned model (0) and the base model (1), with people-bootstrap intervals. "
            "Writes items.parquet, recovery.parquet and summary.json to --out."
        ),
    )
    p.add_argument("--model", required=True, help="the unlearned checkpoint (folder or Hub id)")
    p.add_argument("--base", required=True, help="the model before unlearning (the ceiling)")
    p.add_argument("--benchmark", required=True, help="benchmark folder or Hub dataset id")
    p.add_argument("--forget", required=True, help="the forget stratum the model unlearned (low/medium/high)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--steps", type=_steps, default=(0, 5, 10, 20), help="attack steps to evaluate (default 0,5,10,20)")
    p.add_argument("--learning-rate", type=float, default=1e-4, help="constant AdamW rate (default 1e-4)")
    p.add_argument("--batch-size", type=int, default=16, help="texts per step (default 16)")
    p.add_argument("--form", default="both", choices=("qa", "bio", "both"), help="text forms trained (default both)")
    p.add_argument("--modes", type=_names, default=("forget_half", "benign"), help="attacks, comma-separated (default forget_half,benign)")
    p.add_argument("--benign-split", default="retain", help="split the benign attack trains on (default retain)")
    p.add_argument("--probes", type=_names, default=None, help="evaluation probes (default qa, plus bio when the benchmark has it)")
    p.add_argument("--seed", type=int, default=0, help="people split and data order (default 0)")
    p.add_argument("--n-resamples", type=int, default=999, help="people-bootstrap resamples (default 999)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from freq_unlearn.robustness.relearn import RelearnConfig, relearn

    config = RelearnConfig(steps=args.steps, learning_rate=args.learning_rate, batch_size=args.batch_size,
                           form=args.form, modes=args.modes, benign_split=args.benign_split, probes=args.probes,
                           seed=args.seed, n_resamples=args.n_resamples)
    summary = relearn(args.model, args.base, args.benchmark, args.forget, args.out, config, overwrite=args.overwrite)
    print(headline(summary))
    print(f"wrote {args.out}/summary.json, items.parquet, recovery.parquet")
    return 0


def headline(summary: dict[str, Any]) -> str:
    """A small table: recovery at each step, per attack, probe and measure (never-relearned items)."""
    lines = [f"recovery of {summary['forget_split']} (0 = unlearned, 1 = base; 95% interval)"]
    for entry in summary["recovery"]:
        wanted = "heldout" if entry["mode"] == "forget_half" else "all"
        if entry["half"] != wanted or entry["step"] == 0:
            continue
        rec = entry["recovery"]
        value = "n/a" if rec["value"] is None else f"{rec['value']:.2f}"
        interval = "" if rec["low"] is None else f" [{rec['low']:.2f}, {rec['high']:.2f}]"
        lines.append(f"  {entry['mode']:<11} {entry['probe']:<3} {entry['measure']:<8} step {entry['step']:>3}: {value}{interval}")
    return "\n".join(lines)
