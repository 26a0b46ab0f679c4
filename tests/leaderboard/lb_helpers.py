"""Helpers and fixtures for the leaderboard tests: tiny real checkpoints and result objects.

The unit tests build a 2-layer GPT-2 with a word-level tokenizer in a few hundred ms; the
end-to-end test uses the shared ``tiny_model`` / ``tiny_benchmark`` fixtures instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

WORDS = "the a of is in was who what where when did work born study city company university".split()


def make_checkpoint(folder: Path, seed: int = 0, n_layer: int = 2, run_record: dict[str, Any] | None = None) -> Path:
    """A real GPT-2 checkpoint (safetensors) + fast tokenizer + optional run record."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(["<unk>", "<eos>", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<eos>", pad_token="<eos>")
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(vocab), n_embd=16, n_layer=n_layer, n_head=2, n_positions=64,
                        bos_token_id=1, eos_token_id=1)
    model = GPT2LMHeadModel(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    fast.save_pretrained(folder)
    if run_record is not None:
        (folder / "run_record.json").write_text(json.dumps(run_record))
    return folder


def run_record(method: str = "ga", seed: int = 0, base_model: str = "base", **extra: Any) -> dict[str, Any]:
    record = {
        "schema": "freq_unlearn.run_record/1",
        "method": method,
        "base_model": base_model,
        "benchmark": "bench",
        "forget_split": "forget_high",
        "retain_split": "retain",
        "forget_count_range": None,
        "hyperparameters": {"lr": 1e-4, "steps": 5},
        "seed": seed,
        "lora": None,
        "device": "cpu",
        "wall_time_s": 3.5,
        "library_version": "0.1.0",
        "steps": [],
        "evaluations": [],
        "status": "completed",
        "hub_id": None,
    }
    record.update(extra)
    return record


STRATA = ("low", "medium", "high")


def make_runs(folder: Path, base_model: str, method: str = "ga", seeds: tuple[int, ...] = (1,), **record: Any) -> list[Path]:
    """One real checkpoint with its run record per (forget stratum, seed): a whole submission."""
    return [make_checkpoint(folder / f"{method}_{b}_seed{s}", seed=100 * i + s, run_record=run_record(
        method=method, seed=s, base_model=base_model, forget_split=f"forget_{b}", **record))
        for i, b in enumerate(STRATA) for s in seeds]


def curve(steps: int = 5, drop: float = 0.1) -> list[dict[str, Any]]:
    """Per-step evaluations as a run record holds them (``core.run_record.Evaluation``)."""
    return [{"step": 2 * k, "forget": {"answer_prob": round(0.6 - drop * k, 4), "answer_nll": 0.5 + k},
             "retain": {"answer_prob": round(0.6 - 0.01 * k, 4)}} for k in range(steps)]


def fake_result(method: str, sid: str, headline: float | None, gen_high: float = 0.5, seeds: int = 1,
                evaluations: Any = "absent") -> dict[str, Any]:
    """A result object shaped like the protocol's output (for store/ranking/page tests).

    ``evaluations``: each run's per-step evaluations (a list, or None); "absent" leaves the field out,
    as results of the format /2 do."""
    metrics: dict[str, Any] = {}

    def put(name: str, value: float | None) -> None:
        if value is not None:
            metrics[name] = {"value": value, "ci_low": value - 0.05, "ci_high": value + 0.05, "n_seeds": seeds,
                             "interval": "people bootstrap (one seed)" if seeds == 1 else f"random effects over {seeds} seeds"}

    put("headline", headline)
    put("robustness", headline)
    put("utility", 0.95)
    for b, v in (("low", 0.9), ("medium", 0.7), ("high", 1 - gen_high)):
        put(f"erased/{b}", v)
        put(f"forget_prob/{b}", 2 * v)
        put(f"forget_gen/{b}", v)
    put("frequency_gap", gen_high - 0.1)
    put("collateral", 0.2)
    put("retain_kept", 0.97)
    put("ppl_ratio", 1.1)
    items = [
        {"seed": 0, "target": b, "fact_id": f"p{i}/employer", "stratum": b, "count": c,
         "known_gen": True, "kept_gen": (i % 10) < 10 * v, "known_prob": True, "kept_prob": (i % 10) < 10 * v}
        for i, (b, c, v) in enumerate([("low", 1, 0.1), ("medium", 4, 0.3), ("high", 20, gen_high)] * 8)
    ]
    return {
        "items": items,
        "submission_id": sid,
        "method": method,
        "submission": {"compute": {"gpu_hours": 0.0}},
        "submitted_time": "2026-11-28T05:00:00Z",
        "seeds": list(range(seeds)),
        "runs": [{"target": b, "seed": s, **({} if evaluations == "absent" else {"evaluations": evaluations})}
                 for b in STRATA for s in range(seeds)],
        "metrics": metrics,
    }


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by playwright (``playwright install`` cannot download here)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def checkpoint_factory(tmp_path: Path):
    counter = {"n": 0}

    def factory(**kwargs: Any) -> Path:
        counter["n"] += 1
        return make_checkpoint(tmp_path / f"ckpt{counter['n']}", **kwargs)

    return factory


def make_benchmark(folder: Path, tag: str = "a", splits: tuple[str, ...] = (
        "forget_low", "forget_medium", "forget_high", "retain", "utility")) -> Path:
    """A folder of per-split Parquet files (enough for registration and hashing, not for lm-eval)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "data").mkdir(parents=True, exist_ok=True)
    for split in splits:
        pq.write_table(pa.table({"fact_id": [f"{tag}-{split}-{i}" for i in range(3)]}), folder / "data" / f"{split}.parquet")
    return folder
