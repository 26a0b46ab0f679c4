"""The suite's evaluation through lm-eval vs a direct loop over the same items; and the fixed cost
of one evaluation before and after the evaluation API (issue 15).

    python benchmarks/tasks_lm_eval_overhead.py                       # random tiny GPT-2, packaged data
    python benchmarks/tasks_lm_eval_overhead.py --model DIR --benchmark DIR --repeats 3

Printed, each measured side by side in one run (runs alternated, median of --repeats):

1. ``tasks.evaluation.evaluate`` (lm-eval's evaluator over the suite's tasks, model in memory) /
   a direct loop (``freq_unlearn.core.lm``: batched greedy decoding and one forward pass per batch of
   (context, continuation) pairs, scored with ``freq_unlearn.tasks.scores``) on every item of the
   QA probe of every non-paraphrased split. Same numbers are checked. Goal <= 1.3x.
2. The fixed cost of one evaluation of a small split: the way the suite evaluated before
   (``lm_eval.simple_evaluate`` from the model folder, which collects environment info with a
   ``pip list`` subprocess and re-seeds torch) vs ``evaluate`` now; fixed cost = time - direct time.
3. Indexing lm-eval's whole task catalogue (what its CLI does at start) vs the suite's folder only.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from freq_unlearn.core.lm import continuation_logprobs, greedy_continuations
from freq_unlearn.core.schema import FORGET_SPLITS, RETAIN_SPLIT, UTILITY_SPLIT, task_name
from freq_unlearn.tasks import DEFAULT_TASKS_DIR
from freq_unlearn.tasks.benchmark_io import load_split, resolve_source
from freq_unlearn.tasks.scores import generation_scores, probability_scores
from freq_unlearn.tasks.utils import DEFAULT_NUM_CHOICES, candidates, doc_to_text

SPLITS = FORGET_SPLITS + (RETAIN_SPLIT, UTILITY_SPLIT)
UNTIL = ("\n", "Question:")


def random_tiny_model(out: Path, benchmark: str) -> Path:
    """GPT-2 4x128 (the world model's shape) with a byte-level BPE tokenizer fitted on the items."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    texts = [f"{doc_to_text(d)} {d['answer']} " + " ".join(d["distractors"]) for s in SPLITS for d in load_split(benchmark, s)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=2048, special_tokens=["<|endoftext|>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                       show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=256, n_embd=128, n_layer=4, n_head=4,
                                       bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id))
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def direct(model, tokenizer, docs: list[dict], batch_size: int) -> list[dict[str, float]]:
    """Every item's scores with the kernel's functions, no lm-eval."""
    contexts = [doc_to_text(d) for d in docs]
    texts = greedy_continuations(model, tokenizer, contexts, max_new_tokens=32, until=UNTIL, batch_size=batch_size)
    cands = [candidates(d, DEFAULT_NUM_CHOICES) for d in docs]
    pairs = [(c, " " + a) for c, options in zip(contexts, cands) for a in options]
    scores = iter(continuation_logprobs(model, tokenizer, pairs, batch_size=batch_size))
    out = []
    for doc, text, options in zip(docs, texts, cands):
        lls = [next(scores) for _ in options]
        out.append(generation_scores(str(doc["answer"]), text) | probability_scores(lls[0][0], [x[0] for x in lls[1:]], lls[0][1]))
    return out


def old_way(model_dir: Path, benchmark: str, splits: tuple[str, ...], batch_size: int) -> None:
    """What the leaderboard and demo did before: simple_evaluate from the folder, per evaluation."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(DEFAULT_TASKS_DIR), include_defaults=False,
                          metadata={"benchmark": benchmark, "pretrained": str(model_dir)})
    lm_eval.simple_evaluate(model="hf", model_args={"pretrained": str(model_dir), "dtype": "float32"}, device="cpu",
                            tasks=[task_name("synthetic", s, v) for s in splits for v in ("gen", "ll")],
                            task_manager=manager, batch_size=batch_size, log_samples=True, bootstrap_iters=0)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model folder (default: a random tiny GPT-2)")
    parser.add_argument("--benchmark", default="synthetic")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from freq_unlearn.tasks.evaluation import evaluate

    benchmark = resolve_source(args.benchmark)
    model_dir = args.model or random_tiny_model(Path(tempfile.mkdtemp()) / "model", benchmark)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    docs = [d for s in SPLITS for d in load_split(benchmark, s)]
    small = (FORGET_SPLITS[0],)
    small_docs = list(load_split(benchmark, small[0]))

    suite = lambda: evaluate(model, benchmark, SPLITS, tokenizer=tokenizer, batch_size=args.batch_size)  # noqa: E731
    ours = suite()
    theirs = direct(model, tokenizer, docs, args.batch_size)
    by_fact = {(d["fact_id"], d["stratum"]): t for d, t in zip(docs, theirs)}
    worst = max(abs(row.logprob - by_fact[(row.fact_id, row.stratum)]["logprob"]) for row in ours.itertuples())
    same_gen = all(row.contains == by_fact[(row.fact_id, row.stratum)]["contains"] for row in ours.itertuples())

    times: dict[str, list[float]] = {k: [] for k in ("suite", "direct", "old_small", "new_small", "direct_small")}
    for _ in range(args.repeats):  # ABBA-style alternation of the two sides
        times["suite"].append(timed(suite))
        times["direct"].append(timed(lambda: direct(model, tokenizer, docs, args.batch_size)))
        times["direct_small"].append(timed(lambda: direct(model, tokenizer, small_docs, args.batch_size)))
        times["new_small"].append(timed(lambda: evaluate(model, benchmark, small, tokenizer=tokenizer,
                                                          batch_size=args.batch_size)))
        times["old_small"].append(timed(lambda: old_way(model_dir, benchmark, small, args.batch_size)))
    med = {k: statistics.median(v) for k, v in times.items()}

    from lm_eval.tasks import TaskManager

    index_all = timed(lambda: TaskManager())
    index_suite = timed(lambda: TaskManager(include_path=str(DEFAULT_TASKS_DIR), include_defaults=False))

    print(f"items: {len(docs)} (QA probe, {len(SPLITS)} splits); same numbers: max |logprob diff| {worst:.2e}, "
          f"greedy answers agree: {same_gen}")
    print("| measurement | value | goal |\n|---|---|---|")
    print(f"| evaluate / direct loop, all items | {med['suite'] / med['direct']:.2f}x "
          f"({med['suite']:.2f} s vs {med['direct']:.2f} s) | <= 1.3x |")
    print(f"| fixed cost per evaluation, before (simple_evaluate from the folder) | "
          f"{med['old_small'] - med['direct_small']:.2f} s | |")
    print(f"| fixed cost per evaluation, now (evaluate, model in memory) | "
          f"{med['new_small'] - med['direct_small']:.2f} s | |")
    print(f"| index lm-eval's whole catalogue / the suite's folder only | {index_all:.2f} s / {index_suite:.3f} s | |")


if __name__ == "__main__":
    main()
