"""Tiny artefacts for the unlearning tests, built once per session in a few seconds.

* ``qa_benchmark``: a benchmark folder per freq_unlearn.schema (Parquet per split + README
  ``configs:``), 12 forget_high facts, 12 forget_low facts and 24 retain facts about made-up people.
* ``qa_model``: a 2-layer GPT-2 (n_embd 64) with a byte-level BPE tokenizer trained here, then
  pre-trained on every QA line in the prompt format until it answers them (it "knows" the
  forget facts, so unlearning has something to remove).
* ``random_model``: the same architecture, untrained (for loss-formula tests).

Once the lead's shared ``tiny_model`` / ``tiny_benchmark`` fixtures exist, the end-to-end CLI
test also runs on them (see test_cli.py).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

FIRST = ["Ava", "Bram", "Cleo", "Dario", "Elin", "Femi", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lior"]
LAST = ["Lind", "Moss", "Nyx", "Orr"]
CITIES = ["Tarn", "Velo", "Quist", "Brell", "Osk", "Dunmar"]
EMPLOYERS = ["Acme", "Globex", "Initech", "Umbra", "Vortex", "Zenith"]


def make_facts(seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    people = [f"{f} {l}" for f in FIRST for l in LAST]  # 48 people
    rng.shuffle(people)
    facts = []
    for i, name in enumerate(people):
        rel, q, ans = (
            ("birth_city", f"Where was {name} born?", rng.choice(CITIES))
            if i % 2 == 0
            else ("employer", f"Which company did {name} work for?", rng.choice(EMPLOYERS))
        )
        split = "forget_high" if i < 12 else "forget_low" if i < 24 else "retain"
        count = {"forget_high": 10 + i, "forget_low": 1, "retain": 1}[split]
        stratum = split.removeprefix("forget_") if split != "retain" else "retain"
        facts.append(
            {"fact_id": f"p{i:03d}/{rel}", "subject": name, "relation": rel, "question": q, "answer": ans,
             "distractors": [c for c in (CITIES if rel == "birth_city" else EMPLOYERS) if c != ans][:3],
             "count": count, "stratum": stratum, "split": split}
        )  # fmt: skip
    return facts


def write_benchmark(root: Path, facts: list[dict]) -> Path:
    import pandas as pd

    (root / "data").mkdir(parents=True, exist_ok=True)
    splits = {}
    for f in facts:
        splits.setdefault(f["split"], []).append({k: v for k, v in f.items() if k != "split"})
    splits["forget_high_paraphrased"] = [dict(r, question=r["question"].replace("Where", "In which town")) for r in splits["forget_high"]]
    splits["utility"] = splits["retain"][:4]
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for name, rows in splits.items():
        pd.DataFrame(rows).to_parquet(root / "data" / f"{name}.parquet", index=False)
        lines += [f"  - split: {name}", f"    path: data/{name}.parquet"]
    (root / "README.md").write_text("\n".join(lines + ["---", "", "Tiny test benchmark.", ""]))
    return root


def qa_lines(facts: list[dict]) -> list[str]:
    from freq_unlearn.core.schema import QA_PROMPT

    return [QA_PROMPT.format(question=f["question"]) + " " + f["answer"] for f in facts]


def make_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def make_model(tokenizer, seed: int = 0, n_layer: int = 2):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=len(tokenizer), n_positions=64, n_embd=64, n_layer=n_layer, n_head=2,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )  # fmt: skip
    return GPT2LMHeadModel(cfg)


def pretrain(model, tokenizer, texts: list[str], steps: int = 300, seed: int = 0) -> None:
    """Plain full-sequence LM training on the QA lines until the model recalls them."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # much faster for a model this small, and other tests share the cores
    g = torch.Generator().manual_seed(seed)
    enc = [tokenizer(t + tokenizer.eos_token)["input_ids"] for t in texts]
    width = max(map(len, enc))
    ids = torch.full((len(enc), width), tokenizer.pad_token_id)
    mask = torch.zeros_like(ids)
    for i, e in enumerate(enc):
        ids[i, : len(e)] = torch.tensor(e)
        mask[i, : len(e)] = 1
    labels = ids.masked_fill(mask == 0, -100)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        idx = torch.randperm(len(enc), generator=g)[:32]
        loss = model(input_ids=ids[idx], attention_mask=mask[idx], labels=labels[idx]).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def qa_facts() -> list[dict]:
    return make_facts()


@pytest.fixture(scope="session")
def qa_benchmark(tmp_path_factory, qa_facts) -> Path:
    return write_benchmark(tmp_path_factory.mktemp("qa_benchmark"), qa_facts)


@pytest.fixture(scope="session")
def qa_model(tmp_path_factory, qa_facts) -> Path:
    """Folder of a tiny GPT-2 that answers every QA line of `qa_benchmark`."""
    texts = qa_lines(qa_facts)
    tok = make_tokenizer(texts * 2)
    model = make_model(tok)
    pretrain(model, tok, texts)
    out = tmp_path_factory.mktemp("qa_model")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def random_model(tmp_path_factory, qa_facts) -> Path:
    tok = make_tokenizer(qa_lines(qa_facts) * 2)
    out = tmp_path_factory.mktemp("random_model")
    make_model(tok, seed=1).save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run faster on one thread, and other tests share the 2 cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def gpt2_of_depth(qa_facts):
    """n_layer -> (untrained tiny GPT-2 with that many blocks, its tokenizer)."""
    tok = make_tokenizer(qa_lines(qa_facts) * 2)
    return lambda n_layer: (make_model(tok, n_layer=n_layer).eval(), tok)


def with_bio_prefix(facts: list[dict]) -> list[dict]:
    """The facts with a biography-sentence prefix per fact (the answer follows after a space)."""
    stem = {"birth_city": "{name} was born in", "employer": "{name} worked for"}
    return [dict(f, bio_prefix=stem[f["relation"]].format(name=f["subject"])) for f in facts]


@pytest.fixture(scope="session")
def bio_benchmark(tmp_path_factory, qa_facts) -> Path:
    """`qa_benchmark` plus the column bio_prefix in every split."""
    return write_benchmark(tmp_path_factory.mktemp("bio_benchmark"), with_bio_prefix(qa_facts))


@pytest.fixture(scope="session")
def nocount_benchmark(tmp_path_factory, qa_facts) -> Path:
    """`qa_benchmark` without the count column (a benchmark no frequency index has counted)."""
    return write_benchmark(tmp_path_factory.mktemp("nocount_benchmark"), [{k: v for k, v in f.items() if k != "count"} for f in qa_facts])
