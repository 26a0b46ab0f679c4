"""Gradient difference (GradDiff): gradient ascent on forget answers + NLL on retain QA.

    L = forget_weight * L_GA(forget) + retain_weight * NLL(retain)

Liu et al. 2022 ("Continual Learning and Private Unlearning", arXiv 2203.12817); the "GA_GD"
recipe of Krishnan et al. 2025 (arXiv 2504.05058), where each forget example is paired with a
retain example and the retain NLL covers the whole retain sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ga import GAConfig, GATrainer

GRADDIFF_BIBTEX = """@inproceedings{liu2022continual,
  title     = {Continual Learning and Private Unlearning},
  author    = {Liu, Bo and Liu, Qiang and Stone, Peter},
  booktitle = {Conference on Lifelong Learning Agents (CoLLAs)},
  year      = {2022},
  note      = {arXiv:2203.12817}
}"""


@dataclass
class GradDiffConfig(GAConfig):
    r"""Gradient difference: `GAConfig` with `retain_weight` 1.0."""

    method: str = field(default="graddiff", metadata={"help": "Unlearning method.", "choices": ["graddiff"]})
    retain_weight: float = field(default=1.0, metadata={"help": "Weight of the retain NLL term."})

    def __post_init__(self) -> None:
        if self.retain_weight <= 0:
            raise ValueError("graddiff needs retain_weight > 0 (use method 'ga' for no retain term)")
        super().__post_init__()


class GradDiffTrainer(GATrainer):
    """The GA loss with its retain term switched on (the loss itself is GA's)."""

    _paper = {"title": "Continual Learning and Private Unlearning", "id": "arXiv:2203.12817", "citation": GRADDIFF_BIBTEX}
