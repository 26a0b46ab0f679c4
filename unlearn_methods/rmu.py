"""Representation Misdirection for Unlearning (RMU), Li et al. 2024 (WMDP), arXiv:2403.03218.

With h_l(x) the hidden states output by transformer block l, u a fixed random unit vector and
c the steering coefficient:

    L_forget = mean over forget positions of (1/d) || h_l^theta(x_f) - c * u ||^2
    L_retain = mean over retain positions of (1/d) || h_l^theta(x_r) - h_l^frozen(x_r) ||^2
    L_RMU    = L_forget + alpha * L_retain

Only the blocks in `update_layers` (the paper: l-2, l-1, l) are trained. Forget positions are
those that predict an answer token (the answer-only recipe of the other methods); retain
positions are all attended tokens, as in the paper. `forget_weight`/`retain_weight` do not apply:
RMU has its own `alpha`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from .base import UnlearnConfig, UnlearnTrainer
from .data import IGNORE_INDEX

RMU_BIBTEX = """@article{li2024wmdp,
  title   = {The WMDP Benchmark: Measuring and Reducing Malicious Use With Unlearning},
  author  = {Li, Nathaniel and Pan, Alexander and Gopal, Anjali and Yue, Summer and others},
  journal = {arXiv preprint arXiv:2403.03218},
  year    = {2024}
}"""


def masked_mse(hidden: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over masked positions of the per-position mean squared error; hidden [B,T,d], mask [B,T]."""
    per_position = (hidden - target).pow(2).mean(dim=-1)
    mask = mask.to(per_position.dtype)
    return (per_position * mask).sum() / mask.sum().clamp(min=1)


def rmu_loss(
    forget_hidden: torch.Tensor,
    forget_mask: torch.Tensor,
    control: torch.Tensor,
    retain_hidden: torch.Tensor | None,
    retain_frozen: torch.Tensor | None,
    retain_mask: torch.Tensor | None,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(total, forget term, retain term) of RMU; `control` is c * u, shape [d]."""
    forget = masked_mse(forget_hidden, control, forget_mask)
    if retain_hidden is None:
        return forget, forget, None
    retain = masked_mse(retain_hidden, retain_frozen, retain_mask)
    return forget + alpha * retain, forget, retain


def answer_positions(labels: torch.Tensor) -> torch.Tensor:
    """Positions t whose next token labels[t+1] is an answer token."""
    mask = torch.zeros_like(labels, dtype=torch.bool)
    mask[:, :-1] = labels[:, 1:] != IGNORE_INDEX
    return mask


@dataclass
class RMUConfig(UnlearnConfig):
    r"""
    RMU. Parameters (besides `UnlearnConfig`'s):
        layer (`int`, defaults to `-1`): block whose output is misdirected; -1 picks the middle
            block (num_layers // 2). The block's own output is read with a forward hook, so the
            last block works too (the model's final layer norm is not part of it).
        update_layers (`str`, defaults to `""`): comma-separated blocks to train; empty means
            layer-2, layer-1, layer (clipped at 0), the paper's choice.
        steering_coeff (`float`, defaults to `6.5`): c, the norm of the control vector (paper, Zephyr-7B).
        alpha (`float`, defaults to `1200.0`): retain weight (paper, Zephyr-7B).
    """

    method: str = field(default="rmu", metadata={"help": "Unlearning method.", "choices": ["rmu"]})
    layer: int = field(default=-1, metadata={"help": "Block whose output is misdirected (-1: middle block)."})
    update_layers: str = field(default="", metadata={"help": "Comma-separated blocks to train (default l-2..l)."})
    steering_coeff: float = field(default=6.5, metadata={"help": "Norm c of the control vector c*u (> 0)."})
    alpha: float = field(default=1200.0, metadata={"help": "Weight of the retain hidden-state MSE (>= 0)."})

    def __post_init__(self) -> None:
        if not self.steering_coeff > 0:
            raise ValueError(f"steering_coeff must be > 0, got {self.steering_coeff}")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        if self.layer < -1:
            raise ValueError(f"layer must be >= 0 (or -1 for the middle block), got {self.layer}")
        super().__post_init__()


def transformer_blocks(model: torch.nn.Module) -> tuple[str, torch.nn.ModuleList]:
    """The (name, ModuleList) holding the model's num_hidden_layers blocks."""
    n = model.config.num_hidden_layers
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, torch.nn.ModuleList) and len(m) == n]
    if not found:
        raise ValueError(f"cannot find the {n} transformer blocks of {type(model).__name__}")
    return found[0]


def block_output(model: torch.nn.Module, layer: int, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The output of transformer block `layer`, read with a forward hook on that block.

    Why not ``output_hidden_states``: in transformers 5 its last entry is the final layer norm
    applied to the last block's output, not the block's output (the WMDP RMU code and
    OpenUnlearning also hook the block).
    """
    captured: list[torch.Tensor] = []

    def keep(module: torch.nn.Module, args: Any, output: Any) -> None:
        captured.append(output[0] if isinstance(output, tuple) else output)

    handle = transformer_blocks(model)[1][layer].register_forward_hook(keep)
    try:
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    finally:
        handle.remove()
    return captured[-1]


class RMUTrainer(UnlearnTrainer):
    """RMU: misdirect layer-l activations on forget data, pin them to the frozen model's on retain data."""

    needs_reference = True
    _paper = {"title": "The WMDP Benchmark (RMU)", "id": "arXiv:2403.03218", "citation": RMU_BIBTEX}

    def __init__(self, model, args: RMUConfig, *a, **kw) -> None:
        n_layers = model.config.num_hidden_layers
        self.layer = n_layers // 2 if args.layer == -1 else args.layer
        if self.layer >= n_layers:
            raise ValueError(f"layer {self.layer} does not exist: the model has {n_layers} blocks")
        update = (
            [int(x) for x in args.update_layers.split(",") if x.strip()]
            if args.update_layers
            else [i for i in (self.layer - 2, self.layer - 1, self.layer) if i >= 0]
        )
        if any(not 0 <= i < n_layers for i in update):
            raise ValueError(f"update_layers {update} out of range 0..{n_layers - 1}")
        self.update_layers = update
        super().__init__(model, args, *a, **kw)  # copies the frozen reference before we freeze anything
        prefix, _ = transformer_blocks(model)
        keep = tuple(f"{prefix}.{i}." for i in update)
        for name, p in model.named_parameters():
            if p.requires_grad and not name.startswith(keep):
                p.requires_grad_(False)
        # u: a fixed random unit vector (uniform, then normalised, as in the paper), seeded by args.seed.
        g = torch.Generator().manual_seed(args.seed)
        u = torch.rand(model.config.hidden_size, generator=g)
        self.steering = (args.steering_coeff * u / u.norm()).to(self.args.device)

    def hidden(self, model, batch) -> torch.Tensor:
        """Output of block `self.layer` on `batch`: [B, T, d] float."""
        return block_output(self.accelerator.unwrap_model(model), self.layer, batch).float()

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        f = inputs["forget"]
        forget_h = self.hidden(model, f)
        r = inputs.get("retain") if self.args.alpha > 0 else None
        retain_h = retain_frozen = retain_mask = None
        if r is not None:
            retain_h = self.hidden(model, r)
            with self.reference() as ref:
                retain_frozen = self.hidden(ref, r)
            retain_mask = r["attention_mask"].bool()
        loss, forget, retain = rmu_loss(
            forget_h, answer_positions(f["labels"]), self.steering, retain_h, retain_frozen, retain_mask, self.args.alpha
        )
        self.loss_terms.record(loss=loss, forget_loss=forget, retain_loss=retain)
        return (loss, None) if return_outputs else loss
