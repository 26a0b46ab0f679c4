"""Scoring a causal LM directly: continuation log-probabilities and greedy decoding.

The lm-eval tasks score through lm-eval's ``hf`` backend; training loops and reports that need the
same numbers without lm-eval call these functions, which follow the backend's rules so a number
means the same everywhere:

* a (context, continuation) pair is encoded as lm-eval's ``HFLM._encode_pair`` does: trailing
  spaces of the context move to the continuation, the whole string is encoded once, and the
  continuation's tokens are the tail after the context's own encoding (``encode_pair``);
* greedy decoding continues the context and cuts the text at the first stop string.

torch is imported inside the functions: importing the kernel stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def encode_pair(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """Token ids of the context and of the continuation, split the way lm-eval scores them."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    ctx = tokenizer(context, add_special_tokens=False)["input_ids"]
    return whole[: len(ctx)], whole[len(ctx) :]


def _device(model: Any) -> Any:
    return next(model.parameters()).device


def _pad_id(tokenizer: Any) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def continuation_logprobs(
    model: Any, tokenizer: Any, pairs: Sequence[tuple[str, str]], batch_size: int = 32
) -> list[tuple[float, int]]:
    """(sum of log p(token | prefix) over the continuation's tokens, number of those tokens) per pair."""
    import torch

    out: list[tuple[float, int]] = []
    device = _device(model)
    pad = _pad_id(tokenizer)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(pairs), batch_size):
            encoded = [encode_pair(tokenizer, c, x) for c, x in pairs[start : start + batch_size]]
            rows = [ctx + cont for ctx, cont in encoded]
            width = max(map(len, rows))
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for i, row in enumerate(rows):
                ids[i, : len(row)] = torch.tensor(row)
                mask[i, : len(row)] = 1
            with torch.no_grad():
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            logp = torch.log_softmax(logits, dim=-1)
            for i, (ctx, cont) in enumerate(encoded):
                start_pos = len(ctx)
                targets = ids[i, start_pos : start_pos + len(cont)].to(device)
                token_lp = logp[i, start_pos - 1 : start_pos - 1 + len(cont)].gather(-1, targets[:, None])
                out.append((float(token_lp.sum()), len(cont)))
    finally:
        model.train(was_training)
    return out


def cut_at_stop(text: str, until: Sequence[str]) -> str:
    """The text before the first stop string (lm-eval's generate_until rule)."""
    for stop in until:
        if stop and stop in text:
            text = text.split(stop, 1)[0]
    return text


def greedy_continuations(
    model: Any,
    tokenizer: Any,
    contexts: Sequence[str],
    max_new_tokens: int = 32,
    until: Sequence[str] = ("\n",),
    batch_size: int = 32,
) -> list[str]:
    """Greedy continuation of each context (left-padded batches), cut at the first stop string."""
    import torch

    device = _device(model)
    pad = _pad_id(tokenizer)
    out: list[str] = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(contexts), batch_size):
            encoded = [tokenizer(c, add_special_tokens=False)["input_ids"] for c in contexts[start : start + batch_size]]
            width = max(map(len, encoded))
            ids = torch.full((len(encoded), width), pad, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for i, row in enumerate(encoded):
                ids[i, width - len(row) :] = torch.tensor(row)
                mask[i, width - len(row) :] = 1
            with torch.no_grad():
                generated = model.generate(
                    input_ids=ids.to(device), attention_mask=mask.to(device), max_new_tokens=max_new_tokens,
                    do_sample=False, pad_token_id=pad,
                )
            texts = tokenizer.batch_decode(generated[:, width:], skip_special_tokens=True)
            out += [cut_at_stop(t, until) for t in texts]
    finally:
        model.train(was_training)
    return out
