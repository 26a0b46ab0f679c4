"""IDK: fine-tune the forget questions toward a refusal (freq_unlearn.schema.REFUSAL).

    L_IDK = NLL(refusal | forget question)   (token mean over the refusal's tokens)

The "IDK" forget loss of Krishnan et al. 2025 (McGill-NLP/unequal-unlearning, ``losses.py``,
``idk_loss``; their refusal string differs), after Maini et al. 2024 (TOFU, arXiv:2401.06121).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch

from .base import UnlearnConfig, UnlearnTrainer
from .ga import PAPER_BIBTEX
from .logprobs import mean_token_nll


def idk_loss(logp: torch.Tensor, n_tokens: torch.Tensor) -> torch.Tensor:
    """Token-mean NLL of the refusal tokens."""
    return mean_token_nll(logp, n_tokens)


@dataclass
class IDKConfig(UnlearnConfig):
    r"""IDK: `UnlearnConfig`'s fields; the forget answers are replaced by the refusal."""

    _refusal_target: ClassVar[bool] = True  # forget_format "qa" only (checked by UnlearnConfig)
    method: str = field(default="idk", metadata={"help": "Unlearning method.", "choices": ["idk"]})


class IDKTrainer(UnlearnTrainer):
    """Trains forget questions toward "I don't know." (+ retain NLL)."""

    forget_target = "refusal"
    _paper = {"title": "Not All Data Are Unlearned Equally", "id": "arXiv:2504.05058", "citation": PAPER_BIBTEX}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        forget = idk_loss(*self.forget_logprobs(model, inputs["forget"]))
        loss = self.combine(forget, self.retain_nll(model, inputs))
        return (loss, None) if return_outputs else loss
