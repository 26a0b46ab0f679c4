"""A byte-level BPE tokenizer trained on a world's corpus.

Byte-level so that every string (a refusal, a user's prompt) encodes without unknown tokens and
decodes back exactly; the vocabulary is large enough that the world's words are mostly single
tokens, which keeps sequences short and training on the CPU fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from freq_unlearn import world_text
from freq_unlearn.core import schema

EOS = "<|endoftext|>"
PAD = "<|pad|>"


def _extra_texts() -> list[str]:
    # Strings the suite writes at evaluation/unlearning time, so they tokenize like corpus text.
    texts = [schema.REFUSAL, schema.QA_PROMPT.format(question="What is it?") + " It is."]
    texts += ["True", "False", "True or False?"]
    return texts


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096):
    """Train and return a `transformers.PreTrainedTokenizerFast`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )

    def all_texts() -> Iterable[str]:
        yield from texts
        yield from _extra_texts()
        # Every value the world can draw from, so vocabularies match across worlds and seeds.
        for group in (world_text.CITIES, world_text.UNIVERSITIES, world_text.COMPANIES,
                      world_text.MAJORS, world_text.MONTHS):
            yield " ".join(group)

    tok.train_from_iterator(all_texts(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, bos_token=EOS, unk_token=None, pad_token=PAD
    )
    fast.model_max_length = 1024
    return fast


def save_tokenizer(tokenizer, out: Path) -> None:
    tokenizer.save_pretrained(str(out))
