"""A real tiny model through lm-eval: a model that knows a fact scores high in both views, one
that does not scores low; then the aggregates from the logged samples, via `evaluate`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from freq_unlearn.tasks import evaluate_module_path
from freq_unlearn.tasks.evaluation import records_from_samples, task_names
from freq_unlearn.tasks.evaluate_support import INPUT_COLUMNS
from freq_unlearn.tasks.pairing import pair

TASKS = [f"freq_unlearn_synthetic_{s}_{v}" for s in ("forget_high", "forget_low") for v in ("gen", "ll")]


@pytest.fixture(scope="module")
def before_run(sanity_bench, knowing_model, task_manager_factory):
    """The knowing model's lm-eval run, computed once and shared by pytest-xdist workers."""
    import json

    from filelock import FileLock

    import hashlib

    key = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    cached = knowing_model.parent / f"{knowing_model.name}-before-run-{key}.json"
    with FileLock(str(cached) + ".lock"):
        if not cached.exists():
            from lm_eval import simple_evaluate

            tm = task_manager_factory(sanity_bench, pretrained=str(knowing_model))
            out = simple_evaluate(model="hf", model_args={"pretrained": str(knowing_model)}, device="cpu",
                                  tasks=TASKS, task_manager=tm, batch_size=8, log_samples=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_text(json.dumps({"results": out["results"], "samples": out["samples"]}, default=str))
            tmp.replace(cached)
    return json.loads(cached.read_text())


def test_known_facts_score_high_unknown_low(before_run):
    r = before_run["results"]
    high_gen, high_ll = r["freq_unlearn_synthetic_forget_high_gen"], r["freq_unlearn_synthetic_forget_high_ll"]
    low_gen, low_ll = r["freq_unlearn_synthetic_forget_low_gen"], r["freq_unlearn_synthetic_forget_low_ll"]
    # generation view
    assert high_gen["contains,none"] == 1.0 and high_gen["rougeL_recall,none"] == 1.0
    assert low_gen["contains,none"] == 0.0 and low_gen["rougeL_recall,none"] == 0.0
    # probability view
    assert high_ll["mc_acc,none"] == 1.0 and low_ll["mc_acc,none"] == 0.0
    assert high_ll["logprob,none"] > low_ll["logprob,none"] + 2.0
    assert high_ll["logprob,none"] > -1.0


def test_per_token_uses_the_model_tokenizer(before_run, knowing_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(knowing_model))
    sample = before_run["samples"]["freq_unlearn_synthetic_forget_low_ll"][0]
    prompt = f"Question: {sample['doc']['question']}\nAnswer:"
    n = len(tok(prompt + " " + sample["doc"]["answer"])["input_ids"]) - len(tok(prompt)["input_ids"])
    assert n > 1  # the unseen city is split into several tokens
    assert sample["logprob_per_token"] == pytest.approx(sample["logprob"] / n)


def _records(run):
    return records_from_samples(run["samples"], task_names(("forget_high", "forget_low")))


def test_aggregates_from_samples_through_evaluate(before_run, sanity_bench, task_manager_factory):
    import evaluate
    from lm_eval import simple_evaluate

    tm = task_manager_factory(sanity_bench)
    after = simple_evaluate(model="dummy", tasks=TASKS, task_manager=tm, log_samples=True)
    paired = pair(_records(before_run), _records(after))
    assert len(paired) == 8
    columns = {c: paired[c].tolist() for c in INPUT_COLUMNS}

    retention = evaluate.load(str(evaluate_module_path("freq_unlearn_retention")))
    r = retention.compute(**columns, n_resamples=99)
    # The sanity model knows the 4 high facts; the majority answer (each city once) explains one of them.
    assert r["known/qa/high"]["value"] == 3 and r["known/qa/low"]["value"] == 0
    assert r["retention_gen/qa/high"]["value"] == 0.0  # the dummy model answers "lol"
    assert r["retention_gen/qa/low"]["value"] is None  # nothing known before: undefined, not 0

    slope = evaluate.load(str(evaluate_module_path("freq_unlearn_frequency_gap")))
    assert set(slope.compute(**columns, n_resamples=9)) == {"slope/qa/logprob", "slope/qa/margin", "slope/qa/rouge"}

    forgetting = evaluate.load(str(evaluate_module_path("freq_unlearn_forgetting")))
    f = forgetting.compute(**columns, n_resamples=9)
    assert f["forgetting/qa/high/rouge"]["value"] == 1.0  # every high answer was right, none is now


def test_report_cli_reads_log_samples_files(before_run, sanity_bench, task_manager_factory, tmp_path, capsys):
    """Samples written by lm-eval's own EvaluationTracker (what --log_samples writes) -> tasks-report."""
    import argparse
    import copy
    import json

    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    from freq_unlearn.tasks import cli

    after = simple_evaluate(model="dummy", tasks=TASKS, task_manager=task_manager_factory(sanity_bench), log_samples=True)
    for name, run in (("before", before_run), ("after", after)):
        (tmp_path / name).mkdir()
        tracker = EvaluationTracker(output_path=str(tmp_path / name / "results.json"))  # samples go beside it
        tracker.save_results_aggregated(results={k: v for k, v in run.items() if k != "samples"}, samples=run["samples"])
        for task, samples in run["samples"].items():
            tracker.save_results_samples(task, copy.deepcopy(samples))
    assert len(list((tmp_path / "before").rglob("samples_*.jsonl"))) == len(TASKS)

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    out = tmp_path / "report.json"
    args = parser.parse_args(["tasks-report", "--before", str(tmp_path / "before"), "--after", str(tmp_path / "after"),
                              "--bootstrap", "49", "--out", str(out)])
    assert args.func(args) == 0
    assert "8 items" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["retention_gen/qa/high"]["value"] == 0.0 and report["known/qa/high"]["value"] == 3
    assert {"slope/qa/logprob", "misalignment/qa/high", "disagreement/qa/high", "forgetting/qa/low/margin"} <= set(report)

    args = parser.parse_args(["tasks-report", "--before", str(tmp_path / "nope"), "--after", str(tmp_path / "after")])
    assert args.func(args) == 2
    assert "does not exist" in capsys.readouterr().err
