"""What a model knows about a world's facts: greedy QA accuracy and gold-answer probability.

Used for the knowledge report after pre-training. The prompt is the suite's QA format
(`schema.QA_PROMPT`), the same one the lm-eval tasks and the unlearning trainers use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from freq_unlearn.core import schema
from freq_unlearn.core.answers import contains_answer as _contains


def contains_answer(continuation: str, answer: str) -> bool:
    """The suite's normalized exact-contains (freq_unlearn.answers)."""
    return bool(_contains(answer, continuation))


def prompt_for(question: str) -> str:
    return schema.QA_PROMPT.format(question=question)


@dataclass
class AnswerScores:
    logprob: list[float]  # sum over answer tokens of log p(token | prompt, previous tokens)
    n_tokens: list[int]

    @property
    def prob(self) -> list[float]:
        return [math.exp(lp) for lp in self.logprob]


def answer_logprobs(model, tokenizer, questions: Sequence[str], answers: Sequence[str],
                    batch_size: int = 64) -> AnswerScores:
    """log p(" answer" | prompt), batched with right padding."""
    import torch

    logprobs: list[float] = []
    n_tokens: list[int] = []
    device = next(model.parameters()).device
    for start in range(0, len(questions), batch_size):
        qs, ans = questions[start : start + batch_size], answers[start : start + batch_size]
        rows, spans = [], []
        for q, a in zip(qs, ans):
            ctx = tokenizer(prompt_for(q), add_special_tokens=False).input_ids
            tgt = tokenizer(" " + a, add_special_tokens=False).input_ids
            rows.append(ctx + tgt)
            spans.append((len(ctx), len(ctx) + len(tgt)))
        width = max(map(len, rows))
        pad = tokenizer.pad_token_id
        ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=device)
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=device)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
        logp = torch.log_softmax(logits, dim=-1)
        for i, (s, e) in enumerate(spans):
            targets = ids[i, s:e]
            token_lp = logp[i, s - 1 : e - 1].gather(-1, targets[:, None]).squeeze(-1)
            logprobs.append(float(token_lp.sum()))
            n_tokens.append(e - s)
    return AnswerScores(logprobs, n_tokens)


def greedy_answers(model, tokenizer, questions: Sequence[str], max_new_tokens: int = 12,
                   batch_size: int = 64) -> list[str]:
    """Greedy continuations of the QA prompts, cut at the first newline."""
    import torch

    device = next(model.parameters()).device
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    out: list[str] = []
    try:
        for start in range(0, len(questions), batch_size):
            prompts = [prompt_for(q) for q in questions[start : start + batch_size]]
            enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            enc = {k: v.to(device) for k, v in enc.items()}
            with torch.no_grad():
                gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            for row in gen[:, enc["input_ids"].shape[1] :]:
                out.append(tokenizer.decode(row, skip_special_tokens=True).split("\n")[0])
    finally:
        tokenizer.padding_side = side
    return out


def score_facts(model, tokenizer, facts, batch_size: int = 64):
    """Per-fact knowledge: a copy of `facts` (DataFrame) with continuation, correct, logprob."""
    questions, answers = list(facts["question"]), list(facts["answer"])
    scores = answer_logprobs(model, tokenizer, questions, answers, batch_size)
    conts = greedy_answers(model, tokenizer, questions, batch_size=batch_size)
    out = facts.copy()
    out["continuation"] = conts
    out["correct"] = [contains_answer(c, a) for c, a in zip(conts, answers)]
    out["answer_logprob"] = scores.logprob
    out["answer_prob"] = scores.prob
    out["answer_tokens"] = scores.n_tokens
    return out
