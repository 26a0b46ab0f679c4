"""The count-aware method: weights by hand, the loss by hand, counts change the update, a real run forgets."""

from __future__ import annotations

import math

import pytest
import torch

from freq_unlearn.unlearn_methods import UnlearnInputError, unlearn
from freq_unlearn.unlearn_methods.countaware import count_weighted_ga_loss, count_weighted_npo_loss, count_weights


def test_count_weights_by_hand():
    got = count_weights([1, 10, 0, 1e9, 3], reference=1.0, power=1.0, max_weight=10.0)
    assert got == pytest.approx([1.0, math.log(11) / math.log(2), 0.1, 10.0, 2.0])
    assert count_weights([10, 100], power=0.0) == [1.0, 1.0]  # power 0: the base method
    assert count_weights([3], reference=3.0, power=2.0) == pytest.approx([1.0])


def test_losses_by_hand():
    logp, ref, w = torch.tensor([-1.0, -2.0]), torch.tensor([-0.5, -0.5]), torch.tensor([1.0, 3.0])
    beta = 0.1
    per = [-(2 / beta) * math.log(1 / (1 + math.exp(beta * (lp - rp)))) for lp, rp in ((-1.0, -0.5), (-2.0, -0.5))]
    assert count_weighted_npo_loss(logp, ref, w, beta).item() == pytest.approx((1.0 * per[0] + 3.0 * per[1]) / 2, rel=1e-6)
    # GA: per-item token means, weighted: ((-2/2) * 1 + (-6/3) * 2) / 2
    assert count_weighted_ga_loss(torch.tensor([-2.0, -6.0]), torch.tensor([2.0, 3.0]), torch.tensor([1.0, 2.0])).item() == pytest.approx(-2.5)


def _trainer_and_grad(model_dir, tmp_path, count, base_loss):
    from freq_unlearn.unlearn_methods.api import build_config, load_model_and_tokenizer
    from freq_unlearn.unlearn_methods.countaware import CountAwareTrainer
    from freq_unlearn.unlearn_methods.data import PairedCollator

    args = build_config("countaware", tmp_path / f"c{count}{base_loss}", base_loss=base_loss, retain_weight=0.0,
                        disable_tqdm=True, metrics_max_items=0)  # fmt: skip
    model, tok = load_model_and_tokenizer(str(model_dir))
    rows = {"question": ["Where was Ava Lind born?"], "answer": ["Tarn"], "count": [count]}
    data = CountAwareTrainer.build_train_dataset(tok, rows, None, args)
    trainer = CountAwareTrainer(model=model, args=args, train_dataset=data, processing_class=tok)
    batch = PairedCollator(tok.pad_token_id)([data[0]])
    if base_loss == "npo":  # move off the reference first, so that NPO's gradient is not the same at both counts by symmetry
        with torch.no_grad():
            for p in trainer.model.parameters():
                p.add_(0.01 * torch.randn_like(p, generator=torch.Generator().manual_seed(0)))
    trainer.model.zero_grad()
    trainer.compute_loss(trainer.model, batch).backward()
    return torch.cat([p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None])


@pytest.mark.parametrize("base_loss", ["npo", "ga"])
def test_two_items_differing_only_in_count_get_different_gradients(random_model, tmp_path, base_loss):
    once, ten = _trainer_and_grad(random_model, tmp_path, 1, base_loss), _trainer_and_grad(random_model, tmp_path, 10, base_loss)
    assert not torch.allclose(once, ten)
    torch.testing.assert_close(ten, once * (math.log(11) / math.log(2)), rtol=1e-4, atol=1e-6)  # scaled by the weight


def test_a_benchmark_without_counts_is_one_line(qa_model, nocount_benchmark, tmp_path):
    out = tmp_path / "never"
    with pytest.raises(UnlearnInputError) as err:
        unlearn(model=str(qa_model), benchmark=str(nocount_benchmark), forget="high", method="countaware", out=out)
    message = str(err.value)
    assert "\n" not in message and str(nocount_benchmark) in message and "'forget_high' has no column 'count'" in message
    assert not out.exists()


def test_a_run_on_the_tiny_world_lowers_forget_probability(tiny_model, tiny_benchmark, tmp_path):
    record = unlearn(model=str(tiny_model), benchmark=str(tiny_benchmark), forget="high", method="countaware",
                     out=tmp_path / "ca", max_steps=6, learning_rate=1e-3, metrics_max_items=32, progress=False,
                     save_strategy="no")  # fmt: skip
    before, after = record.evaluations[0], record.evaluations[-1]
    assert record.status == "completed" and record.hyperparameters["base_loss"] == "npo"
    assert after.forget["answer_prob"] < before.forget["answer_prob"]
    assert after.forget["answer_nll"] > before.forget["answer_nll"]


def test_step_scaling_scales_the_learning_rate_by_the_mean_weight_and_keeps_relative_weights(random_model, tmp_path):
    from freq_unlearn.unlearn_methods.api import build_config, load_model_and_tokenizer
    from freq_unlearn.unlearn_methods.countaware import CountAwareTrainer

    rows = {"question": ["Where was Ava Lind born?", "Where was Bo Tarn born?"], "answer": ["Tarn", "Lind"], "count": [1, 10]}
    weights = count_weights([1, 10])
    lrs = {}
    for scaling in ("loss", "step"):
        args = build_config("countaware", tmp_path / scaling, retain_weight=0.0, disable_tqdm=True, metrics_max_items=0,
                            learning_rate=1e-4, count_scaling=scaling)
        model, tok = load_model_and_tokenizer(str(random_model))
        data = CountAwareTrainer.build_train_dataset(tok, rows, None, args)
        trainer = CountAwareTrainer(model=model, args=args, train_dataset=data, processing_class=tok)
        lrs[scaling] = {g["lr"] for g in trainer.create_optimizer().param_groups}
        got = sorted(float(data[i]["forget"]["weight"]) for i in range(len(data)))
        expected = sorted(weights) if scaling == "loss" else sorted(w / (sum(weights) / 2) for w in weights)
        assert got == pytest.approx(expected)
    assert lrs["loss"] == {1e-4}
    assert len(lrs["step"]) == 1 and lrs["step"].pop() == pytest.approx(1e-4 * sum(weights) / 2)
    with pytest.raises(ValueError, match="count_scaling"):
        build_config("countaware", tmp_path / "bad", count_scaling="sometimes")
