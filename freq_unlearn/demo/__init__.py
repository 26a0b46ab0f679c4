"""`freq-unlearn demo`: the whole suite end to end on the embedded synthetic world.

presets (every setting, fixed before results) -> pipeline (stages, reused when finished) ->
analysis (every number, from per-item records) -> report (Markdown, plots, results.json).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from pathlib import Path

from freq_unlearn.core.errors import UserError
from freq_unlearn.core.fsutil import atomic_write_text
from freq_unlearn.demo.presets import PRESETS

__all__ = ["PRESETS", "register", "run_demo"]


def quiet_libraries(verbose: bool) -> None:
    """One line per stage: libraries report errors only, and their progress bars stay off unless
    ``--verbose`` (tqdm reads TQDM_DISABLE when it is first imported; the demo's own bar opts in)."""
    import logging
    import warnings

    if verbose:
        os.environ["FREQ_UNLEARN_VERBOSE"] = "1"
        return
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DATASETS_VERBOSITY", "error")
    for name in ("lm_eval", "datasets", "transformers", "accelerate", "httpx", "datatrove"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # TRL's helpers read this deprecated transformers property: 119 copies in the thorough preset's
    # equal-utility arm, about library internals the user cannot act on (--verbose shows them).
    warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning)


# Settings of stages added after a run folder was written: the folder continues, running only them.
ADDED_STAGES = frozenset({"utility_arm"})


def continues(stored: dict, settings: dict) -> bool:
    """May a run folder written with ``stored`` settings continue under ``settings``? Only when every
    stored setting is unchanged and the new ones belong to stages that folder never ran."""
    unchanged = all(k in settings and settings[k] == v for k, v in stored.items())
    return unchanged and set(settings) - set(stored) <= ADDED_STAGES


def run_demo(out: Path, preset_name: str = "default", verbose: bool = False) -> Path:
    """Run (or continue) a demo into ``out``; returns the report's path."""
    import time

    from freq_unlearn.demo.analysis import analyse
    from freq_unlearn.demo.pipeline import DONE, Demo
    from freq_unlearn.demo.report import write_report

    if preset_name not in PRESETS:
        raise UserError(f"demo preset {preset_name!r} is unknown; choose one of {', '.join(PRESETS)}")
    quiet_libraries(verbose)
    preset = PRESETS[preset_name]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = json.loads(json.dumps({"preset": preset_name, **asdict(preset)}))
    settings_file = out / "demo_settings.json"
    if settings_file.exists() and not continues(json.loads(settings_file.read_text()), settings):
        raise UserError(f"{out} holds a demo run with other settings ({settings_file}); use another --out")
    atomic_write_text(settings_file, json.dumps(settings, indent=2))
    demo = Demo(out, preset, preset_name)
    started = time.perf_counter()
    for model in preset.models:
        demo.prepare_model(model)
    demo.unlearning_grid()
    demo.utility_arm()
    demo.robustness()
    if preset.leaderboard:
        from freq_unlearn.demo.board import make_leaderboard

        demo.stage("leaderboard", out / "leaderboard" / DONE, lambda: make_leaderboard(demo))
    demo.say("[demo] analysis and report ...")
    report = write_report(demo, analyse(demo), time.perf_counter() - started)
    demo.say(f"[demo] report: {report}")
    return report


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the whole suite end to end on the embedded synthetic world",
        description="rotated worlds -> pre-training -> counting -> benchmark -> lm-eval -> unlearning of every "
        "forget stratum -> relearning attack and membership inference -> leaderboard -> DIR/report.md. Finished stages are reused when rerun into the same folder.",
    )
    p.add_argument("--out", type=Path, required=True, help="run folder")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_const", dest="preset", const="quick",
                   help="one tiny model, GA: every stage in under 3 minutes (CI)")
    g.add_argument("--preset", choices=list(PRESETS), default="default",
                   help="; ".join(f"{name}: {p.description}" for name, p in PRESETS.items()))
    p.add_argument("--verbose", action="store_true", help="show the libraries' own progress bars and logs")
    p.set_defaults(preset="default")  # --quick and --preset share the destination
    p.set_defaults(func=lambda args: (run_demo(args.out, args.preset, args.verbose), 0)[1])
