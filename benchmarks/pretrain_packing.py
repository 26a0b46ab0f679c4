"""Packed pre-training throughput, side by side in one run (issue 15).

Three loops train the same freshly initialised model (same seed) for the same number of epochs
of the same world, with AdamW and the same cosine schedule:

  plain   a plain PyTorch loop over the packed blocks (sequential order, `packed_collator`)
  packed  the Transformers Trainer over the same packed blocks, in the same order
  single  the Trainer as `pretrain` runs by default: one document per sequence, batches of
          similar length (group_by_length), padded per batch

Throughput is real (non-padding) tokens per second: every loop covers the corpus the same number
of times, so each processes the same tokens. Goals: packed / plain >= 0.87; the speed-up
packed / single is reported. The loops alternate (plain, packed, single, plain, ...) so that a
busy machine slows all alike; ratios use the medians. State in any report whether the machine
was shared.

    python benchmarks/pretrain_packing.py [--size tiny] [--epochs 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, SequentialSampler
from transformers import PrinterCallback, Trainer, TrainingArguments, get_cosine_schedule_with_warmup

from freq_unlearn.pretrain import PretrainConfig, build_model, tokenize_corpus, training_data
from freq_unlearn.tokenizer import train_tokenizer
from freq_unlearn.world import WorldConfig, generate_world, load_world

# The demo's world (freq_unlearn/demo/presets.py DEMO_WORLD).
WORLD = dict(design="tiered", people_per_tier=16, n_retain=32, n_utility=16, n_cities=20)


def _optimizer(model, lr: float, steps: int, warmup: int):
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr)
    return opt, get_cosine_schedule_with_warmup(opt, warmup, steps)


def plain_loop(config: PretrainConfig, tokenizer, train, epochs: int) -> float:
    torch.manual_seed(0)
    model = build_model(config, tokenizer).train()
    loader = DataLoader(train.dataset, batch_size=train.batch_size, sampler=SequentialSampler(train.dataset),
                        collate_fn=train.collator)
    steps = epochs * len(loader)
    opt, sched = _optimizer(model, config.preset.learning_rate, steps, int(config.warmup_ratio * steps))
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def trainer_loop(config: PretrainConfig, tokenizer, train, epochs: int, sampling: str, tmp: Path) -> float:
    torch.manual_seed(0)
    model = build_model(config, tokenizer)
    steps = epochs * -(-len(train.dataset) // train.batch_size)
    args = TrainingArguments(
        output_dir=str(tmp), num_train_epochs=epochs, per_device_train_batch_size=train.batch_size,
        learning_rate=config.preset.learning_rate, weight_decay=config.weight_decay,
        warmup_steps=int(config.warmup_ratio * steps), lr_scheduler_type="cosine",
        train_sampling_strategy=sampling, logging_steps=max(1, steps // epochs), save_strategy="no",
        report_to=[], use_cpu=not torch.cuda.is_available(), bf16=False, seed=0, data_seed=0,
        disable_tqdm=True, dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=train.dataset, data_collator=train.collator,
                      processing_class=tokenizer)
    trainer.remove_callback(PrinterCallback)  # as pretrain(progress=False): no log dicts printed
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        world = load_world(generate_world(tmp / "world", WorldConfig(**WORLD)))
        tokenizer = train_tokenizer(d["text"] for d in world.documents())
        documents = tokenize_corpus(world, tokenizer, 256)
        tokens = args.epochs * sum(len(x) for x in documents["input_ids"])
        single = training_data(PretrainConfig(size=args.size), documents, tokenizer)
        config = PretrainConfig(size=args.size, packing=True)
        packed = training_data(config, documents, tokenizer)
        times: dict[str, list[float]] = {"plain": [], "packed": [], "single": []}
        for r in range(args.repeats):
            times["plain"].append(plain_loop(config, tokenizer, packed, args.epochs))
            times["packed"].append(trainer_loop(config, tokenizer, packed, args.epochs, "sequential", tmp / f"p{r}"))
            times["single"].append(trainer_loop(config, tokenizer, single, args.epochs, single.sampling, tmp / f"s{r}"))
        med = {k: statistics.median(v) for k, v in times.items()}
        p = packed.packing
        print(f"model {args.size}, {len(documents)} documents, {args.epochs} epochs = {tokens:,} tokens per loop; "
              f"torch threads {torch.get_num_threads()}")
        print(f"packing: {p['blocks']} blocks of {p['block_length']} tokens, fill {p['fill']:.1%}, "
              f"{p['blocks_per_step']} blocks per step; single: batch {single.batch_size} documents")
        for name, label in (("plain", "plain loop, packed"), ("packed", "Trainer, packed"),
                            ("single", "Trainer, one document per sequence")):
            runs = ", ".join(f"{t:.2f}" for t in times[name])
            print(f"{label:36s}: median {med[name]:6.2f} s ({runs})  {tokens / med[name]:9,.0f} tokens/s")
        print(f"Trainer packed / plain packed (tokens/s) = {med['plain'] / med['packed']:.3f}  (goal >= 0.87)")
        print(f"speed-up of packing over one document per sequence = {med['single'] / med['packed']:.3f}x")


if __name__ == "__main__":
    main()
