"""Method name -> (config class, trainer class). Adding a method: a module + one line here.

An explicit table, never a substring match on the name (a typo must fail loudly).
"""

from __future__ import annotations

from typing import NamedTuple

from .base import UnlearnConfig
from .countaware import CountAwareConfig, CountAwareTrainer
from .data import UnlearnInputError
from .ga import GAConfig, GATrainer
from .graddiff import GradDiffConfig, GradDiffTrainer
from .idk import IDKConfig, IDKTrainer
from .idkdpo import IdkDPOConfig, IdkDPOTrainer
from .npo import NPOConfig, NPOTrainer
from .rmu import RMUConfig, RMUTrainer
from .simnpo import SimNPOConfig, SimNPOTrainer


class Method(NamedTuple):
    config_class: type[UnlearnConfig]
    trainer_class: type


METHODS: dict[str, Method] = {
    "ga": Method(GAConfig, GATrainer),
    "graddiff": Method(GradDiffConfig, GradDiffTrainer),
    "npo": Method(NPOConfig, NPOTrainer),
    "simnpo": Method(SimNPOConfig, SimNPOTrainer),
    "idk": Method(IDKConfig, IDKTrainer),
    "idkdpo": Method(IdkDPOConfig, IdkDPOTrainer),
    "rmu": Method(RMUConfig, RMUTrainer),
    "countaware": Method(CountAwareConfig, CountAwareTrainer),
}


def get_method(name: str) -> Method:
    """The method registered under `name`; an unknown name raises one line listing the valid ones."""
    try:
        return METHODS[name]
    except KeyError:
        raise UnlearnInputError(f"unknown method {name!r}; valid methods: {', '.join(METHODS)}") from None

