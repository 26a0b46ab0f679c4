"""`freq-unlearn unlearn`: run one unlearning method on one forget split.

    freq-unlearn unlearn --model M --benchmark B --forget high --method simnpo --out DIR \\
        [--retain retain] [--lora] [--push-to-hub ID] [--resume] [--max-steps N] [--forget-format qa|bio|both] \\
        [-- --beta 2.5 --warmup_steps 0 ...]

Common settings have flags here. Any other field of the method's config (which is a
`transformers.TrainingArguments`) goes after a lone ``--`` in `HfArgumentParser` form;
``--list-settings`` prints them all for the chosen method.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

# Flags of this parser that map to config fields (dest -> field name).
_FIELD_FLAGS = {
    "max_steps": "max_steps",
    "learning_rate": "learning_rate",
    "epochs": "num_train_epochs",
    "batch_size": "per_device_train_batch_size",
    "seed": "seed",
    "forget_format": "forget_format",
}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "unlearn",
        help="unlearn a forget split from a model (GA, GradDiff, NPO, SimNPO, IDK, IdkDPO, RMU, count-aware)",
        description=(
            "Unlearn one forget split of a benchmark from a causal LM and write an ordinary Hugging Face "
            "checkpoint, a model card and run_record.json. Settings not listed here go after a lone `--` "
            "as TrainingArguments-style flags, e.g. `-- --beta 0.2 --warmup_steps 0`."
        ),
    )
    p.add_argument("--model", help="base model: local folder or Hub id")
    p.add_argument("--benchmark", help="benchmark folder or Hub dataset id (load_dataset-able)")
    p.add_argument("--forget", help="forget stratum (low/medium/high) or a full split name")
    p.add_argument("--method", default="graddiff", help="ga, graddiff, npo, simnpo, idk, idkdpo, rmu, countaware (default: graddiff)")
    p.add_argument("--out", help="output folder")
    p.add_argument("--retain", default="retain", help="retain split ('none': no retain data; default: retain)")
    p.add_argument("--lora", action="store_true", help="train LoRA adapters, merged into the saved checkpoint")
    p.add_argument("--push-to-hub", metavar="ID", help="push the result to this Hub repo (Trainer's push)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint in --out")
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--learning-rate", type=float, help="AdamW learning rate (default 1e-5)")
    p.add_argument("--epochs", type=float, help="passes over the forget split (default 5)")
    p.add_argument("--batch-size", type=int, help="forget examples per device and step (default 8)")
    p.add_argument("--seed", type=int, help="random seed (default 42)")
    p.add_argument("--forget-format", choices=("qa", "bio", "both"),
                   help="forget data: QA pairs (default), biography sentences (benchmark column bio_prefix), or both")  # fmt: skip
    p.add_argument("--list-settings", action="store_true", help="print every setting of --method and exit")
    p.add_argument("settings", nargs="*", metavar="-- SETTINGS", help="more config fields after `--`")
    p.set_defaults(func=run)


def parse_settings(method: str, argv: list[str]) -> dict[str, Any]:
    """Config fields given as `--name value` flags -> the ones that differ from the defaults."""
    from transformers import HfArgumentParser

    from .data import UnlearnInputError
    from .registry import get_method

    parser = HfArgumentParser(get_method(method).config_class, exit_on_error=False)
    try:
        ns, rest = parser.parse_known_args(argv)
        defaults = parser.parse_args([])
    except (argparse.ArgumentError, ValueError) as err:
        raise UnlearnInputError(f"bad setting: {err}") from None
    if rest:
        raise UnlearnInputError(f"unknown setting {rest[0]!r} for method {method!r} (see --list-settings)")
    return {k: v for k, v in vars(ns).items() if v != getattr(defaults, k)}


def run(args: argparse.Namespace) -> int:
    from freq_unlearn.core.errors import UserError

    if args.list_settings:
        from transformers import HfArgumentParser

        from .registry import get_method

        prog = f"freq-unlearn unlearn --method {args.method} --"
        HfArgumentParser(get_method(args.method).config_class, prog=prog).print_help()
        return 0
    missing = [f"--{n}" for n in ("model", "benchmark", "forget", "out") if not getattr(args, n)]
    if missing:
        raise UserError(f"missing {', '.join(missing)}")
    overrides = parse_settings(args.method, list(args.settings))
    overrides.update({fld: getattr(args, dest) for dest, fld in _FIELD_FLAGS.items() if getattr(args, dest) is not None})

    from .api import unlearn

    record = unlearn(
        model=args.model,
        benchmark=args.benchmark,
        forget=args.forget,
        method=args.method,
        out=args.out,
        retain=None if args.retain.lower() == "none" else args.retain,
        lora=args.lora,
        push_to_hub=args.push_to_hub,
        resume=args.resume,
        **overrides,
    )
    last = record.steps[-1] if record.steps else None
    if os.environ.get("RANK", "0") != "0":  # under accelerate/torchrun only rank 0 reports
        return 0 if record.status == "completed" else 1
    print(
        f"{record.method}: {record.status}; {last.step if last else 0} steps"
        + (f", last loss {last.loss:.4f}" if last else "")
        + f"; wrote {args.out}"
        + (f"; pushed to {record.hub_id}" if record.hub_id else "")
    )
    return 0 if record.status == "completed" else 1


def main(argv: list[str] | None = None) -> int:
    """`python -m freq_unlearn.unlearn_methods ...`: this subcommand alone (used under `accelerate launch`)."""
    import sys

    from freq_unlearn.core.errors import UserError

    parser = argparse.ArgumentParser(prog="freq-unlearn")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["unlearn", *(sys.argv[1:] if argv is None else argv)])
    try:
        return run(args)
    except UserError as err:
        print(f"freq-unlearn unlearn: error: {err}", file=sys.stderr)
        return 2
