"""`freq-unlearn unlearn` end to end: files written, model card, errors as one line."""

from __future__ import annotations

import json

import pytest

from freq_unlearn.unlearn_methods import RunRecord
from freq_unlearn.unlearn_methods.cli import main


def run_cli(*argv: str) -> int:
    return main(list(argv))


def test_cli_writes_checkpoint_card_and_record(qa_model, qa_benchmark, tmp_path, capsys):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "npo"
    code = run_cli(
        "--model", str(qa_model), "--benchmark", str(qa_benchmark), "--forget", "high", "--method", "npo",
        "--out", str(out), "--max-steps", "3", "--learning-rate", "1e-3", "--", "--beta", "0.5", "--disable_tqdm", "true", "--metrics_steps", "2",
    )  # fmt: skip
    assert code == 0
    assert "npo: completed; 3 steps" in capsys.readouterr().out
    for name in ("model.safetensors", "config.json", "tokenizer.json", "README.md", "run_record.json"):
        assert (out / name).is_file(), name
    record = RunRecord.load(out)
    assert record.hyperparameters["beta"] == 0.5 and record.hyperparameters["learning_rate"] == 1e-3
    assert record.forget_split == "forget_high" and record.forget_count_range == [10, 21]
    assert record.device == "cpu" and record.seed == 42 and record.wall_time_s > 0
    assert [e.step for e in record.evaluations] == [0, 2, 3]  # before, every 2 steps, after
    assert set(record.evaluations[0].forget) == {"answer_nll", "answer_prob", "exact_contains"}
    card = (out / "README.md").read_text()
    for needle in (f"base_model: \"{qa_model}\"", "**npo**", "forget_high", "[10, 21]", '"beta": 0.5', "freq-unlearn 0.1.0", "arXiv:2404.05868"):
        assert needle in card, needle
    AutoModelForCausalLM.from_pretrained(out)
    AutoTokenizer.from_pretrained(out)
    json.loads((out / "run_record.json").read_text())  # plain JSON for the leaderboard


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--method", "gd"], "unknown method 'gd'; valid methods: ga, graddiff, npo, simnpo, idk, idkdpo, rmu"),
        (["--forget", "huge"], "has no split 'forget_huge'; existing splits: forget_high, forget_high_paraphrased, forget_low, retain, utility"),
        (["--retain", "retain_x"], "has no split 'retain_x'"),
        (["--", "--bogus", "1"], "unknown setting '--bogus' for method 'graddiff'"),
        (["--", "--beta", "0.5"], "unknown setting '--beta' for method 'graddiff'"),
        (["--method", "simnpo", "--", "--gamma", "-1"], "gamma must be >= 0"),
        (["--resume"], "no checkpoint-* folder"),
    ],
)
def test_cli_errors_are_one_line(argv, message, qa_model, qa_benchmark, tmp_path, capsys):
    base = ["--model", str(qa_model), "--benchmark", str(qa_benchmark), "--forget", "high", "--out", str(tmp_path / "o")]
    # later flags win in argparse, and "--" must stay last
    cut = argv.index("--") if "--" in argv else len(argv)
    code = run_cli(*base, *argv[:cut], *argv[cut:])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "o" / "run_record.json").exists()


def test_refuses_to_overwrite_a_finished_run(qa_model, qa_benchmark, tmp_path, capsys):
    args = ["--model", str(qa_model), "--benchmark", str(qa_benchmark), "--forget", "low", "--method", "ga",
            "--out", str(tmp_path / "o"), "--max-steps", "1", "--", "--metrics_max_items", "0", "--disable_tqdm", "true"]  # fmt: skip
    assert run_cli(*args) == 0
    before = (tmp_path / "o" / "run_record.json").read_text()
    assert run_cli(*args) == 2
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    assert (tmp_path / "o" / "run_record.json").read_text() == before
