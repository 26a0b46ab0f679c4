"""The shared part of every unlearning method: config, trainer base, guards.

A method is a small module (see ``ga.py``) with
  * a config dataclass subclassing `UnlearnConfig` (itself a `transformers.TrainingArguments`),
  * its loss as a pure tensor function,
  * a trainer subclassing `UnlearnTrainer` that overrides ``compute_loss``.

`UnlearnTrainer` is a plain `transformers.Trainer` fed paired batches
``{"forget": {input_ids, attention_mask, labels}, "retain": {...}}`` with labels masked to the
answer tokens. The parts shared with TRL-based trainers (IdkDPO) sit in `UnlearnMixin`:
per-term loss logging, the guard, forget/retain metrics as the Trainer's ``evaluate``, and the
model card.
"""

from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments

from freq_unlearn.core.fsutil import atomic_write_text

from .data import FORGET_FORMATS, PairedCollator, PairedQADataset, QAEvalSet
from .evaluation import qa_metrics
from .logprobs import mean_token_nll, sequence_logprobs


class UnlearnStopped(RuntimeError):
    """Raised by the guard before an optimizer step that would apply a bad loss."""


@dataclass
class UnlearnConfig(TrainingArguments):
    r"""
    Settings shared by every unlearning method, on top of `transformers.TrainingArguments`.

    Parameters:
        method (`str`): the method's registry name; each method's config fixes it.
        forget_weight (`float`, defaults to `1.0`): weight of the forget term.
        retain_weight (`float`, defaults to `1.0`): weight of the retain NLL term (0 disables it).
        mask_retain_question (`bool`, defaults to `False`): retain NLL on answer tokens only; the
            paper's recipe scores the whole retain sequence.
        max_length (`int`, defaults to `128`): longest tokenized question+answer.
        divergence_threshold (`float`, defaults to `1000.0`): the guard stops the run when
            |forget loss| exceeds it (a non-finite loss always stops it).
        metrics_steps (`int`, defaults to `0`): forget/retain metrics every this many steps
            (0: only before and after training).
        metrics_max_items (`int`, defaults to `64`): items per split for those metrics (0: none).
        metrics_max_new_tokens (`int`, defaults to `16`): greedy tokens for exact-contains.
        forget_format (`str`, defaults to `"qa"`): the forget data: "qa" (question -> answer),
            "bio" (the biography sentence: benchmark column ``bio_prefix`` -> answer) or "both".
            The loss is on the answer tokens in every format. Refusal methods (IDK, IdkDPO) take "qa" only.
        lora (`bool`, defaults to `False`): train LoRA adapters (PEFT), merged into the saved checkpoint.
        lora_r / lora_alpha / lora_dropout / lora_target_modules: the LoRA settings.
    CPU-friendly defaults differ from TrainingArguments: learning_rate 1e-5 (the paper's),
    per_device_train_batch_size 8, num_train_epochs 5, warmup 10% (the paper's), logging every
    step, no bf16, report_to none, NaN/inf not filtered from logs.
    """

    _VALID_DICT_FIELDS: ClassVar[list[str]] = list(getattr(TrainingArguments, "_VALID_DICT_FIELDS", []))
    # Methods that train toward a refusal: a refusal has no biography form, so QA forget data only.
    _refusal_target: ClassVar[bool] = False

    # Each method's config fixes this to its registry name (registry.py), with choices=[name].
    method: str = field(default="", metadata={"help": "Unlearning method (set by each method's config)."})
    forget_weight: float = field(default=1.0, metadata={"help": "Weight of the forget term."})
    retain_weight: float = field(default=1.0, metadata={"help": "Weight of the retain NLL term (0 disables it)."})
    mask_retain_question: bool = field(
        default=False, metadata={"help": "Retain NLL on answer tokens only (the paper scores the whole sequence)."}
    )
    max_length: int = field(default=128, metadata={"help": "Longest tokenized question+answer."})
    divergence_threshold: float = field(
        default=1000.0, metadata={"help": "Stop when |forget loss| exceeds this (non-finite always stops)."}
    )
    metrics_steps: int = field(
        default=0, metadata={"help": "Forget/retain metrics every N steps (0: before and after training only)."}
    )
    metrics_max_items: int = field(default=64, metadata={"help": "Items per split for in-run metrics (0: none)."})
    metrics_max_new_tokens: int = field(default=16, metadata={"help": "Greedy tokens generated for exact-contains."})
    forget_format: str = field(
        default="qa",
        metadata={"help": "Forget data: qa pairs, bio sentences (bio_prefix + answer), or both.", "choices": list(FORGET_FORMATS)},
    )
    lora: bool = field(default=False, metadata={"help": "Train LoRA adapters (merged into the saved checkpoint)."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.0, metadata={"help": "LoRA dropout."})
    lora_target_modules: str = field(
        default="all-linear", metadata={"help": "Comma-separated module names, or 'all-linear'."}
    )

    # TrainingArguments defaults changed for CPU-sized unlearning runs.
    learning_rate: float = field(default=1e-5, metadata={"help": "Initial AdamW learning rate."})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "Forget examples per device per step."})
    num_train_epochs: float = field(default=5.0, metadata={"help": "Passes over the forget split."})
    warmup_steps: float = field(default=0.1, metadata={"help": "Warm-up steps (a float < 1 is a ratio)."})
    logging_steps: float = field(default=1, metadata={"help": "Log losses every N steps."})
    save_steps: float = field(default=100, metadata={"help": "Checkpoint every N steps."})
    save_total_limit: int | None = field(default=2, metadata={"help": "Checkpoints kept in the output folder."})
    bf16: bool | None = field(default=False, metadata={"help": "bf16 mixed precision."})
    report_to: None | str | list[str] = field(default="none", metadata={"help": "Experiment trackers."})
    logging_nan_inf_filter: bool = field(default=False, metadata={"help": "Keep NaN/inf visible in logs."})
    remove_unused_columns: bool = field(default=False, metadata={"help": "Batches carry forget/retain parts."})
    hub_strategy: str = field(default="end", metadata={"help": "Push once, at the end."})

    def __post_init__(self) -> None:
        choices = type(self).__dataclass_fields__["method"].metadata.get("choices")
        if choices and self.method not in choices:
            raise ValueError(f"method must be one of {', '.join(choices)}; got {self.method!r}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate >= 0):
            raise ValueError(f"learning_rate must be a finite number >= 0, got {self.learning_rate}")
        if self.forget_format not in FORGET_FORMATS:
            raise ValueError(f"forget_format must be one of {', '.join(FORGET_FORMATS)}; got {self.forget_format!r}")
        if self._refusal_target and self.forget_format != "qa":
            raise ValueError(
                f"forget_format {self.forget_format!r} is not available: {self.method} trains toward a refusal, "
                "which has no biography form (use forget_format 'qa')"
            )
        if self.forget_weight < 0 or self.retain_weight < 0:
            raise ValueError("forget_weight and retain_weight must be >= 0")
        if self.max_length < 8:
            raise ValueError(f"max_length must be >= 8, got {self.max_length}")
        if not self.divergence_threshold > 0:
            raise ValueError(f"divergence_threshold must be > 0, got {self.divergence_threshold}")
        if self.metrics_steps < 0 or self.metrics_max_items < 0 or self.metrics_max_new_tokens < 1:
            raise ValueError("metrics_steps and metrics_max_items must be >= 0, metrics_max_new_tokens >= 1")
        if self.lora_r < 1 or not 0 <= self.lora_dropout < 1:
            raise ValueError("lora_r must be >= 1 and lora_dropout in [0, 1)")
        if self.metrics_max_items:
            self.eval_on_start = True  # the "before" metrics; our evaluate() needs no eval_dataset
        super().__post_init__()

    def method_hyperparameters(self) -> dict[str, Any]:
        """Fields this config adds to TrainingArguments, plus the common optimisation settings."""
        base = {f.name for f in TrainingArguments.__dataclass_fields__.values()}
        own = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in base and not k.startswith("_")}
        common = ("learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps",
                  "num_train_epochs", "max_steps", "warmup_steps", "lr_scheduler_type", "weight_decay",
                  "max_grad_norm", "optim")  # fmt: skip
        return {**{k: getattr(self, k) for k in common}, **own}


class LossTerms:
    """Latest and running forget/retain loss terms, shared by the trainer, its log and its guard."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self._sums: dict[str, float] = {}
        self._n = 0

    def record(self, **terms: torch.Tensor | float | None) -> None:
        values = {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in terms.items() if v is not None}
        self.last = values
        for k, v in values.items():
            self._sums[k] = self._sums.get(k, 0.0) + v
        self._n += 1

    def pop_means(self) -> dict[str, float]:
        means = {k: v / self._n for k, v in self._sums.items()} if self._n else {}
        self._sums, self._n = {}, 0
        return means


def loss_problem(terms: dict[str, float], threshold: float) -> str | None:
    """What is wrong with a step's loss terms: a non-finite loss, or |forget loss| past `threshold`."""
    for name in ("loss", "forget_loss"):
        value = terms.get(name)
        if value is None:
            continue
        if not math.isfinite(value):
            return f"{name} is {value}"
        if name == "forget_loss" and abs(value) > threshold:
            return f"forget loss {value:.4g} diverged past {threshold:g}"
    return None


class UnlearnGuard(TrainerCallback):
    """Stops a run before the optimizer applies a non-finite or diverging loss.

    Checked in ``on_pre_optimizer_step``: the bad step's update never happens, so the weights in
    memory are the last good ones and the caller saves them (checkpoints already written stay).
    With several processes the verdict is all-reduced, so every rank stops at the same step.
    """

    def __init__(self, terms: LossTerms, threshold: float) -> None:
        self.terms = terms
        self.threshold = threshold
        self._reason: str | None = None

    def check(self, step: int) -> None:
        problem = loss_problem(self.terms.last, self.threshold)
        if problem and not self._reason:
            self._reason = f"{problem} at step {step + 1}"

    def on_substep_end(self, args, state, control, **kwargs):  # micro-batches of gradient accumulation
        self.check(state.global_step)

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        self.check(state.global_step)
        bad = torch.tensor([1.0 if self._reason else 0.0])
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            bad = bad.to(args.device)
            torch.distributed.all_reduce(bad, op=torch.distributed.ReduceOp.MAX)
        if bad.item() > 0:
            reason = self._reason or f"another process hit a bad loss at step {state.global_step + 1}"
            raise UnlearnStopped(f"{reason}; kept the weights of step {state.global_step}")


class PeriodicMetrics(TrainerCallback):
    """Asks the Trainer for an evaluation (our forget/retain metrics) every `every` steps."""

    def __init__(self, every: int) -> None:
        self.every = every

    def on_step_end(self, args, state, control, **kwargs):
        if self.every and state.global_step % self.every == 0:
            control.should_evaluate = True


class InrunRecords(TrainerCallback):
    """Per-item records of the model being trained, every `every` steps and at the last step.

    `write(step)` does the evaluation and the file (see ``inrun.py``) and returns the records;
    `written` keeps the steps done, so that the caller can add the final step of a run the guard
    stopped. `stop(records)`, when given, returns a reason to end training after that evaluation
    (e.g. "retain accuracy fell by 10 points"), kept in `stop_reason`.
    """

    def __init__(self, write: Any, every: int, stop: Any = None) -> None:
        self.write = write
        self.every = every
        self.stop = stop
        self.stop_reason: str | None = None
        self.written: set[int] = set()

    def record(self, step: int) -> None:
        if step not in self.written:
            records = self.write(step)
            self.written.add(step)
            if self.stop is not None and self.stop_reason is None:
                self.stop_reason = self.stop(records)

    def on_step_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero and (state.global_step % self.every == 0 or state.global_step == state.max_steps):
            self.record(state.global_step)
            if self.stop_reason:
                control.should_training_stop = True


class UnlearnMixin:
    """Shared behaviour for unlearning trainers (plain Trainer or a TRL trainer)."""

    _tag_names: ClassVar[list[str]] = ["freq-unlearn", "unlearning"]
    _paper: ClassVar[dict[str, str] | None] = None

    def _setup_unlearning(self, qa_eval: QAEvalSet | None) -> None:
        self.loss_terms = LossTerms()
        self.qa_eval = qa_eval
        self.model_card_text: str | None = None  # filled by the caller, written by create_model_card
        self.add_callback(UnlearnGuard(self.loss_terms, self.args.divergence_threshold))
        if qa_eval is not None and self.args.metrics_steps and self.args.metrics_max_items:
            self.add_callback(PeriodicMetrics(self.args.metrics_steps))

    def quiet(self) -> None:
        """No progress bar and no loss dicts printed (the Trainer prints them with PrinterCallback
        when its bar is off); logging, warnings included, is untouched."""
        from transformers.trainer_callback import PrinterCallback, ProgressCallback

        self.args.disable_tqdm = True
        self.remove_callback(PrinterCallback)
        self.remove_callback(ProgressCallback)

    def nonfinite_weights(self) -> str | None:
        """The first parameter holding a NaN/inf, or None."""
        model = self.accelerator.unwrap_model(self.model)
        return next((n for n, p in model.named_parameters() if not torch.isfinite(p).all()), None)

    def final_loss_problem(self) -> str | None:
        """The guard's rule applied after the last update (the guard sees each step's loss before
        that step's update, so the last update is checked here, on one training batch)."""
        model = self.accelerator.unwrap_model(self.model)
        batch = self._prepare_inputs(next(iter(self.get_train_dataloader())))
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                self.compute_loss(self.model, batch)
        finally:
            model.train(was_training)
        return loss_problem(self.loss_terms.last, self.args.divergence_threshold)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:
            for name, value in self.loss_terms.pop_means().items():
                if name != "loss":
                    t = torch.tensor(value, device=self.args.device)
                    logs[name] = self.accelerator.gather(t).mean().item()
        super().log(logs, start_time)

    def evaluate(self, eval_dataset: Any = None, ignore_keys: Any = None, metric_key_prefix: str = "eval") -> dict[str, float]:
        """Forget/retain QA metrics, logged as ``forget/<metric>`` and ``retain/<metric>``."""
        qa = eval_dataset if isinstance(eval_dataset, QAEvalSet) else self.qa_eval
        if qa is None:
            return {}
        model = self.accelerator.unwrap_model(self.model)
        metrics: dict[str, float] = {}
        for part, rows in (("forget", qa.forget), ("retain", qa.retain)):
            scores = qa_metrics(model, self.processing_class, rows, self.args.metrics_max_new_tokens, max_length=self.args.max_length)
            metrics.update({f"{part}/{k}": v for k, v in scores.items()})
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics

    def create_model_card(self, *args: Any, **kwargs: Any) -> None:
        """Write our model card (set by the caller) instead of the Trainer's generic one."""
        if self.model_card_text is None or not self.is_world_process_zero():
            return
        atomic_write_text(Path(self.args.output_dir, "README.md"), self.model_card_text)


class UnlearnTrainer(UnlearnMixin, Trainer):
    """`transformers.Trainer` over paired forget/retain batches.

    Subclasses override ``compute_loss`` and call `forget_logprobs`, `retain_nll` and `combine`.
    Methods that need the frozen starting model set ``needs_reference = True`` and use
    `reference()`: a frozen copy, or the same model with its LoRA adapters disabled.
    """

    needs_reference: ClassVar[bool] = False
    forget_target: ClassVar[str] = "answer"  # IDK trains toward the refusal instead
    required_columns: ClassVar[tuple[str, ...]] = ()  # forget-split columns the method reads (count-aware: count)

    def __init__(
        self,
        model: Any,
        args: UnlearnConfig,
        train_dataset: Any,
        processing_class: Any,
        qa_eval: QAEvalSet | None = None,
        callbacks: list[TrainerCallback] | None = None,
        ref_model: Any = None,
        **kwargs: Any,
    ) -> None:
        if self.needs_reference and ref_model is None and not _is_peft(model):
            ref_model = copy.deepcopy(model)
        pad_id = processing_class.pad_token_id
        super().__init__(
            model=model,
            args=args,
            train_dataset=train_dataset,
            processing_class=processing_class,
            data_collator=PairedCollator(pad_id),
            callbacks=callbacks,
            **kwargs,
        )
        self.loss_is_scaled_for_ga = False  # per-batch means: the Trainer divides by accumulation steps
        self.ref_model = None
        if ref_model is not None:
            ref_model.requires_grad_(False)
            ref_model.eval()
            self.ref_model = self.accelerator.prepare_model(ref_model, evaluation_mode=True)
        self._setup_unlearning(qa_eval)

    @classmethod
    def build_train_dataset(cls, tokenizer: Any, forget: Any, retain: Any | None, args: UnlearnConfig) -> Any:
        """Paired forget/retain examples; the retain half is dropped when retain_weight is 0."""
        from freq_unlearn.core.schema import REFUSAL

        answers = [REFUSAL] * len(forget) if cls.forget_target == "refusal" else None
        use_retain = retain if args.retain_weight > 0 else None
        return PairedQADataset(
            tokenizer, forget, use_retain, args.max_length, args.seed, args.mask_retain_question, answers, args.forget_format
        )

    # ---- pieces for compute_loss -------------------------------------------------------------
    @staticmethod
    def forget_logprobs(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(sum log p of answer tokens [B], number of answer tokens [B]) under `model`."""
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        return sequence_logprobs(logits.float(), batch["labels"])

    def retain_nll(self, model: Any, inputs: dict[str, Any]) -> torch.Tensor | None:
        """Token-mean NLL on the paired retain batch, or None when the method has no retain term."""
        if self.args.retain_weight == 0 or "retain" not in inputs:
            return None
        return mean_token_nll(*self.forget_logprobs(model, inputs["retain"]))

    @contextmanager
    def reference(self):
        """Yields the frozen starting model (no grad)."""
        with torch.no_grad():
            if self.ref_model is not None:
                yield self.ref_model
            else:  # LoRA: the base model is the adapters-disabled model
                model = self.accelerator.unwrap_model(self.model)
                # Leaving disable_adapter() sets requires_grad=True on every adapter, which would
                # undo a method's freezing (RMU trains only some blocks' adapters): restore it.
                frozen = [p for p in model.parameters() if not p.requires_grad]
                try:
                    with model.disable_adapter():
                        yield model
                finally:
                    for p in frozen:
                        p.requires_grad_(False)

    def combine(self, forget_loss: torch.Tensor, retain_loss: torch.Tensor | None) -> torch.Tensor:
        """forget_weight * forget + retain_weight * retain, recorded for logs and the guard."""
        loss = self.args.forget_weight * forget_loss
        if retain_loss is not None:
            loss = loss + self.args.retain_weight * retain_loss
        self.loss_terms.record(loss=loss, forget_loss=forget_loss, retain_loss=retain_loss)
        return loss


def _is_peft(model: Any) -> bool:
    try:
        from peft import PeftModel
    except ImportError:  # peft is a dependency, but keep the core usable without it
        return False
    return isinstance(model, PeftModel)


__all__ = ["InrunRecords", "LossTerms", "UnlearnConfig", "UnlearnGuard", "UnlearnMixin", "UnlearnStopped", "UnlearnTrainer", "loss_problem"]
