"""Token log-probabilities of labelled positions: the one primitive every loss here builds on."""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def sequence_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum of log p(label_t | prefix) over labelled positions, and their count, per sequence.

    `logits` [B, T, V] predict the next token, so position t scores labels[t + 1]; labels equal
    to -100 are ignored. Returns (logp [B], n_tokens [B], float).
    """
    shift_logits = logits[:, :-1, :]
    shift_labels = labels[:, 1:]
    mask = shift_labels != IGNORE_INDEX
    # cross_entropy is log_softmax + gather without materialising [B, T, V] log-probs twice.
    token_nll = F.cross_entropy(
        shift_logits.transpose(1, 2), shift_labels.masked_fill(~mask, 0), reduction="none"
    )
    token_nll = token_nll * mask
    return -token_nll.sum(dim=1), mask.sum(dim=1).to(logits.dtype)


def mean_token_nll(logp: torch.Tensor, n_tokens: torch.Tensor) -> torch.Tensor:
    """Token-level mean NLL over a batch (what a causal LM's `outputs.loss` returns)."""
    return -logp.sum() / n_tokens.sum().clamp(min=1)
