"""In-run per-item records: the suite's one evaluation of the model being trained, as files.

At every N-th step (and the last) ``OUT/inrun/step-XXXXX.parquet`` (global step, 5 digits) holds
`freq_unlearn.tasks.evaluation.evaluate` of the model in memory on the forget and retain splits,
with the QA probe and, where the benchmark has ``bio_prefix``, the BIO probe. The demo reads these
curves to compare strata at equal utility; the aggregate in-run metrics (``evaluation.py``) stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

INRUN_FOLDER = "inrun"


def inrun_path(out: str | Path, step: int) -> Path:
    return Path(out) / INRUN_FOLDER / f"step-{step:05d}.parquet"


def inrun_probes(forget_split: Any) -> tuple[str, ...]:
    """("qa", "bio") when the split has biography prefixes, else ("qa",)."""
    return ("qa", "bio") if "bio_prefix" in forget_split.column_names else ("qa",)


class InrunWriter:
    """`writer(step)` evaluates `trainer`'s model (unwrapped, eval mode, then back to train mode),
    writes the records of that step and returns them."""

    def __init__(self, trainer: Any, benchmark: str, splits: Sequence[str], probes: Sequence[str], out: str | Path) -> None:
        self.trainer = trainer
        self.benchmark = str(benchmark)
        self.splits = tuple(splits)
        self.probes = tuple(probes)
        self.out = Path(out)

    def __call__(self, step: int) -> Any:
        from freq_unlearn.tasks.evaluation import evaluate, write_records

        model = self.trainer.accelerator.unwrap_model(self.trainer.model)
        if hasattr(model, "get_base_model"):  # PEFT: the transformers model, adapters active
            model = model.get_base_model()
        was_training = model.training
        model.eval()
        try:
            records = evaluate(model, self.benchmark, splits=self.splits, probes=self.probes,
                               tokenizer=self.trainer.processing_class)  # fmt: skip
        finally:
            model.train(was_training)
        path = inrun_path(self.out, step)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_records(records, path)
        return records


__all__ = ["INRUN_FOLDER", "InrunWriter", "inrun_path", "inrun_probes"]
