"""Gradient ascent (GA): raise the NLL of the forget answers.

    L_GA = - (1/N) sum_{answer tokens t} -log p(y_t | x, y_<t)     (negated token-mean answer NLL)

The forget term of Krishnan et al. 2025 (arXiv 2504.05058; McGill-NLP/unequal-unlearning,
``losses.py``: ``-outputs.loss`` with the question masked). GA alone has no retain term.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .base import UnlearnConfig, UnlearnTrainer
from .logprobs import mean_token_nll

PAPER_BIBTEX = """@inproceedings{krishnan2025notall,
  title  = {Not All Data Are Unlearned Equally},
  author = {Krishnan, Aravind and Reddy, Siva and Mosbach, Marius},
  booktitle = {Conference on Language Modeling (COLM)},
  year   = {2025},
  note   = {arXiv:2504.05058}
}"""


def ga_loss(logp: torch.Tensor, n_tokens: torch.Tensor) -> torch.Tensor:
    """Negated token-mean NLL of the answers: minimising it ascends the forget NLL."""
    return -mean_token_nll(logp, n_tokens)


@dataclass
class GAConfig(UnlearnConfig):
    r"""Gradient ascent. Same fields as `UnlearnConfig`; `retain_weight` defaults to 0 (no retain term)."""

    method: str = field(default="ga", metadata={"help": "Unlearning method.", "choices": ["ga"]})
    retain_weight: float = field(default=0.0, metadata={"help": "Weight of the retain NLL term (GA: 0)."})


class GATrainer(UnlearnTrainer):
    """Gradient ascent on the forget answers (+ retain NLL when `retain_weight` > 0)."""

    _paper = {"title": "Not All Data Are Unlearned Equally", "id": "arXiv:2504.05058", "citation": PAPER_BIBTEX}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        forget = ga_loss(*self.forget_logprobs(model, inputs["forget"]))
        loss = self.combine(forget, self.retain_nll(model, inputs))
        return (loss, None) if return_outputs else loss
