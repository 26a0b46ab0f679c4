"""The ``freq-unlearn`` command. Each subcommand lives with the code it drives.

A subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func`` to a callable taking the parsed namespace and returning an exit code. Modules
import heavy libraries (torch, datasets, lm_eval) inside ``func``, so ``--help`` is quick.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from freq_unlearn import __version__
from freq_unlearn.core.errors import UserError

__all__ = ["UserError", "build_parser", "main"]

# Order here is the order in `freq-unlearn --help`.
SUBCOMMAND_MODULES = (
    "freq_unlearn.demo",  # demo: everything end to end
    "freq_unlearn.world_cli",  # world, pretrain, knowledge
    "freq_unlearn.frequency_index.cli",  # count, build
    "freq_unlearn.tasks.cli",  # tasks-path, tasks-check, tasks-report
    "freq_unlearn.packaged_data",  # tasks-data (the packaged synthetic benchmark)
    "freq_unlearn.unlearn_methods.cli",  # unlearn
    "freq_unlearn.robustness.cli",  # relearn
    "freq_unlearn.leaderboard.cli",  # leaderboard init/submit/list/export/serve
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="freq-unlearn",
        description=(
            "Frequency-stratified unlearning benchmark. Typical flow: "
            "world -> pretrain -> count -> build -> lm_eval / unlearn -> leaderboard. "
            "`freq-unlearn demo --out DIR` runs all of it on the embedded synthetic world."
        ),
    )
    parser.add_argument("--version", action="version", version=f"freq-unlearn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"freq-unlearn {args.command}: error: {err}", file=sys.stderr)
        return 2
