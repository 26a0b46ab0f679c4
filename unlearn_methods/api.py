"""`unlearn(...)`: benchmark split + base model -> unlearned checkpoint, model card, run record.

    from freq_unlearn.unlearn_methods import unlearn
    record = unlearn(model="path/or/hub-id", benchmark="bench/dir", forget="high", method="npo",
                     out="runs/npo-high", learning_rate=1e-5, max_steps=20)

Keyword overrides are fields of the method's config (any `TrainingArguments` field too).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .base import InrunRecords, UnlearnStopped
from .data import (
    QAEvalSet,
    UnlearnInputError,
    count_range,
    forget_columns,
    forget_split_name,
    load_benchmark_splits,
    require_columns,
)
from .inrun import InrunWriter
from .inrun import inrun_probes as inrun_probes_of
from .model_card import render_model_card
from .registry import get_method
from .run_record import (
    RUN_RECORD_FILE,
    STATUS_COMPLETED,
    STATUS_FAILED,
    STATUS_STOPPED,
    Evaluation,
    RunRecord,
    StepLog,
    json_safe,
    json_safe_number,
)


def build_config(method: str, out: str | os.PathLike, **overrides: Any) -> Any:
    """The method's config with CPU defaults; an unknown or bad field raises one line."""
    import torch

    config_class = get_method(method).config_class
    known = {f.name for f in dataclasses.fields(config_class) if f.init}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise UnlearnInputError(
            f"unknown setting {unknown[0]!r} for method {method!r} (see `freq-unlearn unlearn --method {method} --list-settings`)"
        )
    values: dict[str, Any] = {"output_dir": str(out)}
    if not torch.cuda.is_available():
        values["use_cpu"] = True
    values.update(overrides)
    try:
        return config_class(**values)
    except (ValueError, TypeError) as err:
        raise UnlearnInputError(f"method {method!r}: {str(err).splitlines()[0]}") from None


def load_model_and_tokenizer(model: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
        lm = AutoModelForCausalLM.from_pretrained(model)
    except OSError as err:
        raise UnlearnInputError(f"cannot load model {model!r}: {str(err).splitlines()[0]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return lm, tokenizer


def add_lora(model: Any, args: Any) -> Any:
    from peft import LoraConfig, get_peft_model

    targets: str | list[str] = args.lora_target_modules
    if targets != "all-linear":
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    config = LoraConfig(
        r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
        target_modules=targets, task_type="CAUSAL_LM",
    )  # fmt: skip
    return get_peft_model(model, config)


def unlearn(
    model: str,
    benchmark: str,
    forget: str,
    method: str,
    out: str | os.PathLike,
    retain: str | None = "retain",
    lora: bool = False,
    push_to_hub: str | None = None,
    resume: bool = False,
    progress: bool = True,
    inrun_records: bool = False,
    inrun_probes: Sequence[str] | None = None,
    inrun_stop: Callable[[Any], str | None] | None = None,
    **overrides: Any,
) -> RunRecord:
    """Unlearn split ``forget_<forget>`` of `benchmark` from `model` with `method`; write to `out`.

    `retain=None` drops the retain split. `push_to_hub` is a Hub repo id pushed with the Trainer's
    own push. `resume` continues from the last ``checkpoint-*`` in `out`. `progress=False` shows no
    Trainer progress bar and prints no loss dicts (warnings stay visible). `inrun_records=True`
    writes per-item records every `metrics_steps` steps and at the last step to
    ``out/inrun/step-XXXXX.parquet`` (see ``inrun.py``), with the probes `inrun_probes` (default:
    every probe the benchmark has); `inrun_stop(records)` may return a reason to end training after
    an in-run evaluation (the run is then "completed" at that step). Returns the run record that is also
    written to ``out/run_record.json``; its status is "completed", "stopped" or "failed"
    (`freq_unlearn.core.run_record`).
    """
    with _library_bars(progress):
        return _unlearn(model, benchmark, forget, method, Path(out), retain, lora, push_to_hub, resume, progress,
                        inrun_records, inrun_probes, inrun_stop, overrides)  # fmt: skip


@contextmanager
def _library_bars(on: bool) -> Iterator[None]:
    """With `on` False, transformers' and datasets' own bars (loading, saving) are off for the call."""
    if on:
        yield
        return
    from datasets import utils as ds_logging  # its progress-bar switches live here
    from transformers.utils import logging as tf_logging

    tf_was, ds_was = tf_logging.is_progress_bar_enabled(), not ds_logging.are_progress_bars_disabled()
    tf_logging.disable_progress_bar()
    ds_logging.disable_progress_bars()
    try:
        yield
    finally:
        if tf_was:
            tf_logging.enable_progress_bar()
        if ds_was:
            ds_logging.enable_progress_bars()


def _unlearn(model: str, benchmark: str, forget: str, method: str, out: Path, retain: str | None, lora: bool,
             push_to_hub: str | None, resume: bool, progress: bool, inrun_records: bool,
             probes: Sequence[str] | None, stop: Callable[[Any], str | None] | None,
             overrides: dict[str, Any]) -> RunRecord:  # fmt: skip
    spec = get_method(method)
    forget_split = forget_split_name(forget)
    splits = load_benchmark_splits(benchmark, [forget_split] + ([retain] if retain else []))
    forget_ds, retain_ds = splits[forget_split], splits.get(retain) if retain else None
    checkpoint = _existing_checkpoint(out, resume)
    if push_to_hub:
        overrides.update(push_to_hub=True, hub_model_id=push_to_hub)
    if not progress:
        overrides.setdefault("disable_tqdm", True)
    args = build_config(method, out, lora=lora, **overrides)
    require_columns(str(benchmark), forget_split, forget_ds, forget_columns(args.forget_format),
                    f" (needed by forget_format {args.forget_format!r})")  # fmt: skip
    require_columns(str(benchmark), forget_split, forget_ds, getattr(spec.trainer_class, "required_columns", ()),
                    f" (needed by method {method!r}: each fact's pre-training count)")  # fmt: skip
    if inrun_records and not args.metrics_steps:
        raise UnlearnInputError("inrun_records needs metrics_steps > 0 (records are written every metrics_steps steps)")
    available = inrun_probes_of(forget_ds)
    if probes is not None and (not probes or set(probes) - set(available)):
        raise UnlearnInputError(f"inrun_probes {list(probes)}: benchmark {benchmark} offers {', '.join(available)}")

    trainer = _make_trainer(spec, model, args, forget_ds, retain_ds)
    if not progress:
        trainer.quiet()
    inrun = None
    if inrun_records:
        eval_splits = [forget_split] + ([retain] if retain else [])
        writer = InrunWriter(trainer, str(benchmark), eval_splits, tuple(probes or available), out)
        inrun = InrunRecords(writer, args.metrics_steps, stop)
        trainer.add_callback(inrun)

    start = time.perf_counter()
    status, reason = _train(trainer, checkpoint if resume else None, inrun)
    wall = time.perf_counter() - start

    if args.lora:  # ship an ordinary checkpoint: adapters merged into the base weights
        trainer.model = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
    record = _record(trainer, args, model, benchmark, forget_split, forget_ds, retain, wall, status, reason, push_to_hub)
    trainer.model_card_text = render_model_card(record, spec.trainer_class._paper)
    if trainer.is_world_process_zero():
        out.mkdir(parents=True, exist_ok=True)
        record.save(out)
    if push_to_hub:  # the Trainer's own push: saves the model, writes our card, uploads the folder
        trainer.push_to_hub(commit_message=f"freq-unlearn {method} on {forget_split}")
    else:
        trainer.save_model(str(out))
        trainer.create_model_card()
    return record


def _existing_checkpoint(out: Path, resume: bool) -> str | None:
    """The checkpoint to resume from; refuses to mix a new run into a folder that holds one."""
    from transformers.trainer_utils import get_last_checkpoint

    checkpoint = get_last_checkpoint(str(out)) if out.is_dir() else None
    if resume and checkpoint is None:
        raise UnlearnInputError(f"--resume: no checkpoint-* folder in {out} to resume from")
    if not resume and out.is_dir() and (checkpoint is not None or (out / RUN_RECORD_FILE).exists()):
        raise UnlearnInputError(f"{out} already holds a run; pass --resume to continue it, or choose another --out")
    return checkpoint


def _make_trainer(spec: Any, model: str, args: Any, forget_ds: Any, retain_ds: Any) -> Any:
    lm, tokenizer = load_model_and_tokenizer(model)
    if args.lora:
        lm = add_lora(lm, args)
    qa_eval = QAEvalSet.from_splits(forget_ds, retain_ds, args.metrics_max_items) if args.metrics_max_items else None
    train_dataset = spec.trainer_class.build_train_dataset(tokenizer, forget_ds, retain_ds, args)
    return spec.trainer_class(model=lm, args=args, train_dataset=train_dataset, processing_class=tokenizer, qa_eval=qa_eval)


def _train(trainer: Any, checkpoint: str | None, inrun: InrunRecords | None) -> tuple[str, str | None]:
    """Train, then check the final weights: (status, reason).

    "stopped": the guard stopped the run, or its rule fails after the last update; "failed": the
    weights or the final in-run evaluation are non-finite (unusable).
    """
    status, reason = STATUS_COMPLETED, None
    try:
        trainer.train(resume_from_checkpoint=checkpoint)
    except UnlearnStopped as err:
        status, reason = STATUS_STOPPED, str(err)
    step = trainer.state.global_step
    metrics = trainer.evaluate() if trainer.qa_eval is not None else {}
    bad_weights = trainer.nonfinite_weights()
    bad_metric = next((k for k, v in metrics.items() if not math.isfinite(v)), None)
    if bad_weights or bad_metric:
        what = f"non-finite weights ({bad_weights})" if bad_weights else f"in-run evaluation {bad_metric} is {metrics[bad_metric]}"
        status, reason = STATUS_FAILED, f"{what} after step {step}" + (f"; {reason}" if reason else "")
    elif status == STATUS_COMPLETED and (problem := trainer.final_loss_problem()):
        status, reason = STATUS_STOPPED, f"{problem} after the last step ({step}); kept its weights"
    if inrun is not None and status != STATUS_FAILED and trainer.is_world_process_zero():
        inrun.record(step)  # the last step of a stopped run (a completed one is written already)
    if status != STATUS_COMPLETED:
        print(f"freq-unlearn unlearn: {status}: {reason}", flush=True)
    return status, reason


def _record(trainer: Any, args: Any, model: str, benchmark: str, forget_split: str, forget_ds: Any,
            retain: str | None, wall: float, status: str, reason: str | None, push_to_hub: str | None) -> RunRecord:
    from freq_unlearn import __version__

    world = trainer.args.world_size
    return RunRecord(
        method=args.method,
        base_model=str(model),
        benchmark=str(benchmark),
        forget_split=forget_split,
        retain_split=retain if retain and args.retain_weight > 0 else None,
        forget_count_range=count_range(forget_ds),
        hyperparameters=json_safe(_json_ready(args.method_hyperparameters())),
        seed=args.seed,
        lora=bool(args.lora),
        device=f"{trainer.args.device.type}" + (f" x{world} processes" if world > 1 else ""),
        wall_time_s=round(wall, 3),
        library_version=__version__,
        steps=_steps(trainer.state.log_history),
        evaluations=_evaluations(trainer.state.log_history),
        status=status,
        status_reason=reason,
        hub_id=push_to_hub,
    )


def _steps(history: list[dict[str, Any]]) -> list[StepLog]:
    steps = []
    for h in history:
        if "loss" in h and "step" in h:
            steps.append(StepLog(int(h["step"]), _opt(h["loss"]), _opt(h.get("forget_loss")), _opt(h.get("retain_loss"))))
    return steps


def _evaluations(history: list[dict[str, Any]]) -> list[Evaluation]:
    evals: dict[int, Evaluation] = {}
    for h in history:
        parts = {p: {k.split("/", 1)[1]: _opt(v) for k, v in h.items() if k.startswith(p + "/")} for p in ("forget", "retain")}
        if parts["forget"] or parts["retain"]:
            evals[int(h["step"])] = Evaluation(int(h["step"]), parts["forget"], parts["retain"])  # last one per step wins
    return [evals[s] for s in sorted(evals)]


def _opt(v: Any) -> float | None:
    """A logged number as the record stores it: non-finite -> None (JSON has no NaN)."""
    return None if v is None else json_safe_number(float(v))


def _json_ready(d: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, enum.Enum):
            return v.value
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, (str, int, float, bool)) or v is None:
            return v
        return str(v)

    return {k: conv(v) for k, v in d.items()}
