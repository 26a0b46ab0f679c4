"""A base model built here in seconds: the shared tiny world's corpus plus the QA lines of its
forget_high facts, so that the base knows facts an unlearning run can remove (and a relearning attack
can bring back), and its training biographies are members for membership inference.

(The session's `tiny_model` pre-trains for minutes; these tests need only a model that has seen the
world's biographies and knows some forget facts.)
"""

from __future__ import annotations

from pathlib import Path

import pytest


def _train(model, tokenizer, texts: list[str], steps: int, seed: int = 0) -> None:
    import torch

    g = torch.Generator().manual_seed(seed)
    enc = [tokenizer(t, add_special_tokens=False)["input_ids"][:127] + [tokenizer.eos_token_id] for t in texts]
    ids = torch.full((len(enc), max(map(len, enc))), tokenizer.pad_token_id)
    mask = torch.zeros_like(ids)
    for i, e in enumerate(enc):
        ids[i, : len(e)], mask[i, : len(e)] = torch.tensor(e), 1
    labels = ids.masked_fill(mask == 0, -100)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        idx = torch.randperm(len(enc), generator=g)[:32]
        model(input_ids=ids[idx], attention_mask=mask[idx], labels=labels[idx]).loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()


@pytest.fixture(scope="session")
def world_model(tiny_world: Path, tiny_benchmark: Path, tmp_path_factory) -> Path:
    import pandas as pd
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from freq_unlearn.core.schema import QA_PROMPT
    from freq_unlearn.tokenizer import train_tokenizer
    from freq_unlearn.world import load_world

    world = load_world(tiny_world)
    corpus = [d["text"] for d in world.documents()]
    forget = pd.read_parquet(next((tiny_benchmark / "data").glob("forget_high*.parquet")))
    qa = [QA_PROMPT.format(question=q) + " " + a for q, a in zip(forget["question"], forget["answer"])]
    tokenizer = train_tokenizer(corpus, vocab_size=1024)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=256, n_embd=64, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(config)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    _train(model, tokenizer, corpus + qa * 4, steps=400)
    torch.set_num_threads(threads)
    out = tmp_path_factory.mktemp("world_model")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
