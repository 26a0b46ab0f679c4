"""``freq-unlearn tasks-path | tasks-check | tasks-report``: the lm-eval tasks from the shell.

This module is registered in ``freq_unlearn.cli.SUBCOMMAND_MODULES``; it imports nothing from
the other parts, and heavy libraries only inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _tasks_path(args: argparse.Namespace) -> int:
    from freq_unlearn.tasks import tasks_path

    print(tasks_path(paper=args.paper))
    return 0


def _tasks_check(args: argparse.Namespace) -> int:
    from freq_unlearn.tasks.benchmark_io import BenchmarkError, load_split, resolve_source
    from freq_unlearn.core.schema import BENCHMARK_SPLITS

    source = resolve_source(args.benchmark)
    try:
        sizes = {split: len(load_split(source, split)) for split in BENCHMARK_SPLITS}
    except BenchmarkError as err:
        print(f"freq-unlearn tasks-check: error: {err}", file=sys.stderr)
        return 2
    for split, size in sizes.items():
        print(f"{split:28s} {size:6d} items")
    return 0


def _tasks_report(args: argparse.Namespace) -> int:
    from freq_unlearn.tasks.metrics import pair_runs, read_samples, unlearning_report

    for path in [*args.before, *args.after]:
        if not Path(path).exists():
            print(f"freq-unlearn tasks-report: error: {path} does not exist", file=sys.stderr)
            return 2
    paired = pair_runs(read_samples(args.before), read_samples(args.after))
    if not paired.fact_id:
        print("freq-unlearn tasks-report: error: no item appears in both the BEFORE and the AFTER samples", file=sys.stderr)
        return 2
    report = unlearning_report(paired.as_columns(), n_boot=args.bootstrap, seed=args.seed)
    text = json.dumps(report, indent=2, sort_keys=True)
    if args.out:
        out = Path(args.out)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(out)
        print(f"wrote {out} ({len(paired.fact_id)} items)")
    else:
        print(text)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tasks-path", help="folder of the lm-eval task YAMLs (for --include_path)")
    p.add_argument("--paper", action="store_true", help="the paper's Hub-backed tasks instead of the default ones")
    p.set_defaults(func=_tasks_path)

    p = subparsers.add_parser("tasks-check", help="check that a benchmark has every split and column the tasks need")
    p.add_argument("benchmark", nargs="?", default="synthetic", help="local folder, Hub id or 'synthetic' (default)")
    p.set_defaults(func=_tasks_check)

    p = subparsers.add_parser(
        "tasks-report", help="retention, frequency gap and misalignment from lm-eval samples before/after unlearning"
    )
    p.add_argument("--before", nargs="+", required=True, help="lm-eval --log_samples output (files or folders)")
    p.add_argument("--after", nargs="+", required=True, help="the same tasks evaluated after unlearning")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the intervals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the JSON report here instead of printing it")
    p.set_defaults(func=_tasks_report)
