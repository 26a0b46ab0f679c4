"""Unlearning trainers on the Transformers/TRL Trainer stack.

One method per module (its config dataclass, its loss as a pure tensor function, its trainer),
an explicit name -> class table in `registry`, and one entry point::

    from freq_unlearn.unlearn_methods import unlearn
    record = unlearn(model=..., benchmark=..., forget="high", method="npo", out="runs/x")

Importing this package is cheap: torch and transformers load on first use of a name below.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "unlearn": ".api",
    "build_config": ".api",
    "METHODS": ".registry",
    "get_method": ".registry",
    "RunRecord": ".run_record",
    "RunRecordError": ".run_record",
    "UnlearnConfig": ".base",
    "UnlearnTrainer": ".base",
    "UnlearnInputError": ".data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
