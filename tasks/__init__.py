"""freq_unlearn.tasks: lm-evaluation-harness tasks for frequency-stratified unlearning.

Importing this package stays light (no torch, datasets or lm_eval): the lm-eval start-up hook
and ``freq-unlearn tasks-path`` use it. The task YAMLs live in ``default/`` (registered with
lm-eval on install) and ``paper/`` (the paper's Hub datasets, opt-in). The public API:
``evaluation`` (evaluate a model -> per-item records), ``scores`` (per-item metrics), ``pairing``
(before/after outcomes, the untargeted control), ``statistics`` (intervals, slopes, Holm) and
``summary`` (the report over paired records).
"""

from __future__ import annotations

from pathlib import Path

TASKS_DIR = Path(__file__).resolve().parent
DEFAULT_TASKS_DIR = TASKS_DIR / "default"
PAPER_TASKS_DIR = TASKS_DIR / "paper"
EVALUATE_MODULES_DIR = TASKS_DIR / "evaluate_modules"


def tasks_path(paper: bool = False) -> Path:
    """The folder to pass to ``lm_eval --include_path`` (the paper's Hub tasks with ``paper``)."""
    return PAPER_TASKS_DIR if paper else DEFAULT_TASKS_DIR


def evaluate_module_path(name: str) -> Path:
    """Local path of one of the suite's ``evaluate`` modules, for ``evaluate.load(str(path))``."""
    path = EVALUATE_MODULES_DIR / name / f"{name}.py"
    if not path.is_file():
        known = sorted(p.name for p in EVALUATE_MODULES_DIR.iterdir() if p.is_dir() and not p.name.startswith("_"))
        raise KeyError(f"no evaluate module '{name}' (known: {', '.join(known)})")
    return path
