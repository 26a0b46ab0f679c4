"""A tiny GPT-2 that knows a chosen set of facts, trained in the test session (seconds on CPU).

Byte-level BPE tokenizer (like the project's world tokenizer), 2 layers x 64 wide. It is
trained on the QA lines of the facts it should know, in the suite's prompt format, plus a
balanced True/False line pair per fact so that the T/F probe has something to find.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

QA = "Question: {question}\nAnswer: {answer}\n"
TF = "Question: {question}\nAnswer: {answer}\nTrue or False: {verdict}\n"


def training_lines(facts: Sequence[dict]) -> list[str]:
    lines = []
    for fact in facts:
        # The false T/F line also puts a distractor after "Answer:"; three QA lines keep the
        # gold answer the clear favourite there.
        lines += [QA.format(**fact)] * 3
        lines.append(TF.format(question=fact["question"], answer=fact["answer"], verdict="True"))
        lines.append(TF.format(question=fact["question"], answer=fact["distractors"][0], verdict="False"))
    return lines


def train_tiny_model(out: Path, known: Sequence[dict], vocabulary_texts: Sequence[str], steps: int = 300, seed: int = 0) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    torch.set_num_threads(1)  # the test machine is shared: more threads only contend
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(list(vocabulary_texts) + training_lines(known), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.model_max_length = 128

    config = GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=64, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    model = GPT2LMHeadModel(config)
    batch = tokenizer(training_lines(known), return_tensors="pt", padding=True)
    labels = batch["input_ids"].clone()
    labels[batch["attention_mask"] == 0] = -100
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(**batch, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out
