"""Negative Preference Optimization (NPO), Zhang et al. 2024, arXiv:2404.05868.

    L_NPO = -(2/beta) * E[ log sigmoid( -beta * (log pi(y|x) - log pi_ref(y|x)) ) ]

with log pi the summed log-probability of the forget answer tokens under the model being trained
and pi_ref the frozen starting model. At the first step pi == pi_ref, so L = (2/beta) ln 2.
As beta -> 0 the gradient tends to gradient ascent's (the paper's Section 3); the retain NLL is
added when `retain_weight` > 0 (the paper's NPO+RT).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .base import UnlearnConfig, UnlearnTrainer

NPO_BIBTEX = """@article{zhang2024npo,
  title   = {Negative Preference Optimization: From Catastrophic Collapse to Effective Unlearning},
  author  = {Zhang, Ruiqi and Lin, Licong and Bai, Yu and Mei, Song},
  journal = {arXiv preprint arXiv:2404.05868},
  year    = {2024}
}"""


def npo_loss(logp: torch.Tensor, ref_logp: torch.Tensor, beta: float) -> torch.Tensor:
    """-(2/beta) * mean log sigmoid(-beta * (logp - ref_logp)); inputs are per-sequence sums [B]."""
    return -(2.0 / beta) * F.logsigmoid(-beta * (logp - ref_logp)).mean()


@dataclass
class NPOConfig(UnlearnConfig):
    r"""
    NPO. Parameters (besides `UnlearnConfig`'s):
        beta (`float`, defaults to `0.1`): inverse temperature; > 0 (the paper's and
            McGill-NLP/unequal-unlearning's default is 0.1).
    """

    method: str = field(default="npo", metadata={"help": "Unlearning method.", "choices": ["npo"]})
    beta: float = field(default=0.1, metadata={"help": "NPO inverse temperature (> 0)."})

    def __post_init__(self) -> None:
        if not self.beta > 0:
            raise ValueError(f"beta must be > 0, got {self.beta}")
        super().__post_init__()


class NPOTrainer(UnlearnTrainer):
    """NPO against a frozen reference (a second model in memory, or the LoRA base)."""

    needs_reference = True
    _paper = {"title": "Negative Preference Optimization", "id": "arXiv:2404.05868", "citation": NPO_BIBTEX}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        logp, _ = self.forget_logprobs(model, inputs["forget"])
        with self.reference() as ref:
            ref_logp, _ = self.forget_logprobs(ref, inputs["forget"])
        forget = npo_loss(logp, ref_logp, self.args.beta)
        loss = self.combine(forget, self.retain_nll(model, inputs))
        return (loss, None) if return_outputs else loss
