"""Benchmark splits -> tokenized, answer-masked, paired forget/retain examples.

The prompt format is the one used in pre-training and by the lm-eval tasks
(`freq_unlearn.schema.QA_PROMPT`): ``"Question: {q}\\nAnswer:"`` followed by ``" {answer}"``.
The answer is tokenized the way lm-eval scores a loglikelihood target (encode prompt+answer,
cut at the prompt's length), so unlearning pushes on exactly the tokens the tasks score.

Each forget example is paired with one retain example (the paper's recipe), chosen by a seeded
permutation so that runs are reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from freq_unlearn.core.errors import UserError
from freq_unlearn.core.schema import QA_PROMPT, RETAIN_SPLIT

IGNORE_INDEX = -100


class UnlearnInputError(UserError, ValueError):
    """Bad user input (unknown method, missing split, bad setting): one line; the CLI prints it as is."""


def forget_split_name(forget: str) -> str:
    """``"high"`` -> ``"forget_high"``; a full split name passes through."""
    return forget if forget.startswith("forget_") else f"forget_{forget}"


def load_benchmark_splits(benchmark: str, splits: Sequence[str]) -> dict[str, Any]:
    """Load `splits` of a benchmark folder or Hub id with `datasets.load_dataset`.

    A missing split raises one line that lists the splits the benchmark has.
    """
    import datasets

    try:
        dd = datasets.load_dataset(str(benchmark))
    except FileNotFoundError as err:
        raise UnlearnInputError(f"benchmark {benchmark!r} not found ({err})") from None
    missing = [s for s in splits if s not in dd]
    if missing:
        raise UnlearnInputError(
            f"benchmark {benchmark!r} has no split {missing[0]!r}; existing splits: {', '.join(sorted(dd))}"
        )
    out = {}
    for s in splits:
        require_columns(benchmark, s, dd[s], ("question", "answer"))
        out[s] = dd[s]
    return out


def require_columns(benchmark: str, split: str, ds: Any, columns: Sequence[str], why: str = "") -> None:
    """One line naming the benchmark, split and first missing column."""
    for col in columns:
        if col not in ds.column_names:
            raise UnlearnInputError(f"benchmark {benchmark!r} split {split!r} has no column {col!r}{why}")


# Forget data formats: the QA pair, the biography sentence (bio_prefix + " " + answer), or both.
FORGET_FORMATS = ("qa", "bio", "both")


def forget_columns(forget_format: str) -> tuple[str, ...]:
    """Benchmark columns a forget data format needs."""
    return {"qa": ("question", "answer"), "bio": ("bio_prefix", "answer"), "both": ("question", "bio_prefix", "answer")}[forget_format]


def completion_pairs(forget: Any, forget_format: str, answers: Sequence[str] | None = None) -> list[tuple[int, str, str]]:
    """(fact index, prompt, answer) of the forget data: the QA prompt, the biography prefix, or both
    (all QA pairs first, then all biography sentences). `answers` replaces the gold answers.

    A fact whose attribute opens its biography sentence has an empty ``bio_prefix``: it has no
    biography prompt (the BIO probe skips it too), and an empty prompt would leave a one-token answer
    with no predicted token at all (0/0 in SimNPO's length normalisation), so it gets no bio pair."""
    golds = list(answers) if answers is not None else list(forget["answer"])
    pairs: list[tuple[int, str, str]] = []
    if forget_format in ("qa", "both"):
        pairs += [(i, QA_PROMPT.format(question=q), a) for i, (q, a) in enumerate(zip(forget["question"], golds))]
    if forget_format in ("bio", "both"):
        pairs += [(i, prefix, a) for i, (prefix, a) in enumerate(zip(forget["bio_prefix"], golds)) if prefix]
    return pairs


def encode_qa(
    tokenizer: Any, question: str, answer: str, max_length: int, mask_question: bool = True
) -> dict[str, list[int]]:
    """Token ids of the QA prompt + answer, and labels that are -100 outside the answer when `mask_question`."""
    return encode_completion(tokenizer, QA_PROMPT.format(question=question), answer, max_length, mask_question)


def encode_completion(
    tokenizer: Any, prompt: str, answer: str, max_length: int, mask_prompt: bool = True
) -> dict[str, list[int]]:
    """Token ids of prompt + " " + answer, and labels that are -100 outside the answer when `mask_prompt`."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(prompt + " " + answer, add_special_tokens=False)["input_ids"]
    n_prompt = len(prompt_ids)
    if full_ids[:n_prompt] != prompt_ids:  # BPE merged across the boundary: fall back to separate encoding
        full_ids = prompt_ids + tokenizer(" " + answer, add_special_tokens=False)["input_ids"]
    if len(full_ids) <= n_prompt:
        raise UnlearnInputError(f"answer {answer!r} tokenizes to nothing after its prompt {prompt!r}")
    # Keep the end (the answer) when too long: truncate the question from the left.
    cut = max(0, len(full_ids) - max_length)
    ids = full_ids[cut:]
    n_prompt = max(0, n_prompt - cut)
    labels = [IGNORE_INDEX] * n_prompt + ids[n_prompt:] if mask_prompt else list(ids)
    return {"input_ids": ids, "labels": labels}


class PairedQADataset(torch.utils.data.Dataset):
    """Item i: {"forget": forget example i, "retain": the retain example paired with it}.

    `forget_format` chooses the forget examples (`completion_pairs`): QA pairs, biography
    sentences, or both; the loss is on the answer tokens in every case. `forget_answers` replaces
    the forget answers (IDK trains toward a refusal); `retain=None` gives forget-only items.
    Retain examples are always QA pairs.
    """

    def __init__(
        self,
        tokenizer: Any,
        forget: Any,
        retain: Any | None,
        max_length: int,
        seed: int,
        mask_retain_question: bool = False,
        forget_answers: Sequence[str] | None = None,
        forget_format: str = "qa",
    ) -> None:
        pairs = completion_pairs(forget, forget_format, forget_answers)
        self.forget = [encode_completion(tokenizer, p, a, max_length) for _, p, a in pairs]
        self.fact_of = [i for i, _, _ in pairs]  # "both": a fact's QA pair and (most) bio sentences
        self.n_facts = len(forget["answer"])
        self.retain = (
            [encode_qa(tokenizer, q, a, max_length, mask_retain_question) for q, a in zip(retain["question"], retain["answer"])]
            if retain is not None and len(retain) > 0
            else None
        )
        if not self.forget:
            raise UnlearnInputError("the forget split is empty")
        self.epoch = 0
        if self.retain is not None:
            self.retain_order = [int(j) for j in np.random.default_rng(seed).permutation(len(self.retain))]

    def set_forget_weights(self, weights: Sequence[float]) -> None:
        """A loss weight per forget fact, carried in every batch as ``forget["weight"]``."""
        if len(weights) != self.n_facts:
            raise ValueError(f"{len(weights)} weights for {self.n_facts} forget facts")
        for fact, example in zip(self.fact_of, self.forget):
            example["weight"] = float(weights[fact])

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer (through accelerate) at the start of every epoch, resumed ones too."""
        self.epoch = epoch

    def retain_index(self, i: int) -> int:
        """The retain example paired with forget example i in this epoch: the pairing moves on by
        len(forget) places each epoch, so that every retain example is used when the retain split
        is larger than the forget split (the paper's code draws a random one per access)."""
        return self.retain_order[(i + self.epoch * len(self.forget)) % len(self.retain_order)]

    def __len__(self) -> int:
        return len(self.forget)

    def __getitem__(self, i: int) -> dict[str, dict[str, list[int]]]:
        item = {"forget": self.forget[i]}
        if self.retain is not None:
            item["retain"] = self.retain[self.retain_index(i)]
        return item


def pad_examples(examples: Sequence[dict[str, Any]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad input_ids (pad_id), labels (-100) and build the attention mask (+ per-item weights if set)."""
    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[row, :n] = torch.tensor(e["input_ids"])
        labels[row, :n] = torch.tensor(e["labels"])
        mask[row, :n] = 1
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    if "weight" in examples[0]:
        batch["weight"] = torch.tensor([e["weight"] for e in examples], dtype=torch.float)
    return batch


@dataclass
class PairedCollator:
    """Batches PairedQADataset items into {"forget": {...}, "retain": {...}} tensors."""

    pad_token_id: int

    def __call__(self, items: Sequence[dict[str, dict[str, list[int]]]]) -> dict[str, dict[str, torch.Tensor]]:
        return {part: pad_examples([it[part] for it in items], self.pad_token_id) for part in items[0]}


@dataclass
class QAEvalSet:
    """Forget and retain QA rows evaluated during a run (at most `max_items` of each)."""

    forget: list[dict[str, str]]
    retain: list[dict[str, str]]

    @classmethod
    def from_splits(cls, forget: Any, retain: Any | None, max_items: int) -> QAEvalSet:
        def rows(ds: Any) -> list[dict[str, str]]:
            if ds is None:
                return []
            n = min(len(ds), max_items)
            return [{"question": ds[i]["question"], "answer": ds[i]["answer"]} for i in range(n)]

        return cls(rows(forget), rows(retain))

    def __len__(self) -> int:  # Trainer wants a sized eval_dataset when eval_strategy != "no"
        return len(self.forget) + len(self.retain)


def count_range(split: Any) -> list[int]:
    """[min, max] of the split's `count` column ([0, 0] when the column is absent)."""
    if "count" not in split.column_names or len(split) == 0:
        return [0, 0]
    counts = [int(c) for c in split["count"]]
    return [min(counts), max(counts)]


__all__ = [
    "FORGET_FORMATS",
    "IGNORE_INDEX",
    "PairedCollator",
    "PairedQADataset",
    "QAEvalSet",
    "RETAIN_SPLIT",
    "UnlearnInputError",
    "completion_pairs",
    "count_range",
    "encode_completion",
    "encode_qa",
    "forget_columns",
    "forget_split_name",
    "load_benchmark_splits",
    "pad_examples",
    "require_columns",
]
