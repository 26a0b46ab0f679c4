"""Robustness of unlearning per frequency stratum: relearning attacks and membership inference.

Forgetting that returns after a few fine-tuning steps, or that a membership-inference attack still
detects, is not forgetting (issue 16). Two public entry points::

    from freq_unlearn.robustness import relearn, mia_aucs
    summary = relearn("runs/ga-high", base="runs/base", benchmark="runs/bench", forget="high", out="runs/relearn")
    aucs = mia_aucs(scores)   # per-biography attack scores -> AUC per stratum and attack

Importing this package is cheap: torch, transformers and lm-eval load on first use of a name below.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "relearn": ".relearn",
    "RelearnConfig": ".relearn",
    "split_people": ".relearn_data",
    "recovery_summary": ".recovery",
    "mia_scores": ".mia",
    "mia_aucs": ".mia",
    "attack_scores": ".mia",
    "people_from_facts": ".mia",
    "membership_inference": ".mia",
    "ATTACKS": ".mia",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
