"""Each loss against its formula on hand-computable cases, through the pure function and the trainer."""

from __future__ import annotations

import math

import pytest
import torch

from freq_unlearn.core.schema import REFUSAL
from freq_unlearn.unlearn_methods.data import PairedCollator, PairedQADataset, encode_qa
from freq_unlearn.unlearn_methods.ga import ga_loss
from freq_unlearn.unlearn_methods.idkdpo import idk_preference_rows
from freq_unlearn.unlearn_methods.logprobs import sequence_logprobs
from freq_unlearn.unlearn_methods.npo import npo_loss
from freq_unlearn.unlearn_methods.rmu import answer_positions, masked_mse, rmu_loss
from freq_unlearn.unlearn_methods.simnpo import simnpo_loss


def test_sequence_logprobs_by_hand():
    # vocab 2, uniform logits at every position: each labelled token has log p = ln(1/2).
    logits = torch.zeros(1, 4, 2)
    labels = torch.tensor([[-100, -100, 1, 0]])
    logp, n = sequence_logprobs(logits, labels)
    assert n.tolist() == [2.0]
    assert logp.item() == pytest.approx(2 * math.log(0.5))


def test_ga_is_negated_mean_answer_nll():
    logp, n = torch.tensor([-2.0, -4.0]), torch.tensor([1.0, 3.0])
    assert ga_loss(logp, n).item() == pytest.approx(-(2.0 + 4.0) / 4.0)


def test_npo_equals_two_over_beta_ln2_when_model_is_reference():
    logp = torch.tensor([-3.0, -0.5, -7.0])
    for beta in (0.1, 1.0, 2.5):
        assert npo_loss(logp, logp.clone(), beta).item() == pytest.approx(2 / beta * math.log(2))


def test_npo_by_hand_and_gradient_pushes_logp_down():
    logp = torch.tensor([-1.0], requires_grad=True)
    ref = torch.tensor([-2.0])
    beta = 0.5
    loss = npo_loss(logp, ref, beta)
    expected = -(2 / beta) * math.log(1 / (1 + math.exp(beta * 1.0)))  # log sigmoid(-beta * 1)
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    assert logp.grad.item() > 0  # descending the loss lowers log p of the forget answer


def test_simnpo_length_normalized_with_gamma_by_hand():
    logp, n = torch.tensor([-2.0, -6.0]), torch.tensor([2.0, 3.0])
    beta, gamma = 2.0, 0.5
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    per_item = [-(2 / beta) * math.log(sig(-(beta / ni) * li - gamma)) for li, ni in ((-2.0, 2.0), (-6.0, 3.0))]
    assert simnpo_loss(logp, n, beta, gamma).item() == pytest.approx(sum(per_item) / 2)
    # length normalisation: doubling both the log-prob and the length leaves the loss unchanged
    assert simnpo_loss(2 * logp, 2 * n, beta, gamma).item() == pytest.approx(simnpo_loss(logp, n, beta, gamma).item())


def test_rmu_mse_terms_by_hand():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    control = torch.tensor([0.0, 0.0])
    mask = torch.tensor([[True, False]])
    assert masked_mse(hidden, control, mask).item() == pytest.approx((1 + 4) / 2)
    frozen = torch.tensor([[[1.0, 2.0], [1.0, 2.0]]])
    total, forget, retain = rmu_loss(hidden, mask, control, hidden, frozen, torch.tensor([[True, True]]), alpha=10.0)
    assert retain.item() == pytest.approx((0 + (4 + 4) / 2) / 2)  # positions: 0 and 4 -> mean 2
    assert total.item() == pytest.approx(forget.item() + 10.0 * retain.item())
    labels = torch.tensor([[-100, -100, 5, 6]])
    assert answer_positions(labels).tolist() == [[False, True, True, False]]


def _batch(model_dir, answers=None, n=4):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    rows = {"question": [f"Where was Ava Lind{i} born?" for i in range(n)], "answer": ["Tarn", "Velo", "Osk", "Quist"][:n]}
    ds = PairedQADataset(tok, rows, rows, max_length=64, seed=0, forget_answers=answers)
    return tok, PairedCollator(tok.pad_token_id)([ds[i] for i in range(n)])


def _trainer(method, model_dir, tmp_path, **overrides):
    from freq_unlearn.unlearn_methods.api import build_config, load_model_and_tokenizer
    from freq_unlearn.unlearn_methods.registry import get_method

    spec = get_method(method)
    args = build_config(method, tmp_path / method, disable_tqdm=True, metrics_max_items=0, **overrides)
    model, tok = load_model_and_tokenizer(str(model_dir))
    return spec.trainer_class(model=model, args=args, train_dataset=[], processing_class=tok)


def test_answer_only_labels_decode_to_the_answer(random_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(random_model)
    enc = encode_qa(tok, "Where was Ava Lind born?", "Tarn", max_length=64)
    answer_ids = [t for t, l in zip(enc["input_ids"], enc["labels"]) if l != -100]
    assert tok.decode(answer_ids) == " Tarn"
    assert tok.decode(enc["input_ids"]) == "Question: Where was Ava Lind born?\nAnswer: Tarn"


def test_ga_trainer_loss_is_negated_model_nll(random_model, tmp_path):
    trainer = _trainer("ga", random_model, tmp_path)
    _, batch = _batch(random_model)
    model = trainer.model
    f = batch["forget"]
    with torch.no_grad():
        expected = -model(**f).loss  # HF's token-mean NLL over the (answer-only) labels
        got = trainer.compute_loss(model, batch)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    assert "retain_loss" not in trainer.loss_terms.last  # GA has no retain term


def test_graddiff_trainer_adds_retain_nll(random_model, tmp_path):
    trainer = _trainer("graddiff", random_model, tmp_path, retain_weight=2.0)
    _, batch = _batch(random_model)
    model = trainer.model
    with torch.no_grad():
        expected = -model(**batch["forget"]).loss + 2.0 * model(**batch["retain"]).loss
        got = trainer.compute_loss(model, batch)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("beta", [0.1, 1.0])
def test_npo_trainer_first_step_is_two_over_beta_ln2(random_model, tmp_path, beta):
    trainer = _trainer("npo", random_model, tmp_path, beta=beta, retain_weight=0.0)
    _, batch = _batch(random_model)
    with torch.no_grad():
        got = trainer.compute_loss(trainer.model, batch)
    assert got.item() == pytest.approx(2 / beta * math.log(2), rel=1e-5)
    assert trainer.ref_model is not trainer.model


def test_idk_dataset_targets_the_refusal(random_model, tmp_path):
    from transformers import AutoTokenizer

    from freq_unlearn.unlearn_methods.idk import IDKTrainer

    tok = AutoTokenizer.from_pretrained(random_model)
    rows = {"question": ["Where was Ava Lind born?"], "answer": ["Tarn"]}
    args = _trainer("idk", random_model, tmp_path).args
    ds = IDKTrainer.build_train_dataset(tok, rows, rows, args)
    f = ds[0]["forget"]
    assert tok.decode([t for t, l in zip(f["input_ids"], f["labels"]) if l != -100]) == " " + REFUSAL
    r = ds[0]["retain"]
    assert tok.decode([t for t, l in zip(r["input_ids"], r["labels"]) if l != -100]).endswith(" Tarn")


def test_idkdpo_preference_rows():
    rows = idk_preference_rows(["Where was Ava born?"], ["Tarn"])
    assert rows == {"prompt": ["Question: Where was Ava born?\nAnswer:"], "chosen": [" " + REFUSAL], "rejected": [" Tarn"]}


def test_rmu_trains_only_the_chosen_blocks(random_model, tmp_path):
    trainer = _trainer("rmu", random_model, tmp_path, layer=1, update_layers="1")
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all(n.startswith("transformer.h.1.") for n in trainable)
    assert trainer.steering.norm().item() == pytest.approx(trainer.args.steering_coeff, rel=1e-5)
