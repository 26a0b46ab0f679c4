"""Count-aware unlearning: the forget loss of each item weighted by its pre-training count.

Krishnan et al. (arXiv 2504.05058) find that knowledge seen more often in pre-training is harder
to unlearn, and close by calling for methods that take the training data into account. This suite
knows each forget item's count (the benchmark's ``count`` column, written by the frequency index or
taken from the paper's infini-gram counts), so the method spends more of each step where frequency
made the knowledge stick:

    w_i    = clip( (log(1 + c_i) / log(1 + c_ref)) ** power, 1 / max_weight, max_weight )
    L_NPO  = (1/B) sum_i w_i * ( -(2/beta) log sigmoid( -beta (log pi(y_i|x_i) - log pi_ref(y_i|x_i)) ) )
    L_GA   = (1/B) sum_i w_i * ( log pi(y_i|x_i) / |y_i| )              (the "ga" variant)
    L      = forget_weight * L_forget + retain_weight * NLL(retain)

Why log(count): the paper's strata are spaced on a log scale and its forgetting gap grows roughly
linearly in log(count); a fact seen once (c = c_ref = 1) keeps the base method's weight 1, one
seen 10 times gets log 11 / log 2 = 3.5. The weights are absolute, not renormalised within a batch:
a run on the high-count stratum pushes harder than the same run on the low-count stratum, which is
how the suite's per-stratum protocol can see a narrower gap. With every count equal to c_ref the
method is NPO (per-item mean) or GA with per-item token means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from .base import UnlearnConfig, UnlearnTrainer
from .ga import PAPER_BIBTEX

BASE_LOSSES = ("npo", "ga")
SCALINGS = ("loss", "step")


def count_weights(counts: Sequence[float], reference: float = 1.0, power: float = 1.0, max_weight: float = 10.0) -> list[float]:
    """Per-item weights (log(1+c) / log(1+reference)) ** power, clipped to [1/max_weight, max_weight]."""
    scale = math.log1p(reference)
    return [min(max((math.log1p(max(c, 0.0)) / scale) ** power, 1.0 / max_weight), max_weight) for c in counts]


def count_weighted_npo_loss(logp: torch.Tensor, ref_logp: torch.Tensor, weights: torch.Tensor, beta: float) -> torch.Tensor:
    """(1/B) sum_i w_i * -(2/beta) log sigmoid(-beta (logp_i - ref_logp_i)); all inputs [B]."""
    per_item = -(2.0 / beta) * F.logsigmoid(-beta * (logp - ref_logp))
    return (weights * per_item).mean()


def count_weighted_ga_loss(logp: torch.Tensor, n_tokens: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(1/B) sum_i w_i * logp_i / n_i: gradient ascent on each item's per-token NLL, weighted."""
    return (weights * logp / n_tokens.clamp(min=1)).mean()


@dataclass
class CountAwareConfig(UnlearnConfig):
    r"""
    Count-aware unlearning. Parameters (besides `UnlearnConfig`'s):
        base_loss (`str`, defaults to `"npo"`): the per-item forget loss that is weighted, "npo" or "ga".
        beta (`float`, defaults to `0.1`): NPO's inverse temperature (> 0; NPO's default).
        count_reference (`float`, defaults to `1.0`): the count whose items get weight 1 (> 0; a
            fact stated once).
        count_power (`float`, defaults to `1.0`): exponent of the log-count ratio (>= 0; 0 = no weighting).
        max_weight (`float`, defaults to `10.0`): weights are clipped to [1/max_weight, max_weight] (>= 1).
        count_scaling (`str`, defaults to `"loss"`): where the weights act. "loss": each item's loss is
            multiplied by its weight. "step": the learning rate is multiplied by the forget split's mean
            weight (a run on frequent facts takes larger steps) and the items' losses by their weight over
            that mean (relative emphasis only).
    The benchmark's forget split must have a ``count`` column.
    """

    method: str = field(default="countaware", metadata={"help": "Unlearning method.", "choices": ["countaware"]})
    base_loss: str = field(default="npo", metadata={"help": "Per-item forget loss to weight.", "choices": list(BASE_LOSSES)})
    beta: float = field(default=0.1, metadata={"help": "NPO inverse temperature (> 0)."})
    count_reference: float = field(default=1.0, metadata={"help": "Count whose items get weight 1 (> 0)."})
    count_power: float = field(default=1.0, metadata={"help": "Exponent of log(1+c)/log(1+c_ref) (>= 0)."})
    max_weight: float = field(default=10.0, metadata={"help": "Weights clipped to [1/max_weight, max_weight] (>= 1)."})
    count_scaling: str = field(default="loss", metadata={"help": "Where the weights act: per-item loss, or the step size.",
                                                         "choices": list(SCALINGS)})

    def __post_init__(self) -> None:
        if self.count_scaling not in SCALINGS:
            raise ValueError(f"count_scaling must be one of {', '.join(SCALINGS)}; got {self.count_scaling!r}")
        if self.base_loss not in BASE_LOSSES:
            raise ValueError(f"base_loss must be one of {', '.join(BASE_LOSSES)}; got {self.base_loss!r}")
        if not self.beta > 0 or not self.count_reference > 0:
            raise ValueError(f"beta and count_reference must be > 0, got {self.beta} and {self.count_reference}")
        if not (self.count_power >= 0 and self.max_weight >= 1):
            raise ValueError(f"count_power must be >= 0 and max_weight >= 1, got {self.count_power} and {self.max_weight}")
        super().__post_init__()


class CountAwareTrainer(UnlearnTrainer):
    """NPO (or GA) with each forget item's loss weighted by its pre-training count."""

    needs_reference = True
    required_columns: ClassVar[tuple[str, ...]] = ("count",)
    _paper = {"title": "Not All Data Are Unlearned Equally (the call this method answers)", "id": "arXiv:2504.05058",
              "citation": PAPER_BIBTEX}  # fmt: skip

    @classmethod
    def build_train_dataset(cls, tokenizer: Any, forget: Any, retain: Any | None, args: CountAwareConfig) -> Any:
        dataset = super().build_train_dataset(tokenizer, forget, retain, args)
        weights = count_weights([float(c) for c in forget["count"]], args.count_reference, args.count_power, args.max_weight)
        dataset.count_step_scale = 1.0
        if args.count_scaling == "step":
            dataset.count_step_scale = sum(weights) / len(weights)
            weights = [w / dataset.count_step_scale for w in weights]
        dataset.set_forget_weights(weights)
        return dataset

    def create_optimizer(self, *args: Any, **kwargs: Any) -> Any:
        optimizer = super().create_optimizer(*args, **kwargs)
        if self.args.count_scaling == "step":
            # before the scheduler exists, so its initial rate is the scaled one
            for group in optimizer.param_groups:
                group["lr"] *= self.step_scale
        return optimizer

    @property
    def step_scale(self) -> float:
        """The "step" variant's learning-rate factor: the forget split's mean count weight (1 for "loss")."""
        return float(getattr(self.train_dataset, "count_step_scale", 1.0))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        f = inputs["forget"]
        logp, n_tokens = self.forget_logprobs(model, f)
        if self.args.base_loss == "npo":
            with self.reference() as ref:
                ref_logp, _ = self.forget_logprobs(ref, f)
            forget = count_weighted_npo_loss(logp, ref_logp, f["weight"], self.args.beta)
        else:
            forget = count_weighted_ga_loss(logp, n_tokens, f["weight"])
        loss = self.combine(forget, self.retain_nll(model, inputs))
        return (loss, None) if return_outputs else loss


__all__ = ["CountAwareConfig", "CountAwareTrainer", "count_weighted_ga_loss", "count_weighted_npo_loss", "count_weights"]
