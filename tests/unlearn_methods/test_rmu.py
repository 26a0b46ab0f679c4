"""RMU reads the output of its block (not the final layer norm) and keeps its block freezing under LoRA."""

from __future__ import annotations

import pytest
import torch
from transformers import TrainerCallback

from freq_unlearn.unlearn_methods.data import PairedCollator, PairedQADataset
from freq_unlearn.unlearn_methods.rmu import block_output


def _batch(tok, facts, n=4):
    rows = {"question": [f["question"] for f in facts[:n]], "answer": [f["answer"] for f in facts[:n]]}
    ds = PairedQADataset(tok, rows, rows, max_length=64, seed=0)
    return PairedCollator(tok.pad_token_id)([ds[i] for i in range(n)])["forget"]


@pytest.mark.parametrize("n_layer", [2, 4])
def test_block_output_is_the_block_not_the_final_norm(n_layer, qa_facts, gpt2_of_depth):
    model, tok = gpt2_of_depth(n_layer)
    batch = _batch(tok, qa_facts)
    with torch.no_grad():
        states = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True).hidden_states
        outputs = [block_output(model, layer, batch) for layer in range(n_layer)]
    for layer in range(n_layer - 1):  # inner blocks: hidden_states[l + 1] is the block's output
        torch.testing.assert_close(outputs[layer], states[layer + 1])
    last = outputs[-1]  # the last entry of hidden_states is the final layer norm of the last block
    assert not torch.allclose(last, states[-1], atol=1e-3)
    torch.testing.assert_close(model.transformer.ln_f(last), states[-1])


def test_rmu_trainer_misdirects_the_last_block_output(random_model, qa_facts, tmp_path):
    """The tiny 2-block model's default layer (n // 2 = 1) is its last block."""
    from freq_unlearn.unlearn_methods.api import build_config, load_model_and_tokenizer
    from freq_unlearn.unlearn_methods.rmu import RMUTrainer

    model, tok = load_model_and_tokenizer(str(random_model))
    args = build_config("rmu", tmp_path / "rmu", disable_tqdm=True, metrics_max_items=0)
    trainer = RMUTrainer(model=model, args=args, train_dataset=[], processing_class=tok)
    assert trainer.layer == 1 == trainer.model.config.num_hidden_layers - 1
    batch = _batch(trainer.processing_class, qa_facts)
    model = trainer.model.eval()
    with torch.no_grad():
        got = trainer.hidden(model, batch)
        final = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True).hidden_states[-1]
    torch.testing.assert_close(got, block_output(model, 1, batch).float())
    torch.testing.assert_close(model.transformer.ln_f(got), final)


class GradProbe(TrainerCallback):
    """Before each optimizer step: which parameters carry a gradient, and the norm over the chosen ones."""

    def __init__(self, chosen_prefix: str) -> None:
        self.chosen_prefix = chosen_prefix
        self.with_grad: list[list[str]] = []
        self.chosen_norm: list[float] = []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        named = [(n, p) for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0]
        self.with_grad.append([n for n, _ in named])
        chosen = [p.grad for n, p in named if self.chosen_prefix in n]
        self.chosen_norm.append(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in chosen])).item())


def test_rmu_lora_keeps_the_block_freeze_across_reference_passes(qa_model, qa_benchmark, tmp_path):
    from freq_unlearn.unlearn_methods.api import add_lora, build_config, load_model_and_tokenizer
    from freq_unlearn.unlearn_methods.data import load_benchmark_splits
    from freq_unlearn.unlearn_methods.rmu import RMUTrainer

    args = build_config("rmu", tmp_path / "rmu", lora=True, lora_r=4, layer=1, update_layers="1", alpha=10.0,
                        steering_coeff=20.0, max_steps=3, learning_rate=1e-2, max_grad_norm=1e9,
                        metrics_max_items=0, disable_tqdm=True, save_strategy="no")  # fmt: skip
    model, tok = load_model_and_tokenizer(str(qa_model))
    splits = load_benchmark_splits(str(qa_benchmark), ["forget_high", "retain"])
    data = RMUTrainer.build_train_dataset(tok, splits["forget_high"], splits["retain"], args)
    probe = GradProbe("transformer.h.1.")
    trainer = RMUTrainer(model=add_lora(model, args), args=args, train_dataset=data, processing_class=tok, callbacks=[probe])
    trainer.train()
    assert len(probe.with_grad) == 3
    for names in probe.with_grad:  # every step, only block 1's adapters receive gradients
        assert names and all("transformer.h.1." in n and "lora_" in n for n in names)
    logged = [h["grad_norm"] for h in trainer.state.log_history if "grad_norm" in h]
    assert logged == pytest.approx(probe.chosen_norm, rel=1e-4)
