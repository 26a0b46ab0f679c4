"""Pre-train a small causal LM from scratch on a world's corpus, with the Transformers Trainer.

Read top to bottom: presets, data, model, training, report. By default each document is one
training sequence ending in EOS, so that a QA prompt at position 0 at evaluation time looks like
the start of a document, as it did in training. With `packing`, whole documents are packed into
fixed-length blocks with the boundaries kept: positions restart at 0 in every document and no
token attends across a document boundary (Transformers turns restarting `position_ids`, passed
without an attention mask, into a block-diagonal causal mask), so every document is still seen
exactly as a sequence of its own; the batch is sized in blocks so that a step holds about as
many tokens as `batch_size` single documents, keeping the optimisation recipe.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from freq_unlearn import __version__
from freq_unlearn.core.errors import UserError
from freq_unlearn.core.fsutil import atomic_write_text, check_output_dir
from freq_unlearn.world import World, load_world

ARCHITECTURES = ("gpt2", "llama")


@dataclass(frozen=True)
class ModelPreset:
    n_layer: int
    n_embd: int
    n_head: int
    epochs: int
    learning_rate: float
    batch_size: int = 32


# Sizes span >10x in parameters for the model-size sweep. The CPU sizes share one recipe (60 epochs
# of batch 16), so a sweep varies the model only; learning rates shrink with width, as usual.
# `tiny` is the default: the one that fits world + pre-training in about 3 minutes on 2 cores.
PRESETS: dict[str, ModelPreset] = {
    "tiny": ModelPreset(n_layer=2, n_embd=64, n_head=2, epochs=60, learning_rate=3e-3, batch_size=16),
    "mini": ModelPreset(n_layer=3, n_embd=96, n_head=3, epochs=60, learning_rate=2.5e-3, batch_size=16),
    "small": ModelPreset(n_layer=4, n_embd=128, n_head=4, epochs=60, learning_rate=2e-3, batch_size=16),
    "base": ModelPreset(n_layer=6, n_embd=256, n_head=8, epochs=30, learning_rate=1e-3),
    # The paper's GPT-2 sizes (about 20M to 210M parameters) are for GPUs; see README.
    "paper-s": ModelPreset(n_layer=8, n_embd=512, n_head=8, epochs=30, learning_rate=6e-4),
    "paper-l": ModelPreset(n_layer=24, n_embd=1024, n_head=16, epochs=30, learning_rate=3e-4),
}
DEFAULT_PRESET = "tiny"


@dataclass
class PretrainConfig:
    size: str = field(default=DEFAULT_PRESET, metadata={"help": f"one of {list(PRESETS)}"})
    arch: str = field(default="gpt2", metadata={"help": f"one of {ARCHITECTURES}"})
    epochs: int | None = field(default=None, metadata={"help": "override the preset's epochs"})
    learning_rate: float | None = None
    batch_size: int | None = None
    vocab_size: int = 4096
    max_length: int = 256
    weight_decay: float = 0.1
    warmup_ratio: float = 0.05
    packing: bool = field(
        default=False,
        metadata={"help": "pack whole documents into blocks of max_length tokens (no attention across "
                  "documents; batch sized in blocks to hold about batch_size documents' tokens)"},
    )
    seed: int = 0

    def __post_init__(self) -> None:
        if self.size not in PRESETS:
            raise UserError(f"size preset {self.size!r} is unknown; choose one of {', '.join(PRESETS)}")
        if self.arch not in ARCHITECTURES:
            raise UserError(f"arch {self.arch!r} is unknown; choose one of {', '.join(ARCHITECTURES)}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise UserError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise UserError(f"learning_rate must be > 0, got {self.learning_rate}")

    @property
    def preset(self) -> ModelPreset:
        p = PRESETS[self.size]
        return replace(
            p,
            epochs=self.epochs or p.epochs,
            learning_rate=self.learning_rate or p.learning_rate,
            batch_size=self.batch_size or p.batch_size,
        )


def build_model(config: PretrainConfig, tokenizer):
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    p = config.preset
    common = dict(
        vocab_size=len(tokenizer),
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if config.arch == "gpt2":
        cfg = GPT2Config(n_layer=p.n_layer, n_embd=p.n_embd, n_head=p.n_head,
                         n_positions=config.max_length, **common)
        return GPT2LMHeadModel(cfg)
    cfg = LlamaConfig(num_hidden_layers=p.n_layer, hidden_size=p.n_embd,
                      num_attention_heads=p.n_head, num_key_value_heads=p.n_head,
                      intermediate_size=4 * p.n_embd, max_position_embeddings=config.max_length,
                      tie_word_embeddings=True, **common)
    return LlamaForCausalLM(cfg)


def tokenize_corpus(world: World, tokenizer, max_length: int):
    from datasets import Dataset

    texts = [d["text"] for d in world.documents()]
    ids = tokenizer(texts, add_special_tokens=False).input_ids
    rows = [x[: max_length - 1] + [tokenizer.eos_token_id] for x in ids]
    return Dataset.from_dict({"input_ids": rows})


OPEN_BLOCKS = 64  # blocks still open to later documents while packing: first fit stays O(documents)


def _first_fit(docs: list[list[int]], block: int) -> list[list[list[int]]]:
    """Whole documents into blocks of <= `block` tokens, each into the first open block with room."""
    blocks: list[list[list[int]]] = []
    room: list[int] = []
    open_ids: list[int] = []
    for doc in docs:
        fit = next((i for i in open_ids if len(doc) <= room[i]), None)
        if fit is None:
            blocks.append([])
            room.append(block)
            open_ids.append(fit := len(blocks) - 1)
            if len(open_ids) > OPEN_BLOCKS:
                open_ids.pop(0)
        blocks[fit].append(doc)
        room[fit] -= len(doc)
    return blocks


def pack_documents(docs: list[list[int]], block: int, pad_id: int) -> dict[str, list[list[int]]]:
    """Pack tokenized documents (each <= `block` tokens) into rows of exactly `block` tokens.

    Per row: `input_ids` padded at the end; `position_ids` restarting at 0 in every document (and in
    the padding), which marks the document boundaries; `labels` with -100 on the padding and on each
    document's first token, which one document per sequence never predicts either.
    """
    out: dict[str, list[list[int]]] = {"input_ids": [], "position_ids": [], "labels": []}
    for members in _first_fit(docs, block):
        ids: list[int] = []
        pos: list[int] = []
        labels: list[int] = []
        for doc in members:
            ids += doc
            pos += range(len(doc))
            labels += [-100] + doc[1:]
        pad = block - len(ids)
        out["input_ids"].append(ids + [pad_id] * pad)
        out["position_ids"].append(pos + list(range(pad)))
        out["labels"].append(labels + [-100] * pad)
    return out


def packed_collator(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack packed rows, without an attention mask and with `use_cache=False`: the model derives
    the block-diagonal mask from the restarting position_ids only when it has neither. With a
    cache, which a model whose config says use_cache creates even in training, attention would
    silently cross documents; the Trainer turns use_cache off, a plain loop may not."""
    from transformers import default_data_collator

    batch = default_data_collator(rows)
    batch["use_cache"] = False
    return batch


@dataclass(frozen=True)
class TrainingData:
    dataset: Any  # datasets.Dataset
    collator: Any
    batch_size: int  # rows per step
    sampling: str  # Trainer's train_sampling_strategy
    packing: dict[str, Any] | None  # block statistics for the record


def training_data(config: PretrainConfig, documents, tokenizer) -> TrainingData:
    """One document per row (padded per batch), or packed blocks (see the module docstring)."""
    from datasets import Dataset
    from transformers import DataCollatorForLanguageModeling

    p = config.preset
    if not config.packing:
        # Batches of similar length: little padding.
        return TrainingData(documents, DataCollatorForLanguageModeling(tokenizer, mlm=False), p.batch_size,
                            "group_by_length", None)
    docs = documents["input_ids"]
    packed = pack_documents(docs, config.max_length, tokenizer.pad_token_id)
    tokens = sum(len(d) for d in docs)
    n_blocks = len(packed["input_ids"])
    # Blocks per step such that a step holds about as many tokens as batch_size documents do.
    blocks_per_step = max(1, round(p.batch_size * tokens / len(docs) / config.max_length))
    stats = {"block_length": config.max_length, "blocks": n_blocks, "blocks_per_step": blocks_per_step,
             "fill": round(tokens / (n_blocks * config.max_length), 4)}
    return TrainingData(Dataset.from_dict(packed), packed_collator, blocks_per_step, "random", stats)


def training_arguments(config: PretrainConfig, output_dir: Path, n_examples: int, progress: bool = True,
                       batch_size: int | None = None, sampling: str = "group_by_length"):
    from transformers import TrainingArguments

    p = config.preset
    batch_size = batch_size or p.batch_size
    steps_per_epoch = -(-n_examples // batch_size)
    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=p.epochs,
        per_device_train_batch_size=batch_size,
        learning_rate=p.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=int(config.warmup_ratio * steps_per_epoch * p.epochs),
        lr_scheduler_type="cosine",
        train_sampling_strategy=sampling,
        logging_steps=max(1, steps_per_epoch),
        save_strategy="steps",
        save_steps=max(1, steps_per_epoch * max(1, p.epochs // 8)),
        save_total_limit=1,
        report_to=[],
        use_cpu=not _has_cuda(),
        bf16=False,
        seed=config.seed,
        data_seed=config.seed,
        dataloader_num_workers=0,
        disable_tqdm=not progress,
    )


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _partial_dir(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def _prepare_work_dir(world: World, out: Path, config: PretrainConfig, overwrite: bool, resume: bool) -> Path:
    """Make (or, with `resume`, check) OUT.partial/, which records the world and config it serves."""
    check_output_dir(out, overwrite)
    work = _partial_dir(out)
    if work.exists() and not resume:
        if not overwrite:
            raise UserError(f"{work} holds an interrupted run: pass --resume to continue it or --overwrite to start over")
        shutil.rmtree(work)
    if resume and not work.exists():
        raise UserError(f"nothing to resume: {work} does not exist")
    work.mkdir(parents=True, exist_ok=True)
    run_file = work / "pretrain_config.json"
    if resume:
        saved = json.loads(run_file.read_text())
        if saved["world_hash"] != world.content_hash or saved["config"] != asdict(config):
            raise UserError(f"--resume: {work} was started with another world or config ({run_file})")
    else:
        atomic_write_text(run_file, json.dumps(
            {"world_hash": world.content_hash, "config": asdict(config)}, indent=2))
    return work


def _load_or_train_tokenizer(world: World, work: Path, config: PretrainConfig, resume: bool):
    from transformers import AutoTokenizer

    if resume and (work / "tokenizer.json").exists():
        return AutoTokenizer.from_pretrained(str(work))
    from freq_unlearn.tokenizer import train_tokenizer

    tokenizer = train_tokenizer((d["text"] for d in world.documents()), config.vocab_size)
    tokenizer.save_pretrained(str(work))
    return tokenizer


@contextmanager
def _library_progress_bars(enabled: bool) -> Iterator[None]:
    """Turn off Transformers' own bars (e.g. save_pretrained's "Writing model shards") for a block,
    restoring the previous state after it; the setting is process-wide in Transformers."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    if was_enabled and not enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled and not enabled:
            hf_logging.enable_progress_bar()


def pretrain(world_dir: Path | str, out: Path | str, config: PretrainConfig | None = None,
             overwrite: bool = False, resume: bool = False, report: bool = True,
             callbacks: list | None = None, progress: bool = True) -> Path:
    """Train tokenizer and model on the world's corpus; write an ordinary HF model folder.

    Work happens in `OUT.partial/` (checkpoints there allow `resume`); the finished model is
    renamed to `OUT` only when complete, so `OUT` is never half-written. `progress=False`
    prints neither the Trainer's progress bars nor its loss dicts (warnings still show): for
    callers such as the demo that report progress their own way.
    """
    with _library_progress_bars(progress):
        return _pretrain(world_dir, out, config or PretrainConfig(), overwrite, resume, report, callbacks, progress)


def _pretrain(world_dir: Path | str, out: Path | str, config: PretrainConfig, overwrite: bool, resume: bool,
              report: bool, callbacks: list | None, progress: bool) -> Path:
    import torch
    from transformers import PrinterCallback, Trainer

    world = load_world(world_dir)
    out = Path(out)
    work = _prepare_work_dir(world, out, config, overwrite, resume)
    torch.manual_seed(config.seed)
    tokenizer = _load_or_train_tokenizer(world, work, config, resume)
    data = tokenize_corpus(world, tokenizer, config.max_length)
    train = training_data(config, data, tokenizer)
    model = build_model(config, tokenizer)
    trainer = Trainer(
        model=model,
        args=training_arguments(config, work / "checkpoints", len(train.dataset), progress, train.batch_size,
                                train.sampling),
        train_dataset=train.dataset,
        data_collator=train.collator,
        processing_class=tokenizer,
        callbacks=callbacks,
    )
    if not progress:  # with tqdm disabled, the Trainer prints every log dict instead
        trainer.remove_callback(PrinterCallback)
    has_checkpoint = resume and any((work / "checkpoints").glob("checkpoint-*"))
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=True if has_checkpoint else None)
    train_seconds = time.perf_counter() - started

    model.save_pretrained(str(work), safe_serialization=True)
    tokenizer.save_pretrained(str(work))
    record = _record(world, config, model, data, trainer, result, train_seconds, has_checkpoint)
    record["packing"] = train.packing
    atomic_write_text(work / "pretrain_record.json", json.dumps(record, indent=2))
    shutil.rmtree(work / "checkpoints", ignore_errors=True)
    if report:
        from freq_unlearn.knowledge_report import write_knowledge_report

        model.eval()
        write_knowledge_report(model, tokenizer, world, work / "knowledge")
    if out.exists():
        shutil.rmtree(out)
    os.replace(work, out)
    return out


def _record(world: World, config: PretrainConfig, model, data, trainer, result, train_seconds: float,
            resumed: bool) -> dict[str, Any]:
    import torch

    return {
        "format": "freq_unlearn.pretrain/1",
        "world": str(world.path),
        "world_hash": world.content_hash,
        "config": asdict(config),
        "preset": asdict(config.preset),
        "parameters": sum(p.numel() for p in model.parameters()),
        "documents": len(data),
        "tokens_per_epoch": int(sum(len(x) for x in data["input_ids"])),
        "train_seconds": round(train_seconds, 2),
        "resumed": bool(resumed),
        "final_train_loss": result.training_loss,
        "loss_curve": [{"epoch": h["epoch"], "loss": h["loss"]}
                       for h in trainer.state.log_history if "loss" in h],
        "device": str(next(model.parameters()).device),
        "torch_threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "library_version": __version__,
    }
