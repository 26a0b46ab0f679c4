"""The Python behind the task YAMLs (reached through ``!function freq_unlearn.tasks.utils.*``).

* ``load_benchmark`` / ``load_paper_benchmark``: ``custom_dataset`` loaders; lm-eval calls them
  with the task metadata (model args and ``--metadata`` included) plus ``dataset_kwargs``.
* ``doc_to_text`` (probe ``qa``: the question in ``QA_PROMPT``) and ``doc_to_text_bio`` (probe
  ``bio``: the biography sentence up to the attribute); ``doc_to_target`` is the answer after a space.
* ``process_results_gen``: the generation view's per-item scores.
* ``ProbabilityProbeTask``: the ``*_ll`` tasks. A probability probe needs several requests per item
  (the gold answer and K-1 distractors after the context, and, where the benchmark teaches
  True/False statements, " True" / " False" after a true and a false statement), which neither
  ``loglikelihood`` (one request) nor ``multiple_choice`` (no token count, no margin) expresses;
  so the ``_ll`` YAMLs name this ``ConfigurableTask`` subclass via ``class:``, keeping dataset,
  prompt and metric configuration in YAML and overriding only ``construct_requests`` and
  ``process_results``.
* ``load_mia`` / ``doc_to_target_mia`` / ``MembershipTask``: the membership-inference tasks
  (``loglikelihood_rolling`` over one person's biography; ``scores.membership_scores``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from lm_eval.api.instance import Instance
from lm_eval.api.task import ConfigurableTask

from freq_unlearn.core.benchmark_folder import MIA_CONFIG, BenchmarkError, load_splits
from freq_unlearn.core.lm import encode_pair
from freq_unlearn.core.schema import QA_PROMPT
from freq_unlearn.tasks.benchmark_io import load_paper_split, load_split, resolve_source, warn_if_other_world
from freq_unlearn.tasks.scores import generation_scores, membership_scores, probability_scores, true_false_score

# dataset_kwargs keys carry a prefix: lm-eval passes metadata and dataset_kwargs as one set
# of keyword arguments, so plain names like "split" could collide with user metadata.
SPLIT_KEY = "freq_unlearn_split"
DATASET_KEY = "freq_unlearn_dataset"
NAME_KEY = "freq_unlearn_name"
PROBE_KEY = "freq_unlearn_probe"

DEFAULT_NUM_CHOICES = 4  # gold + 3 same-relation distractors
TF_PROMPT = "{prompt} {candidate}\nTrue or False:"


# The loaders hand lm-eval plain lists of row dicts (its eval_docs accept ``list[dict]``): lm-eval
# walks the docs several times per task, and formatting Arrow rows on every pass cost more than
# the tiny models' forward passes (benchmarks/tasks_lm_eval_overhead.py).


class DocList(list):
    """A split as a list of row dicts, with the ``features`` lm-eval reads column names from."""

    def __init__(self, dataset) -> None:
        super().__init__(dataset.to_list())
        self.features = dataset.features


def load_benchmark(**kwargs: Any) -> dict[str, DocList]:
    """custom_dataset for the freq-unlearn benchmark format (packaged, local folder or Hub id)."""
    split = kwargs[SPLIT_KEY]
    source = resolve_source(kwargs[DATASET_KEY], kwargs)
    warn_if_other_world(source, kwargs.get("pretrained"))
    return {split: DocList(load_split(source, split, probe=kwargs.get(PROBE_KEY, "qa")))}


def load_paper_benchmark(**kwargs: Any) -> dict[str, DocList]:
    """custom_dataset for the paper's Hub datasets (one config per split; question/answer/count)."""
    split = kwargs[SPLIT_KEY]
    return {split: DocList(load_paper_split(kwargs[DATASET_KEY], split, kwargs[NAME_KEY]))}


def doc_to_text(doc: Mapping[str, Any]) -> str:
    return QA_PROMPT.format(question=doc["question"])


def doc_to_text_bio(doc: Mapping[str, Any]) -> str:
    return str(doc["bio_prefix"])


def doc_to_target(doc: Mapping[str, Any]) -> str:
    # lm-eval's loglikelihood adds no delimiter: the target carries its leading space.
    return " " + str(doc["answer"])


def process_results_gen(doc: Mapping[str, Any], results: list[str]) -> dict[str, float]:
    return generation_scores(str(doc["answer"]), results[0])


def candidates(doc: Mapping[str, Any], num_choices: int) -> list[str]:
    """The gold answer first, then up to K-1 distinct same-relation distractors."""
    gold = str(doc["answer"])
    distractors = [str(d) for d in doc["distractors"] if str(d) != gold]
    return [gold] + list(dict.fromkeys(distractors))[: num_choices - 1]


def tf_statements(doc: Mapping[str, Any]) -> tuple[str, str]:
    """A true and a false statement about the fact (the false one uses the first distractor)."""
    prompt = doc_to_text(doc)
    gold = str(doc["answer"])
    false = next((str(d) for d in doc["distractors"] if str(d) != gold), "")
    return (
        TF_PROMPT.format(prompt=prompt, candidate=gold),
        TF_PROMPT.format(prompt=prompt, candidate=false),
    )


def probe_requests(doc: Mapping[str, Any], ctx: str, num_choices: int, tf_probe: bool) -> list[tuple[str, str]]:
    """(context, continuation) pairs: K answer candidates (gold first), then the T/F probe if asked."""
    pairs = [(ctx, " " + c) for c in candidates(doc, num_choices)]
    if tf_probe:
        for statement in tf_statements(doc):
            pairs += [(statement, " True"), (statement, " False")]
    return pairs


@functools.lru_cache(maxsize=4)
def _tokenizer(name: str):
    try:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(name)
    except Exception:  # no tokenizer reachable: fall back to counting words
        return None


def answer_length(context: str, continuation: str, tokenizer) -> int:
    """Tokens of the continuation as lm-eval's hf backend scores them (whole minus context)."""
    if tokenizer is None:
        return max(len(continuation.split()), 1)
    return max(len(encode_pair(tokenizer, context, continuation)[1]), 1)


def _use_task_method(doc, results):  # placeholder, see ProbabilityProbeTask.__init__
    raise NotImplementedError


class ProbabilityProbeTask(ConfigurableTask):
    """The ``*_ll`` tasks: answer log-probability, margin over distractors, optional T/F probe."""

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = {k: v for k, v in (config or {}).items() if k != "class"}
        # A process_results entry keeps lm-eval from looking the metric names up (and from
        # fetching them from the Hub); the method below does the work.
        config["process_results"] = _use_task_method
        super().__init__(config=config, **kwargs)
        metadata = self.config.metadata or {}
        self.num_choices = int(metadata.get("num_choices", DEFAULT_NUM_CHOICES))
        self.tf_probe = bool(metadata.get("tf_probe", False))
        name = metadata.get("tokenizer") or metadata.get("pretrained")
        self.tokenizer = _tokenizer(str(name)) if name else None

    def construct_requests(self, doc: dict, ctx: str, **kwargs: Any) -> list[Instance]:
        kwargs.pop("apply_chat_template", None)
        kwargs.pop("chat_template", None)
        return [
            Instance(request_type="loglikelihood", doc=doc, arguments=pair, idx=i, **kwargs)
            for i, pair in enumerate(probe_requests(doc, ctx, self.num_choices, self.tf_probe))
        ]

    def process_results(self, doc: dict, results: list[tuple[float, bool]]) -> dict[str, float]:
        lls = [float(r[0]) for r in results]
        k = len(lls) - 4 if self.tf_probe else len(lls)
        gold_tokens = answer_length(self.doc_to_text(doc), doc_to_target(doc), self.tokenizer)
        scores = probability_scores(lls[0], lls[1:k], gold_tokens)
        if self.tf_probe:
            scores["tf_acc"] = true_false_score((lls[k], lls[k + 1]), (lls[k + 2], lls[k + 3]))
        return scores


MIA_COLUMNS = ("person_id", "biography")


def load_mia(**kwargs: Any) -> dict[str, DocList]:
    """custom_dataset of the membership-inference tasks: split ``mia_<group>`` (person_id, biography)."""
    split = kwargs[SPLIT_KEY]
    source = resolve_source(kwargs[DATASET_KEY], kwargs)
    splits = load_splits(source, MIA_CONFIG)
    if split not in splits:
        raise BenchmarkError(f"benchmark {source}: split '{split}' is missing (found: {', '.join(sorted(splits)) or 'none'}); "
                             "membership inference needs the biographies of a world with held-out people")
    ds = splits[split]
    missing = [c for c in MIA_COLUMNS if c not in ds.column_names]
    if missing:
        raise BenchmarkError(f"benchmark {source}: split '{split}' lacks column(s) {', '.join(missing)}")
    empty = [i for i, b in enumerate(ds["biography"]) if not str(b or "").strip()]
    if empty or len(ds) == 0:
        raise BenchmarkError(f"benchmark {source}: split '{split}' " + (f"row {empty[0]} has an empty biography" if empty else "is empty"))
    return {split: DocList(ds)}


def doc_to_target_mia(doc: Mapping[str, Any]) -> str:
    return str(doc["biography"])


class MembershipTask(ConfigurableTask):
    """The ``mia_*`` tasks: a biography's rolling log-likelihood -> ``scores.membership_scores``."""

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = {k: v for k, v in (config or {}).items() if k != "class"}
        config["process_results"] = _use_task_method  # as in ProbabilityProbeTask: no metric look-up
        super().__init__(config=config, **kwargs)
        metadata = self.config.metadata or {}
        name = metadata.get("tokenizer") or metadata.get("pretrained")
        self.tokenizer = _tokenizer(str(name)) if name else None

    def process_results(self, doc: dict, results: list[float]) -> dict[str, float]:
        (logprob,) = results
        text = doc_to_target_mia(doc)
        # lm-eval's hf backend scores every token of the text (after its prefix token), encoded
        # without special tokens: count the same tokens.
        if self.tokenizer is None:
            num_tokens = max(len(text.split()), 1)
        else:
            num_tokens = len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return membership_scores(float(logprob), num_tokens, text)
