"""Pre-training throughput: the Trainer-based loop vs a plain PyTorch loop, side by side.

Both train the same freshly initialised model (same seed) on the same batches in the same order
(sequential sampler, same collator), with AdamW and the same linear schedule, for the same number
of steps. Goal: Trainer time <= 1.15x the plain loop's. The runs alternate (plain, Trainer,
plain, Trainer, ...) so that a busy machine slows both alike; the ratio uses the medians.

    python benchmarks/pretrain_trainer_overhead.py [--size small] [--steps 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, SequentialSampler
from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments, get_linear_schedule_with_warmup

from freq_unlearn.pretrain import PretrainConfig, build_model, tokenize_corpus
from freq_unlearn.tokenizer import train_tokenizer
from freq_unlearn.world import WorldConfig, generate_world, load_world


def plain_loop(config, tokenizer, data, steps: int, lr: float, batch_size: int) -> tuple[float, float]:
    torch.manual_seed(0)
    model = build_model(config, tokenizer).train()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    loader = DataLoader(data, batch_size=batch_size, sampler=SequentialSampler(data), collate_fn=collator)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    sched = get_linear_schedule_with_warmup(opt, 0, steps)
    start = time.perf_counter()
    step, loss = 0, torch.tensor(0.0)
    while step < steps:
        for batch in loader:
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            if step == steps:
                break
    return time.perf_counter() - start, float(loss)


def trainer_loop(config, tokenizer, data, steps: int, lr: float, batch_size: int, tmp: Path) -> tuple[float, float]:
    torch.manual_seed(0)
    model = build_model(config, tokenizer)
    args = TrainingArguments(
        output_dir=str(tmp), max_steps=steps, per_device_train_batch_size=batch_size, learning_rate=lr,
        weight_decay=0.1, lr_scheduler_type="linear", train_sampling_strategy="sequential",
        logging_steps=steps, save_strategy="no", report_to=[], use_cpu=True, seed=0,
        disable_tqdm=True, dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=data,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
    start = time.perf_counter()
    trainer.train()
    elapsed = time.perf_counter() - start
    last = [h["loss"] for h in trainer.state.log_history if "loss" in h][-1]
    return elapsed, float(last)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        world = load_world(generate_world(tmp / "world", WorldConfig(people_per_tier=40, n_retain=80, n_utility=40)))
        tokenizer = train_tokenizer(d["text"] for d in world.documents())
        data = tokenize_corpus(world, tokenizer, 256)
        config = PretrainConfig(size=args.size)
        lr = config.preset.learning_rate
        plain_t, trainer_t = [], []
        for r in range(args.repeats):
            t, plain_loss = plain_loop(config, tokenizer, data, args.steps, lr, args.batch_size)
            plain_t.append(t)
            t, trainer_loss = trainer_loop(config, tokenizer, data, args.steps, lr, args.batch_size, tmp / f"t{r}")
            trainer_t.append(t)
        p, t = statistics.median(plain_t), statistics.median(trainer_t)
        tokens = sum(len(x) for x in data["input_ids"][: args.steps * args.batch_size])
        print(f"model {args.size}, {args.steps} steps of batch {args.batch_size}, torch threads {torch.get_num_threads()}")
        print(f"plain loop   : median {p:.2f} s  ({plain_t})  last loss {plain_loss:.4f}")
        print(f"Trainer loop : median {t:.2f} s  ({trainer_t})  loss at last log {trainer_loss:.4f}")
        print(f"ratio Trainer / plain = {t / p:.3f}  (goal <= 1.15)")
        print(f"approx. throughput: plain {tokens / p:,.0f} tokens/s")


if __name__ == "__main__":
    main()
