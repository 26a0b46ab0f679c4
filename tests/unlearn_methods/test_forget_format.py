"""forget_format: the forget data as QA pairs, biography sentences (bio_prefix + " " + answer), or both."""

from __future__ import annotations

import pytest

from freq_unlearn.unlearn_methods import UnlearnInputError, build_config, unlearn
from freq_unlearn.unlearn_methods.data import PairedQADataset, load_benchmark_splits


def _answer_text(tok, example):
    return tok.decode([t for t, l in zip(example["input_ids"], example["labels"]) if l != -100])


@pytest.mark.parametrize("forget_format", ["qa", "bio", "both"])
def test_forget_examples_per_format(random_model, bio_benchmark, forget_format):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(random_model)
    split = load_benchmark_splits(str(bio_benchmark), ["forget_high"])["forget_high"]
    ds = PairedQADataset(tok, split, None, max_length=64, seed=0, forget_format=forget_format)
    n = len(split)
    qa = [f"Question: {q}\nAnswer: {a}" for q, a in zip(split["question"], split["answer"])]
    bio = [f"{p} {a}" for p, a in zip(split["bio_prefix"], split["answer"])]
    expected = {"qa": qa, "bio": bio, "both": qa + bio}[forget_format]
    assert len(ds) == len(expected) == n * (2 if forget_format == "both" else 1)
    assert [tok.decode(ds[i]["forget"]["input_ids"]) for i in range(len(ds))] == expected
    # the loss sits on the answer tokens only, in every format
    assert [_answer_text(tok, ds[i]["forget"]) for i in range(len(ds))] == [" " + a for a in split["answer"]] * (len(ds) // n)


def test_a_bio_run_records_its_format_and_lowers_the_bio_answer(qa_model, bio_benchmark, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from freq_unlearn.unlearn_methods.data import PairedCollator
    from freq_unlearn.unlearn_methods.logprobs import sequence_logprobs

    out = tmp_path / "bio"
    record = unlearn(model=str(qa_model), benchmark=str(bio_benchmark), forget="high", method="ga", out=out,
                     forget_format="bio", max_steps=4, learning_rate=1e-3, metrics_max_items=0, progress=False)  # fmt: skip
    assert record.status == "completed" and record.hyperparameters["forget_format"] == "bio"
    assert "| forget data | bio |" in (out / "README.md").read_text()

    tok = AutoTokenizer.from_pretrained(qa_model)
    split = load_benchmark_splits(str(bio_benchmark), ["forget_high"])["forget_high"]
    ds = PairedQADataset(tok, split, None, max_length=64, seed=0, forget_format="bio")
    batch = PairedCollator(tok.pad_token_id)([ds[i] for i in range(len(ds))])["forget"]

    def bio_logp(folder):
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
        with torch.no_grad():
            return sequence_logprobs(model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits, batch["labels"])[0].mean().item()

    assert bio_logp(out) < bio_logp(qa_model) - 1.0  # gradient ascent on the biography sentences' answers


def test_bio_without_the_column_is_one_line_naming_benchmark_and_split(qa_model, qa_benchmark, tmp_path):
    out = tmp_path / "never"
    with pytest.raises(UnlearnInputError) as err:
        unlearn(model=str(qa_model), benchmark=str(qa_benchmark), forget="high", method="ga", out=out, forget_format="both")
    message = str(err.value)
    assert "\n" not in message and str(qa_benchmark) in message and "'forget_high'" in message and "'bio_prefix'" in message
    assert not out.exists()


@pytest.mark.parametrize("method", ["idk", "idkdpo"])
def test_refusal_methods_take_qa_only(method, tmp_path):
    assert build_config(method, tmp_path, forget_format="qa").forget_format == "qa"
    with pytest.raises(UnlearnInputError, match="trains toward a refusal, which has no biography form") as err:
        build_config(method, tmp_path, forget_format="bio")
    assert "\n" not in str(err.value)


def test_cli_flag(qa_model, qa_benchmark, tmp_path, capsys):
    from freq_unlearn.unlearn_methods.cli import main

    argv = ["--model", str(qa_model), "--benchmark", str(qa_benchmark), "--forget", "low", "--method", "ga",
            "--out", str(tmp_path / "x"), "--forget-format", "bio"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'forget_low' has no column 'bio_prefix'" in err


def test_a_fact_without_a_biography_prompt_gets_no_bio_sentence_and_keeps_its_weight():
    """An attribute that opens its sentence has an empty bio_prefix: an empty prompt would leave a
    one-token answer with no predicted token (SimNPO divided 0 by 0 and the demo's runs stopped at
    step 3 with a NaN loss). Count weights stay with their fact when bio sentences are skipped."""
    import torch
    from transformers import PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models, pre_tokenizers

    from freq_unlearn.unlearn_methods.data import completion_pairs
    from freq_unlearn.unlearn_methods.simnpo import simnpo_loss

    forget = {"question": ["Where was A born?", "Who employed B?"], "answer": ["Paris", "Acme"],
              "bio_prefix": ["A was born in", ""]}
    pairs = completion_pairs(forget, "both")
    assert [(i, p) for i, p, _ in pairs] == [(0, "Question: Where was A born?\nAnswer:"),
                                             (1, "Question: Who employed B?\nAnswer:"), (0, "A was born in")]
    words = ["Question:", "Where", "was", "A", "born?", "Answer:", "Who", "employed", "B?", "Paris", "Acme", "born", "in"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(["[UNK]"] + words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    data = PairedQADataset(tokenizer, forget, None, max_length=32, seed=0, forget_format="both")
    data.set_forget_weights([1.0, 3.0])
    assert [ex["weight"] for ex in data.forget] == [1.0, 3.0, 1.0]
    assert all(sum(label != -100 for label in ex["labels"][1:]) >= 1 for ex in data.forget)
    assert torch.isfinite(simnpo_loss(torch.tensor([-2.0]), torch.tensor([1.0]), 2.5, 0.0))
