"""Cheap in-run metrics on forget and retain QA (the full evaluation is the lm-eval tasks').

Per split, means over items of:
  answer_nll      per-token negative log-likelihood of " {answer}" after the prompt;
  answer_prob     p(answer | prompt) = exp(-sum of the answer's token NLLs);
  exact_contains  the normalized answer occurs in the greedy continuation (first line only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from freq_unlearn.core.answers import contains_answer
from freq_unlearn.core.schema import QA_PROMPT

from .data import encode_qa, pad_examples
from .logprobs import sequence_logprobs


def exact_contains(continuation: str, answer: str) -> bool:
    """The suite's exact-contains (freq_unlearn.answers) on the continuation's first line."""
    return contains_answer(answer, continuation.split("\n")[0])


@torch.no_grad()
def qa_metrics(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict[str, str]],
    max_new_tokens: int = 16,
    batch_size: int = 32,
    max_length: int = 128,
) -> dict[str, float]:
    """Mean answer NLL / probability and greedy exact-contains accuracy over `rows`."""
    if not rows:
        return {}
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    nll_tok, probs, hits = [], [], []
    try:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            batch = pad_examples([encode_qa(tokenizer, r["question"], r["answer"], max_length) for r in chunk], pad_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            logp, n_tok = sequence_logprobs(logits.float(), batch["labels"])
            nll_tok += (-logp / n_tok).tolist()
            probs += logp.exp().tolist()
            hits += [exact_contains(c, r["answer"]) for c, r in zip(_greedy(model, tokenizer, chunk, max_new_tokens, pad_id, device), chunk)]
    finally:
        model.train(was_training)
    n = len(rows)
    return {"answer_nll": sum(nll_tok) / n, "answer_prob": sum(probs) / n, "exact_contains": sum(hits) / n}


def _greedy(model: Any, tokenizer: Any, rows: Sequence[dict[str, str]], max_new_tokens: int, pad_id: int, device: Any) -> list[str]:
    """Greedy continuations of the prompts, batched with left padding."""
    prompts = [tokenizer(QA_PROMPT.format(question=r["question"]), add_special_tokens=False)["input_ids"] for r in rows]
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        mask[i, width - len(p) :] = 1
    out = model.generate(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        max_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=pad_id,
    )
    return tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)
