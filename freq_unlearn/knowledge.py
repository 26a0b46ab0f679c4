"""What a model knows about a world's facts: greedy QA accuracy and gold-answer probability.

Used for the knowledge report after pre-training. The prompt is the suite's QA format
(`schema.QA_PROMPT`) and the scoring is the kernel's (`freq_unlearn.core.lm`), the rules of the
lm-eval tasks, so the report's numbers mean what the tasks' numbers mean.
"""

from __future__ import annotations

import math
from typing import Sequence

from freq_unlearn.core.answers import contains_answer
from freq_unlearn.core.lm import continuation_logprobs, greedy_continuations
from freq_unlearn.core.schema import QA_PROMPT


def prompt_for(question: str) -> str:
    return QA_PROMPT.format(question=question)


def greedy_answers(model, tokenizer, questions: Sequence[str], max_new_tokens: int = 12,
                   batch_size: int = 64) -> list[str]:
    """Greedy continuations of the QA prompts, cut at the first newline."""
    return greedy_continuations(model, tokenizer, [prompt_for(q) for q in questions], max_new_tokens,
                                until=("\n",), batch_size=batch_size)


def score_facts(model, tokenizer, facts, batch_size: int = 64):
    """Per-fact knowledge: a copy of `facts` (DataFrame) with continuation, correct, logprob."""
    questions, answers = list(facts["question"]), list(facts["answer"])
    scores = continuation_logprobs(model, tokenizer, [(prompt_for(q), " " + a) for q, a in zip(questions, answers)],
                                   batch_size)
    conts = greedy_answers(model, tokenizer, questions, batch_size=batch_size)
    out = facts.copy()
    out["continuation"] = conts
    out["correct"] = [contains_answer(a, c) for c, a in zip(conts, answers)]
    out["answer_logprob"] = [lp for lp, _ in scores]
    out["answer_prob"] = [math.exp(lp) for lp, _ in scores]
    out["answer_tokens"] = [n for _, n in scores]
    return out
