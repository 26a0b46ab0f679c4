"""lm-eval over all default tasks vs a direct batched evaluation of the same items: same numbers?
how much slower? (goal: lm-eval <= 1.3x the direct loop)

    python benchmarks/tasks_lm_eval_overhead.py                      # random tiny GPT-2, packaged data
    python benchmarks/tasks_lm_eval_overhead.py --model DIR --benchmark DIR --batch-size 32
    python benchmarks/tasks_lm_eval_overhead.py --model DIR --cap 200   # 5x the packaged size

Both sides load the model, read the benchmark, build every request of the 16 default tasks
(greedy generation until "\\n"/"Question:" up to 32 tokens; 4 answer candidates + 4 T/F
continuations per item), run them with the same batch size and score them with the suite's
per-item functions (freq_unlearn.tasks.metrics). The direct side is a plain PyTorch loop:
left-padded batched ``generate`` and one forward pass per batch of (context, continuation)
pairs. lm-eval runs through ``simple_evaluate`` with a TaskManager over our folder only; the
time lm-eval's CLI spends indexing its own ~14k tasks is reported separately. lm-eval's fixed
costs (collecting environment info, building the task objects) weigh most on small runs.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import torch

from freq_unlearn.core import schema
from freq_unlearn.tasks import DEFAULT_TASKS_DIR
from freq_unlearn.tasks.benchmark_io import load_split, resolve_source
from freq_unlearn.tasks.metrics import generation_scores, probability_scores
from freq_unlearn.tasks.utils import DEFAULT_NUM_CHOICES, answer_length, doc_to_target, doc_to_text, probe_requests

UNTIL = ("\n", "Question:")
MAX_GEN_TOKS = 32


def random_tiny_model(out: Path, benchmark: str) -> Path:
    """GPT-2 4x128 (the world model's shape) with a byte-level BPE tokenizer fitted on the items."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    texts = []
    for split in schema.BENCHMARK_SPLITS:
        ds = load_split(benchmark, split)
        texts += [f"{doc_to_text(d)} {d['answer']} " + " ".join(d["distractors"]) for d in ds]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts + ["True or False: True False"], trainers.BpeTrainer(
        vocab_size=2048, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.model_max_length = 256
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=256, n_embd=128, n_layer=4, n_head=4,
                                       bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id))
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


# --------------------------------------------------------------------------- direct loop


def direct_generate(model, tokenizer, prompts: list[str], batch_size: int) -> list[str]:
    tokenizer.padding_side = "left"
    outputs: list[str] = []
    for i in range(0, len(prompts), batch_size):
        batch = tokenizer(prompts[i : i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(**batch, max_new_tokens=MAX_GEN_TOKS, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                                 stop_strings=list(UNTIL), tokenizer=tokenizer)
        for row in tokenizer.batch_decode(gen[:, batch["input_ids"].shape[1] :], skip_special_tokens=True):
            for stop in UNTIL:
                row = row.split(stop)[0]
            outputs.append(row)
    return outputs


def direct_loglikelihood(model, tokenizer, pairs: list[tuple[str, str]], batch_size: int) -> list[float]:
    encoded = []
    for context, continuation in pairs:
        whole = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
        n_ctx = len(tokenizer(context, add_special_tokens=False)["input_ids"])
        encoded.append((whole, len(whole) - n_ctx))
    # longest first, as lm-eval does: batches of similar lengths waste less padding
    order = sorted(range(len(encoded)), key=lambda j: -len(encoded[j][0]))
    scores = [0.0] * len(encoded)
    pad = tokenizer.pad_token_id
    for i in range(0, len(order), batch_size):
        chunk = [encoded[j] for j in order[i : i + batch_size]]
        width = max(len(w) for w, _ in chunk) - 1
        ids = torch.full((len(chunk), width), pad)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (whole, _) in enumerate(chunk):  # right padding: positions stay 0..n-1
            ids[row, : len(whole) - 1] = torch.tensor(whole[:-1])
            mask[row, : len(whole) - 1] = 1
        with torch.no_grad():
            logprobs = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), dim=-1)
        for row, (whole, n_cont) in enumerate(chunk):
            n = len(whole) - 1
            targets = torch.tensor(whole[-n_cont:])
            scores[order[i + row]] = float(logprobs[row, n - n_cont : n].gather(1, targets[:, None]).sum())
    return scores


def run_direct(model_dir: str, benchmark: str, batch_size: int) -> dict[str, dict[str, float]]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    docs = {split: list(load_split(benchmark, split)) for split in schema.BENCHMARK_SPLITS}
    prompts = [doc_to_text(d) for split in schema.BENCHMARK_SPLITS for d in docs[split]]
    continuations = iter(direct_generate(model, tokenizer, prompts, batch_size))
    pairs = [p for split in schema.BENCHMARK_SPLITS for d in docs[split] for p in probe_requests(d, doc_to_text(d), DEFAULT_NUM_CHOICES)]
    lls = iter(direct_loglikelihood(model, tokenizer, pairs, batch_size))

    results: dict[str, dict[str, float]] = {}
    for split in schema.BENCHMARK_SPLITS:
        gen_items, ll_items = [], []
        for d in docs[split]:
            gen_items.append(generation_scores(str(d["answer"]), next(continuations)))
            n_pairs = len(probe_requests(d, doc_to_text(d), DEFAULT_NUM_CHOICES))
            item = [next(lls) for _ in range(n_pairs)]
            k = n_pairs - 4
            ll_items.append(probability_scores(item[0], item[1:k], answer_length(doc_to_text(d), doc_to_target(d), tokenizer),
                                               (item[k], item[k + 1]), (item[k + 2], item[k + 3])))
        results[f"freq_unlearn_synthetic_{split}_gen"] = {m: sum(x[m] for x in gen_items) / len(gen_items) for m in gen_items[0]}
        results[f"freq_unlearn_synthetic_{split}_ll"] = {m: sum(x[m] for x in ll_items) / len(ll_items) for m in ll_items[0]}
    return results


# --------------------------------------------------------------------------- lm-eval


def run_lm_eval(model_dir: str, benchmark: str, batch_size: int) -> dict[str, dict[str, float]]:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(DEFAULT_TASKS_DIR), include_defaults=False,
                     metadata={"benchmark": benchmark, "pretrained": model_dir})
    out = simple_evaluate(model="hf", model_args={"pretrained": model_dir}, device="cpu", batch_size=batch_size,
                          tasks=tm.match_tasks(["freq_unlearn_*"]), task_manager=tm)
    return {task: {k.split(",")[0]: v for k, v in res.items() if k.endswith(",none") and "stderr" not in k}
            for task, res in out["results"].items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: a random GPT-2 4x128 made here)")
    parser.add_argument("--benchmark", default="synthetic", help="benchmark folder or 'synthetic' (packaged)")
    parser.add_argument("--cap", type=int, help="instead: rebuild the packaged benchmark with this many facts per split")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side (best is kept)")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="largest allowed difference of a task mean")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.cap:
            from freq_unlearn.packaged_data import build_packaged

            benchmark = str(build_packaged(Path(tmp) / "bench", Path(tmp) / "work", cap=args.cap))
        else:
            benchmark = resolve_source(args.benchmark)
        model_dir = args.model or str(random_tiny_model(Path(tmp) / "model", benchmark))
        import lm_eval.evaluator  # noqa: F401  (imports are not part of either side's time)
        import transformers  # noqa: F401

        run_direct(model_dir, benchmark, args.batch_size)  # warm-up: file caches, kernels
        # alternate the two sides and keep each one's best time: the machine is shared
        t_direct = t_harness = math.inf
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            direct = run_direct(model_dir, benchmark, args.batch_size)
            t_direct = min(t_direct, time.perf_counter() - t0)
            t0 = time.perf_counter()
            harness = run_lm_eval(model_dir, benchmark, args.batch_size)
            t_harness = min(t_harness, time.perf_counter() - t0)
        from lm_eval.tasks import TaskManager

        t0 = time.perf_counter()
        TaskManager()  # what the CLI adds: indexing lm-eval's own tasks (+ ours, via the hook)
        t_index = time.perf_counter() - t0
        items = sum(len(load_split(benchmark, s)) for s in schema.BENCHMARK_SPLITS)

    worst = 0.0
    for task, metrics in sorted(direct.items()):
        for metric, value in metrics.items():
            diff = abs(value - harness[task][metric])
            worst = max(worst, diff if not math.isnan(diff) else math.inf)
    print(f"items: {items} x 2 variants, batch size {args.batch_size}, model {'random 4x128' if not args.model else args.model}")
    print(f"best of {args.repeats} runs per side")
    print(f"direct batched loop : {t_direct:7.2f} s")
    print(f"lm-eval (Python API): {t_harness:7.2f} s")
    print(f"lm-eval CLI indexing: {t_index:7.2f} s (extra, once per CLI call)")
    print(f"largest difference of a task mean: {worst:.2e} (tolerance {args.tolerance:g})")
    print(f"ratio lm-eval / direct: {t_harness / t_direct:.2f}x (goal <= 1.3x); with CLI indexing: {(t_harness + t_index) / t_direct:.2f}x")
    if worst > args.tolerance:
        print("MISMATCH: lm-eval and the direct loop disagree")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
