"""Relearning attack: fine-tune an unlearned checkpoint for a few steps; does the forgotten come back?

    from freq_unlearn.robustness import relearn
    summary = relearn("runs/ga-high", base="runs/base", benchmark="runs/bench", forget="high",
                      out="runs/relearn-ga-high", steps=(0, 5, 10, 20))

Two attacks start from the same unlearned checkpoint (``modes``):

* ``forget_half``: train on half of the forgotten people's facts (``relearn_data.split_people``)
  and measure recovery on the other half, which the attack never sees (and on the trained half, as a
  check that the attack works at all);
* ``benign``: train on text that holds none of the forgotten facts (the retain split), so any
  recovery comes from fine-tuning as such.

Training is a plain causal-LM loss on the texts (``transformers.Trainer``, AdamW, constant learning
rate, no warmup, no weight decay): a constant rate makes one run of ``max(steps)`` steps pass through
exactly the states of shorter runs, so the model is evaluated in memory at every step of the
schedule. The default rate, 1e-4 at batch 16, is the demo's unlearning rate and batch
(``freq_unlearn.demo.presets.UNLEARN``): the attack gets the step size the forgetting had.

Every evaluation goes through ``freq_unlearn.tasks.evaluation.evaluate`` (per-item records, both
views); the base model is the ceiling and the unlearned one the floor (``recovery``). DIR gets
``items.parquet`` (every evaluation's records), ``recovery.parquet`` (per item and measure) and
``summary.json`` (settings, the people of each half, recovery per half/probe/measure/step).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from freq_unlearn.core.benchmark_folder import BenchmarkError, load_splits
from freq_unlearn.core.errors import UserError
from freq_unlearn.core.fsutil import atomic_write_text, check_output_dir, prepare_output_dir
from freq_unlearn.core.schema import STRATA
from freq_unlearn.robustness.recovery import recovery_items, recovery_summary
from freq_unlearn.robustness.relearn_data import FORMS, benign_texts, person_of, relearn_texts, split_people
from freq_unlearn.tasks.evaluation import evaluate, write_records

MODES = ("forget_half", "benign")
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class RelearnConfig:
    """Settings of a relearning attack (defaults: the demo's unlearning step size, four checkpoints).

    steps: schedule of attack steps at which the model is evaluated; 0 (the unlearned model) is added.
    learning_rate / batch_size: AdamW at a constant rate, texts per step.
    form: "qa", "bio" or "both": the forms in which the relearned facts (and benign texts) are written.
    modes: which attacks to run ("forget_half", "benign").
    benign_split: the benchmark split whose texts the benign attack trains on.
    probes: evaluation probes; None = "qa", plus "bio" when the benchmark has biography prefixes.
    seed: the people split and the Trainer's data order.
    n_resamples: people-bootstrap resamples per interval.
    limit: evaluate only the first N items of the split (as a leaderboard registered with --limit);
        training still uses every fact of the relearned half.
    """

    steps: tuple[int, ...] = (0, 5, 10, 20)
    learning_rate: float = 1e-4
    batch_size: int = 16
    form: str = "both"
    modes: tuple[str, ...] = MODES
    benign_split: str = "retain"
    probes: tuple[str, ...] | None = None
    seed: int = 0
    n_resamples: int = 999
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise UserError(f"relearn limit must be >= 1, got {self.limit}")
        if not self.steps or any(int(s) < 0 for s in self.steps):
            raise UserError(f"relearn steps must be >= 0, got {list(self.steps)}")
        object.__setattr__(self, "steps", tuple(sorted({0, *map(int, self.steps)})))
        if self.learning_rate <= 0 or self.batch_size < 1 or self.n_resamples < 1:
            raise UserError("relearn learning_rate must be > 0, batch_size and n_resamples >= 1")
        if self.form not in FORMS:
            raise UserError(f"unknown relearning form {self.form!r}; choose from {', '.join(FORMS)}")
        unknown = [m for m in self.modes if m not in MODES]
        if unknown or not self.modes:
            raise UserError(f"unknown relearning mode {unknown[0] if unknown else ''!r}; choose from {', '.join(MODES)}")


def load_model(model: str | os.PathLike) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model))
        lm = AutoModelForCausalLM.from_pretrained(str(model))
    except OSError as err:
        raise UserError(f"cannot load model {str(model)!r}: {str(err).splitlines()[0]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return lm, tokenizer


def _evaluator(benchmark: str, split: str, probes: Sequence[str], limit: int | None) -> Callable[[Any, Any], Any]:
    def run(model: Any, tokenizer: Any) -> Any:
        was_training = model.training
        model.eval()  # dropout off while measuring; the Trainer switches it back on each step
        try:
            return evaluate(model, benchmark, [split], probes=probes, tokenizer=tokenizer, limit=limit)
        finally:
            model.train(was_training)

    return run


def _train(model: Any, tokenizer: Any, texts: list[str], config: RelearnConfig,
           at_step: Callable[[int], None], progress: bool = True) -> None:
    """max(steps) Trainer steps of causal-LM loss on `texts`; `at_step(k)` at every scheduled k > 0."""
    import torch
    from transformers import DataCollatorForLanguageModeling, PrinterCallback, Trainer, TrainerCallback, TrainingArguments

    schedule = set(config.steps) - {0}

    class EvaluateAt(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step in schedule:
                at_step(state.global_step)

    examples = [{"input_ids": tokenizer(t, add_special_tokens=False)["input_ids"]} for t in texts]
    with tempfile.TemporaryDirectory(prefix="freq-unlearn-relearn-") as scratch:
        args = TrainingArguments(
            output_dir=scratch, max_steps=max(schedule), learning_rate=config.learning_rate,
            lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
            per_device_train_batch_size=config.batch_size, save_strategy="no", report_to="none",
            logging_steps=max(1, max(schedule) // 4), seed=config.seed, use_cpu=not torch.cuda.is_available(),
            disable_tqdm=not progress,
        )  # fmt: skip
        trainer = Trainer(model=model, args=args, train_dataset=examples, processing_class=tokenizer,
                          data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False), callbacks=[EvaluateAt()])
        if not progress:
            trainer.remove_callback(PrinterCallback)  # with the bar off, the Trainer would print each loss dict
        trainer.train()


def _forget_rows(benchmark: str, forget: str, benign_split: str) -> tuple[str, list[dict], list[dict]]:
    split = forget if forget.startswith("forget_") else f"forget_{forget}"
    if split.removeprefix("forget_") not in STRATA:
        raise UserError(f"unknown forget stratum {forget!r}; choose from {', '.join(STRATA)}")
    splits = load_splits(str(benchmark))
    for name in (split, benign_split):
        if name not in splits:
            raise BenchmarkError(f"benchmark {benchmark}: no split {name!r} (it has {', '.join(sorted(splits))})")
    return split, splits[split].to_list(), splits[benign_split].to_list()


def _attacks(model: str | os.PathLike, texts: dict[str, list[str]], config: RelearnConfig,
             measure: Callable[[Any, Any], Any], floor: Any, progress: bool) -> list[Any]:
    """Each mode from a fresh copy of the unlearned model; records at step 0 (the floor) and every scheduled step."""
    attacked = []
    for mode in config.modes:
        attacked.append(floor.assign(mode=mode, step=0))
        lm, tokenizer = load_model(model)

        def record(step: int, mode: str = mode, lm: Any = lm, tokenizer: Any = tokenizer) -> None:
            _say(progress, f"freq-unlearn relearn: {mode} step {step}: evaluating")
            attacked.append(measure(lm, tokenizer).assign(mode=mode, step=step))

        _say(progress, f"freq-unlearn relearn: {mode}: {len(texts[mode])} texts, {max(config.steps)} steps")
        _train(lm, tokenizer, texts[mode], config, record, progress)
    return attacked


def relearn(model: str | os.PathLike, base: str | os.PathLike, benchmark: str | os.PathLike, forget: str,
            out: str | os.PathLike, config: RelearnConfig | None = None, overwrite: bool = False,
            ceiling: Any = None, floor: Any = None, progress: bool = True) -> dict[str, Any]:
    """Run the relearning attacks on `model` (unlearned from `base`) for stratum `forget`; write DIR `out`.

    ``ceiling`` / ``floor``: per-item records (``evaluate`` frames) of `base` / `model` that the caller
    already has (the demo's base and after-unlearning evaluations); the rows of the forget split and
    the probes are used, and must cover every item, else the model is evaluated here.
    ``progress=False``: no progress lines, Trainer bar or loss dicts (the demo's one line per stage).
    Returns the summary that is also written to ``out/summary.json``.
    """
    import pandas as pd

    config = config or RelearnConfig()
    check_output_dir(Path(out), overwrite)  # refuse before the work, not after it
    benchmark = str(benchmark)
    split, forget_rows, benign_rows = _forget_rows(benchmark, forget, config.benign_split)
    halves = split_people([person_of(r) for r in forget_rows], config.seed)
    has_bio = any(r.get("bio_prefix") for r in forget_rows)
    probes = config.probes or (("qa", "bio") if has_bio else ("qa",))
    measure = _evaluator(benchmark, split, probes, config.limit)
    evaluated = forget_rows[:config.limit] if config.limit else forget_rows
    texts = {"forget_half": relearn_texts(forget_rows, halves, config.form)}
    texts["benign"], dropped = benign_texts(benign_rows, forget_rows, config.form)
    for mode in config.modes:
        if not texts[mode]:
            raise UserError(f"relearn mode {mode!r}: no training text (benchmark {benchmark}, split {split})")

    ceiling = _given(ceiling, split, probes, evaluated)
    if ceiling is None:
        _say(progress, f"freq-unlearn relearn: evaluating the base model {base} (ceiling)")
        ceiling = measure(*load_model(base))
    floor = _given(floor, split, probes, evaluated)
    if floor is None:
        _say(progress, f"freq-unlearn relearn: evaluating the unlearned model {model} (floor, step 0)")
        floor = measure(*load_model(model))
    attacked = _attacks(model, texts, config, measure, floor, progress)
    attacked_frame = pd.concat(attacked, ignore_index=True)
    items = recovery_items(ceiling, attacked_frame, halves).assign(model=str(model))
    summary = {
        "model": str(model), "base": str(base), "benchmark": benchmark, "forget_split": split,
        "stratum": split.removeprefix("forget_"), "settings": _plain(asdict(config)) | {"probes": list(probes)},
        "training": {"lr_scheduler": "constant", "loss": "causal LM over the whole text", "optimizer": "AdamW",
                     "texts": {m: len(texts[m]) for m in config.modes}, "benign_split": config.benign_split,
                     "benign_texts_dropped_for_naming_a_forget_person": dropped},
        "halves": {h: sorted(p for p, v in halves.items() if v == h) for h in sorted(set(halves.values()))},
        "recovery": recovery_summary(items, n_resamples=config.n_resamples, seed=config.seed),
    }
    records = pd.concat([ceiling.assign(mode="", step=-1, role="base"), attacked_frame.assign(role="attacked")],
                        ignore_index=True)
    _write(Path(out), overwrite, records.assign(half=records["person_id"].astype(str).map(halves).fillna("")), items, summary)
    return summary


def _say(progress: bool, line: str) -> None:
    if progress:
        print(line, flush=True)


def _given(records: Any, split: str, probes: Sequence[str], forget_rows: list[dict]) -> Any:
    """The rows of `records` for `split` and `probes`, if every probe is there and its items are the
    split's (the QA probe all of them; the BIO probe may leave out facts without a biography prefix)."""
    if records is None:
        return None
    rows = records[(records["split"] == split) & records["probe"].isin(list(probes))]
    wanted = {str(r["fact_id"]) for r in forget_rows}
    for probe in probes:
        have = set(rows.loc[rows["probe"] == probe, "fact_id"].astype(str))
        if not have or not have <= wanted or (probe == "qa" and have != wanted):
            return None
    return rows.reset_index(drop=True)


def _plain(settings: dict[str, Any]) -> dict[str, Any]:
    """Tuples as lists: the returned summary equals the JSON written."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


def _write(out: Path, overwrite: bool, records: Any, items: Any, summary: dict[str, Any]) -> None:
    """All three files or none: the folder appears only once everything is written."""
    with prepare_output_dir(out, overwrite) as tmp:
        write_records(records, tmp / "items.parquet")
        write_records(items, tmp / "recovery.parquet")
        atomic_write_text(tmp / SUMMARY_FILE, json.dumps(summary, indent=2, allow_nan=False) + "\n")
