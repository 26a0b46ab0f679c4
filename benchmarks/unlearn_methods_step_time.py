"""Step time of each unlearning method's Trainer vs a plain PyTorch loop, and peak memory.

For every method, two implementations train the same randomly initialised GPT-2 on the same
paired forget/retain batches (same collator, same seeded sampler) for `--warmup` + `--steps`
optimizer steps with fused AdamW, linear schedule and grad-norm clipping at 1.0:
  * trainer: the method's trainer from freq_unlearn.unlearn_methods (Trainer / TRL DPOTrainer),
    with its default per-step logging and the guard, no checkpoints, no in-run metrics;
  * plain:   a hand-written loop computing the same loss with the same pure loss functions.
Step time is the median time between consecutive step starts after the warm-up (data loading,
forward, backward, optimizer, logging included); plain and trainer runs alternate (ABBA)
`--repeats` times in one process. On a shared CPU machine use `--threads 1`: the clock is then
the process's CPU time, which other processes' load does not inflate (`--clock wall` to override).
Peak memory: a separate short run of each implementation in its own process; CUDA max
allocated on a GPU, else the process's peak RSS. NPO, RMU and IdkDPO hold a frozen second model.

    python benchmarks/unlearn_methods_step_time.py --threads 1     # ~10 min on 2 busy CPU cores
    python benchmarks/unlearn_methods_step_time.py --n-layer 12 --n-embd 768 --steps 50   # GPT-2 small
Goal: trainer / plain <= 1.15 for every method.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METHODS = ("ga", "graddiff", "npo", "simnpo", "idk", "idkdpo", "rmu")
NAMES = ["Ava", "Bram", "Cleo", "Dario", "Elin", "Femi", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lior"]
CITIES = ["Tarn", "Velo", "Quist", "Brell", "Osk", "Dunmar", "Ravenbrook", "Emberport"]


def make_rows(n: int, offset: int) -> dict[str, list[str]]:
    qs, ans = [], []
    for i in range(offset, offset + n):
        name = f"{NAMES[i % 12]} {NAMES[(i // 12) % 12]}son"
        qs.append(f"Where was {name} born?")
        ans.append(CITIES[(i * 7) % len(CITIES)])
    return {"question": qs, "answer": ans}


def make_model_dir(root: Path, n_layer: int, n_embd: int, seed: int = 0) -> Path:
    """A random GPT-2 with a byte-level BPE tokenizer trained on the benchmark's QA lines."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from freq_unlearn.core.schema import QA_PROMPT, REFUSAL

    rows = make_rows(512, 0)
    texts = [QA_PROMPT.format(question=q) + " " + a for q, a in zip(rows["question"], rows["answer"])] + [REFUSAL]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=1000, special_tokens=["<|endoftext|>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))  # fmt: skip
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=n_embd, n_layer=n_layer,
                     n_head=max(1, n_embd // 64), eos_token_id=0, bos_token_id=0)  # fmt: skip
    GPT2LMHeadModel(cfg).save_pretrained(root)
    tokenizer.save_pretrained(root)
    return root


def peak_memory_mb(device: str) -> float:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# ---------------------------------------------------------------- the two implementations
def run_trainer(method: str, model_dir: Path, args: argparse.Namespace, out: Path) -> list[float]:
    from transformers import TrainerCallback

    from freq_unlearn.unlearn_methods.api import build_config, load_model_and_tokenizer
    from freq_unlearn.unlearn_methods.registry import get_method

    starts: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_begin(self, a, state, control, **kw):
            starts.append(clock(args))

        def on_train_end(self, a, state, control, **kw):
            starts.append(clock(args))

    spec = get_method(method)
    extra = {"layer": args.n_layer // 2, "steering_coeff": 20.0, "alpha": 10.0} if method == "rmu" else {}
    cfg = build_config(
        method, out, max_steps=args.warmup + args.steps, per_device_train_batch_size=args.batch_size,
        learning_rate=1e-4, save_strategy="no", metrics_max_items=0, disable_tqdm=True,
        use_cpu=args.device == "cpu", **extra,
    )  # fmt: skip
    model, tok = load_model_and_tokenizer(str(model_dir))
    forget, retain = make_rows(args.rows, 0), make_rows(args.rows, 10_000)
    ds = spec.trainer_class.build_train_dataset(tok, _Rows(forget), _Rows(retain), cfg)
    trainer = spec.trainer_class(model=model, args=cfg, train_dataset=ds, processing_class=tok, callbacks=[StepClock()])
    trainer.train()
    return [b - a for a, b in zip(starts, starts[1:])][args.warmup :]


def run_plain(method: str, model_dir: Path, args: argparse.Namespace) -> list[float]:
    import copy

    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM, AutoTokenizer, get_linear_schedule_with_warmup

    from freq_unlearn.core.schema import REFUSAL
    from freq_unlearn.unlearn_methods.data import PairedCollator, PairedQADataset, encode_qa, pad_examples
    from freq_unlearn.unlearn_methods.ga import ga_loss
    from freq_unlearn.unlearn_methods.idk import idk_loss
    from freq_unlearn.unlearn_methods.logprobs import mean_token_nll, sequence_logprobs
    from freq_unlearn.unlearn_methods.npo import npo_loss
    from freq_unlearn.unlearn_methods.rmu import answer_positions, rmu_loss
    from freq_unlearn.unlearn_methods.simnpo import simnpo_loss

    device = torch.device(args.device)
    torch.manual_seed(42)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).to(device)
    model.train()
    ref = None
    if method in ("npo", "rmu", "idkdpo"):
        ref = copy.deepcopy(model).eval().requires_grad_(False)
    forget, retain = make_rows(args.rows, 0), make_rows(args.rows, 10_000)
    layer = args.n_layer // 2
    if method == "rmu":
        keep = tuple(f"transformer.h.{i}." for i in range(max(0, layer - 2), layer + 1))
        for n, p in model.named_parameters():
            p.requires_grad_(n.startswith(keep))
        u = torch.rand(model.config.hidden_size, generator=torch.Generator().manual_seed(42))
        control = (20.0 * u / u.norm()).to(device)
    if method == "idkdpo":  # chosen/rejected sequences, concatenated in one forward like TRL
        pairs = [
            (encode_qa(tok, q, REFUSAL, 128), encode_qa(tok, q, a, 128)) for q, a in zip(forget["question"], forget["answer"])
        ]
        ds: object = pairs
        collate = lambda items: pad_examples([c for c, _ in items] + [r for _, r in items], tok.pad_token_id)  # noqa: E731
    else:
        answers = [REFUSAL] * args.rows if method == "idk" else None
        ds = PairedQADataset(tok, _Rows(forget), _Rows(retain) if method not in ("ga", "idkdpo") else None, 128, 42, False, answers)
        collate = PairedCollator(tok.pad_token_id)
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True, collate_fn=collate,
                                         generator=torch.Generator().manual_seed(42), drop_last=True)  # fmt: skip
    params = [p for p in model.parameters() if p.requires_grad]
    # The Trainer's default optimizer is fused AdamW ("adamw_torch_fused"): use the same here.
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0, fused=True)
    total = args.warmup + args.steps
    sched = get_linear_schedule_with_warmup(opt, math.ceil(0.1 * total), total)

    def to_dev(b):
        return {k: (to_dev(v) if isinstance(v, dict) else v.to(device)) for k, v in b.items()}

    def logp_of(m, b):
        return sequence_logprobs(m(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits.float(), b["labels"])

    def hidden(m, b):
        out = m(input_ids=b["input_ids"], attention_mask=b["attention_mask"], output_hidden_states=True)
        return out.hidden_states[layer + 1].float()

    starts, step = [], 0
    while step < total:
        for batch in loader:
            if step == total:
                break
            starts.append(clock(args))
            batch = to_dev(batch)
            if method == "idkdpo":
                logp, _ = logp_of(model, batch)
                with torch.no_grad():
                    ref_logp, _ = logp_of(ref, batch)
                pc, pr = logp.chunk(2)
                rc, rr = ref_logp.chunk(2)
                loss = -F.logsigmoid(0.1 * ((pc - rc) - (pr - rr))).mean()
            elif method == "rmu":
                f, r = batch["forget"], batch["retain"]
                with torch.no_grad():
                    frozen = hidden(ref, r)
                loss, _, _ = rmu_loss(hidden(model, f), answer_positions(f["labels"]), control, hidden(model, r),
                                      frozen, r["attention_mask"].bool(), 10.0)  # fmt: skip
            else:
                logp, n = logp_of(model, batch["forget"])
                if method in ("ga", "graddiff"):
                    loss = ga_loss(logp, n)
                elif method == "npo":
                    with torch.no_grad():
                        ref_logp, _ = logp_of(ref, batch["forget"])
                    loss = npo_loss(logp, ref_logp, 0.1)
                elif method == "simnpo":
                    loss = simnpo_loss(logp, n, 2.5, 0.0)
                else:
                    loss = idk_loss(logp, n)
                if "retain" in batch:
                    loss = loss + mean_token_nll(*logp_of(model, batch["retain"]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            _ = loss.item()  # the Trainer also syncs the loss to log it every step
            step += 1
    starts.append(clock(args))
    return [b - a for a, b in zip(starts, starts[1:])][args.warmup :]


def clock(args: argparse.Namespace) -> float:
    """CPU time of this process (immune to other processes on a shared machine), or wall time."""
    return time.process_time() if args.clock == "cpu" else time.perf_counter()


class _Rows(dict):
    """dict-of-columns with len(), enough for the dataset builders."""

    def __len__(self) -> int:
        return len(self["question"])


# ---------------------------------------------------------------- driver
def worker(args: argparse.Namespace) -> None:
    """--impl both: alternate plain and trainer runs in this process (same conditions, less drift);
    --impl plain|trainer: one short run, for the process's peak memory."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    model_dir = Path(args.model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        if args.impl == "both":
            plain, trainer = [], []
            for i in range(args.repeats):  # ABBA order: neither side always runs first
                runs = [lambda: plain.append(statistics.median(run_plain(args.method, model_dir, args))),
                        lambda: trainer.append(statistics.median(run_trainer(args.method, model_dir, args, Path(tmp) / f"o{i}")))]  # fmt: skip
                for run in runs if i % 2 == 0 else runs[::-1]:
                    run()
            print(json.dumps({"plain_s": statistics.median(plain), "trainer_s": statistics.median(trainer)}))
            return
        if args.impl == "trainer":
            run_trainer(args.method, model_dir, args, Path(tmp) / "out")
        else:
            run_plain(args.method, model_dir, args)
    print(json.dumps({"peak_mb": peak_memory_mb(args.device)}))


def measure(method: str, impl: str, model_dir: Path, args: argparse.Namespace, steps: int) -> dict:
    cmd = [sys.executable, __file__, "--_worker", "--method", method, "--impl", impl, "--model-dir", str(model_dir),
           "--steps", str(steps), "--warmup", str(args.warmup), "--batch-size", str(args.batch_size),
           "--rows", str(args.rows), "--n-layer", str(args.n_layer), "--device", args.device,
           "--threads", str(args.threads), "--repeats", str(args.repeats), "--clock", args.clock]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{method}/{impl} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--steps", type=int, default=20, help="measured steps")
    p.add_argument("--warmup", type=int, default=5, help="steps not measured")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--rows", type=int, default=128, help="forget (and retain) rows")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=256)
    p.add_argument("--device", default="cuda" if _cuda() else "cpu")
    p.add_argument("--threads", type=int, default=0, help="torch threads per process (0: torch's default)")
    p.add_argument("--clock", choices=["cpu", "wall"], default=None,
                   help="cpu: process CPU time per step (default on CPU with --threads 1: robust to other load); wall")
    p.add_argument("--repeats", type=int, default=2, help="alternate plain/trainer runs this many times; medians")
    p.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--method", help=argparse.SUPPRESS)
    p.add_argument("--impl", help=argparse.SUPPRESS)
    p.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.clock is None:
        args.clock = "cpu" if args.device == "cpu" and args.threads == 1 else "wall"
    if args._worker:
        return worker(args)

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = make_model_dir(Path(tmp) / "model", args.n_layer, args.n_embd)
        n_params = _count_params(model_dir)
        print(f"GPT-2 {args.n_layer} layers x {args.n_embd}, {n_params / 1e6:.2f}M parameters "
              f"({n_params * 4 / 2**20:.1f} MiB fp32); batch {args.batch_size}; device {args.device}; "
              f"{args.warmup} warm-up + {args.steps} measured steps; {args.repeats} repeat(s); {args.clock} clock")  # fmt: skip
        mem_kind = "CUDA max allocated" if args.device.startswith("cuda") else "peak RSS"
        print(f"{'method':9} {'plain ms':>9} {'trainer ms':>10} {'ratio':>6} {'plain MiB':>10} {'trainer MiB':>11}  second model")
        for method in args.methods.split(","):
            times = measure(method, "both", model_dir, args, args.steps)
            pt, tt = times["plain_s"], times["trainer_s"]
            pm = measure(method, "plain", model_dir, args, 3)["peak_mb"]
            tm = measure(method, "trainer", model_dir, args, 3)["peak_mb"]
            second = f"yes (+{n_params * 4 / 2**20:.1f} MiB weights)" if method in ("npo", "rmu", "idkdpo") else "no"
            print(f"{method:9} {pt * 1e3:9.1f} {tt * 1e3:10.1f} {tt / pt:6.2f} {pm:10.0f} {tm:11.0f}  {second}", flush=True)
        print(f"memory: {mem_kind} per process" + ("" if args.device.startswith("cuda") else " (Python, torch and transformers included)"))


def _count_params(model_dir: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), "pt") as f:
        return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


if __name__ == "__main__":
    main()
