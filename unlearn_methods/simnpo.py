"""SimNPO, Fan et al. 2024, arXiv:2410.07163: NPO without a reference model, length-normalized.

    L_SimNPO = -(2/beta) * E[ log sigmoid( -(beta/|y|) * log pi(y|x) - gamma ) ]

|y| is the number of answer tokens and gamma a reward margin. Note: McGill-NLP/unequal-unlearning
(``losses.py``, ``simnpo``) computes log sigmoid(beta * (NLL/|y| - gamma)), i.e. the margin
scaled by beta; with its default gamma = 0 (used in the paper) the two forms agree. We follow
Fan et al.'s equation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .base import UnlearnConfig, UnlearnTrainer

SIMNPO_BIBTEX = """@article{fan2024simnpo,
  title   = {Simplicity Prevails: Rethinking Negative Preference Optimization for LLM Unlearning},
  author  = {Fan, Chongyu and Liu, Jiancheng and Lin, Licong and Jia, Jinghan and Zhang, Ruiqi and Mei, Song and Liu, Sijia},
  journal = {arXiv preprint arXiv:2410.07163},
  year    = {2024}
}"""


def simnpo_loss(logp: torch.Tensor, n_tokens: torch.Tensor, beta: float, gamma: float) -> torch.Tensor:
    """-(2/beta) * mean log sigmoid(-(beta/|y|) * logp - gamma); logp and n_tokens are per sequence [B]."""
    return -(2.0 / beta) * F.logsigmoid(-(beta / n_tokens) * logp - gamma).mean()


@dataclass
class SimNPOConfig(UnlearnConfig):
    r"""
    SimNPO. Parameters (besides `UnlearnConfig`'s):
        beta (`float`, defaults to `2.5`): inverse temperature, > 0. 2.5 is the SimNPO authors'
            TOFU forget05 setting (OPTML-Group/Unlearn-Simple, TOFU/README.md: `beta=2.5`; 4.5 for
            forget10). Krishnan et al. ran SimNPO with an effective beta of 0.1: their
            config/unlearn.yaml sets `npo_beta: 0.1`, which `get_loss` passes to `simnpo()` and which
            overrides that function's own default of 2.5. Pass `beta=0.1` to reproduce their runs.
        gamma (`float`, defaults to `0.0`): reward margin, >= 0 (0 in both codes above: Krishnan
            et al.'s `simnpo_gamma: 0.0`, the SimNPO authors' `gamma: 0.0`).
    """

    method: str = field(default="simnpo", metadata={"help": "Unlearning method.", "choices": ["simnpo"]})
    beta: float = field(
        default=2.5,
        metadata={"help": "SimNPO inverse temperature (> 0); 2.5: the SimNPO authors' TOFU setting; Krishnan et al. ran 0.1."},
    )
    gamma: float = field(default=0.0, metadata={"help": "SimNPO reward margin (>= 0)."})

    def __post_init__(self) -> None:
        if not self.beta > 0:
            raise ValueError(f"beta must be > 0, got {self.beta}")
        if self.gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {self.gamma}")
        super().__post_init__()


class SimNPOTrainer(UnlearnTrainer):
    """SimNPO: no reference model."""

    _paper = {"title": "Simplicity Prevails: Rethinking NPO for LLM Unlearning", "id": "arXiv:2410.07163", "citation": SIMNPO_BIBTEX}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        logp, n_tokens = self.forget_logprobs(model, inputs["forget"])
        forget = simnpo_loss(logp, n_tokens, self.args.beta, self.args.gamma)
        loss = self.combine(forget, self.retain_nll(model, inputs))
        return (loss, None) if return_outputs else loss
