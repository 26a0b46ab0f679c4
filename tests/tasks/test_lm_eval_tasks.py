"""lm-eval's generic task checks for every task, and a --model dummy run over all of them."""

from __future__ import annotations

from itertools import islice

import pytest

from freq_unlearn.core import schema

QA_TASKS = [schema.task_name("synthetic", s, v) for s in schema.BENCHMARK_SPLITS for v in schema.VARIANTS]
BIO_TASKS = [schema.task_name("synthetic", s, v, "bio") for s in schema.BENCHMARK_SPLITS if s not in schema.PARAPHRASED_SPLITS
             for v in schema.VARIANTS]
ALL_DEFAULT = QA_TASKS + BIO_TASKS
LIMIT = 10


@pytest.fixture(scope="module")
def loaded_tasks(tiny_bench, task_manager_factory):
    tm = task_manager_factory(tiny_bench)
    names = tm.match_tasks(["freq_unlearn_*"])
    assert sorted(names) == sorted(ALL_DEFAULT)
    return tm.load(names)["tasks"]


def test_generic_checks_for_every_task(loaded_tasks):
    """The checks of lm-eval's tests/test_tasks.py (TestBaseTasks), applied to each task."""
    assert set(loaded_tasks) == set(ALL_DEFAULT)
    for name, task in loaded_tasks.items():
        task.download()
        assert task.dataset is not None
        assert task.has_training_docs() in (True, False) and not task.has_training_docs()
        assert task.has_validation_docs() in (True, False)
        assert task.has_test_docs() and task._config["test_split"] is not None
        assert task.should_decontaminate() in (True, False)
        docs = list(islice(task.test_docs(), LIMIT))
        assert docs, name
        delimiter = task.config.target_delimiter
        for doc in docs:
            text = task.doc_to_text(doc)
            assert isinstance(text, str) and text and not text[-1].isspace(), name
            target = task.doc_to_target(doc)
            assert isinstance(target, str) and target.startswith(" ") and delimiter == "", name
        if "multiple_choice" in task._config.output_type:
            choices = [task.doc_to_choice(d) for d in docs]
            assert all(isinstance(c, list) and isinstance(c[0], str) for c in choices)
        task.build_all_requests(rank=1, limit=LIMIT, world_size=1)
        assert task.instances
        requests = [task.construct_requests(doc=d, ctx=task.doc_to_text(d)) for d in docs]
        assert len(requests) == len(docs)


def test_request_shapes(loaded_tasks):
    gen = loaded_tasks["freq_unlearn_synthetic_forget_low_gen"]
    doc = next(iter(gen.test_docs()))
    request = gen.construct_requests(doc=doc, ctx=gen.doc_to_text(doc))
    assert request.request_type == "generate_until"
    context, kwargs = request.arguments
    assert context == f"Question: {doc['question']}\nAnswer:"
    assert kwargs["until"] == ["\n", "Question:"] and kwargs["do_sample"] is False

    ll = loaded_tasks["freq_unlearn_synthetic_forget_low_ll"]
    requests = ll.construct_requests(doc=doc, ctx=ll.doc_to_text(doc))
    # The synthetic corpus teaches no True/False statements: no T/F requests, only the 4 candidates.
    assert [r.request_type for r in requests] == ["loglikelihood"] * 4
    continuations = [r.arguments[1] for r in requests]
    assert continuations == [" " + doc["answer"]] + [" " + d for d in doc["distractors"][:3]]

    bio_gen = loaded_tasks["freq_unlearn_synthetic_forget_low_bio_gen"]
    bio_doc = next(iter(bio_gen.test_docs()))
    request = bio_gen.construct_requests(doc=bio_doc, ctx=bio_gen.doc_to_text(bio_doc))
    context, kwargs = request.arguments
    assert context == bio_doc["bio_prefix"] == f"{bio_doc['subject']} was born in"
    assert kwargs["until"] == ["\n", ". "]
    bio_ll = loaded_tasks["freq_unlearn_synthetic_forget_low_bio_ll"]
    requests = bio_ll.construct_requests(doc=bio_doc, ctx=bio_ll.doc_to_text(bio_doc))
    assert [r.arguments for r in requests][0] == (bio_doc["bio_prefix"], " " + bio_doc["answer"])


def test_dummy_model_over_all_tasks(tiny_bench, task_manager_factory):
    from lm_eval import simple_evaluate

    tm = task_manager_factory(tiny_bench)
    out = simple_evaluate(model="dummy", tasks=tm.match_tasks(["freq_unlearn_*"]), task_manager=tm, log_samples=True)
    results = out["results"]
    assert set(results) == set(ALL_DEFAULT)
    for name in ALL_DEFAULT:
        metrics = ("rougeL_recall", "contains") if name.endswith("_gen") else ("logprob", "logprob_per_token", "mc_margin", "mc_acc")
        for metric in metrics:
            assert f"{metric},none" in results[name], (name, metric)
        assert len(out["samples"][name]) == 3
    # the dummy model answers "lol": the generation view finds nothing
    assert results["freq_unlearn_synthetic_retain_gen"]["contains,none"] == 0.0
    assert results["freq_unlearn_synthetic_retain_ll"]["logprob,none"] < 0


def test_groups_aggregate_by_size(tiny_bench, task_manager_factory):
    from lm_eval import simple_evaluate

    tm = task_manager_factory(tiny_bench)
    out = simple_evaluate(model="dummy", tasks=["freq-unlearn-synthetic-gen"], task_manager=tm)
    assert out["results"]["freq-unlearn-synthetic-gen"]["contains,none"] == 0.0
    assert "rougeL_recall,none" in out["results"]["freq-unlearn-synthetic-gen"]
