"""What the ``evaluate`` modules under ``evaluate_modules/`` share: inputs and metadata.

Load a module by local path (nothing is fetched from the Hub)::

    import evaluate
    from freq_unlearn.tasks import evaluate_module_path
    from freq_unlearn.tasks.evaluation import read_samples
    from freq_unlearn.tasks.pairing import pair

    paired = pair(read_samples(["before/"]), read_samples(["after/"]))
    retention = evaluate.load(str(evaluate_module_path("freq_unlearn_retention")))
    retention.compute(**{c: paired[c].tolist() for c in INPUT_COLUMNS})

The inputs are one row per item and probe of ``pairing.pair``; the definitions are
``freq_unlearn.tasks.summary``'s (one model and one run: people-bootstrap intervals).
"""

from __future__ import annotations

CITATION = """\
@inproceedings{krishnan2025notall,
  title     = {Not All Data Are Unlearned Equally},
  author    = {Krishnan, Aravind and Reddy, Siva and Mosbach, Marius},
  booktitle = {Conference on Language Modeling (COLM)},
  year      = {2025},
  url       = {https://arxiv.org/abs/2504.05058}
}
"""

TEXT_COLUMNS = ("fact_id", "person_id", "relation", "stratum", "probe")
FLAG_COLUMNS = ("known", "kept_gen", "kept_prob")
NUMBER_COLUMNS = ("count", "log_count", "forget_logprob", "forget_margin", "forget_rouge", "pre_logprob",
                  "pre_margin", "pre_rouge")
INPUT_COLUMNS = TEXT_COLUMNS + FLAG_COLUMNS + NUMBER_COLUMNS

INPUTS_DESCRIPTION = f"""\
Args (one list entry per item and probe, as freq_unlearn.tasks.pairing.pair gives them):
    {", ".join(INPUT_COLUMNS)}.
Keyword args: n_resamples (999), seed (0).
Returns: {{name: {{value, low, high, se, p_value, ...}}}}; names as freq_unlearn.tasks.summary writes them.
"""


def features():
    import datasets

    spec = {c: datasets.Value("string") for c in TEXT_COLUMNS}
    spec |= {c: datasets.Value("bool") for c in FLAG_COLUMNS}
    spec |= {c: datasets.Value("float64") for c in NUMBER_COLUMNS}
    return datasets.Features(spec)


def info(description: str):
    import evaluate

    return evaluate.MetricInfo(
        description=description,
        citation=CITATION,
        inputs_description=INPUTS_DESCRIPTION,
        features=features(),
        reference_urls=["https://arxiv.org/abs/2504.05058"],
    )


def compute(columns: dict, sections: tuple[str, ...], n_resamples: int = 999, seed: int = 0) -> dict:
    import pandas as pd

    from freq_unlearn.tasks.summary import json_ready, summarize

    frame = pd.DataFrame({c: columns[c] for c in INPUT_COLUMNS})
    return json_ready(summarize(frame, n_resamples=n_resamples, seed=seed, sections=sections))
