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
    from freq_unlearn.core.benchmark_folder import BenchmarkError
    from freq_unlearn.core.fsutil import atomic_write_text
    from freq_unlearn.tasks.evaluation import read_samples
    from freq_unlearn.tasks.pairing import pair
    from freq_unlearn.tasks.summary import json_ready, summarize

    for path in [*args.before, *args.after]:
        if not Path(path).exists():
            print(f"freq-unlearn tasks-report: error: {path} does not exist", file=sys.stderr)
            return 2
    try:
        paired = pair(read_samples(args.before), read_samples(args.after))
    except (BenchmarkError, ValueError) as err:
        print(f"freq-unlearn tasks-report: error: {err}", file=sys.stderr)
        return 2
    text = json.dumps(json_ready(summarize(paired, n_resamples=args.bootstrap, seed=args.seed)), indent=2, sort_keys=True)
    if args.out:
        atomic_write_text(Path(args.out), text + "\n")
        print(f"wrote {args.out} ({len(paired)} items)")
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
        "tasks-report", help="forgetting per stratum, retention above the guessing floor, misalignment and the "
        "frequency slope, from lm-eval samples before/after unlearning"
    )
    p.add_argument("--before", nargs="+", required=True, help="lm-eval --log_samples output (files or folders)")
    p.add_argument("--after", nargs="+", required=True, help="the same tasks evaluated after unlearning")
    p.add_argument("--bootstrap", type=int, default=999, help="people-bootstrap resamples for the intervals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the JSON report here instead of printing it")
    p.set_defaults(func=_tasks_report)
