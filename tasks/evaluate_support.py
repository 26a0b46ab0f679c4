"""What the three ``evaluate`` modules under ``evaluate_modules/`` share: inputs and metadata.

Load a module by local path (nothing is fetched from the Hub)::

    import evaluate
    from freq_unlearn.tasks import evaluate_module_path
    from freq_unlearn.tasks.metrics import pair_runs, read_samples

    paired = pair_runs(read_samples(["before/"]), read_samples(["after/"]))
    retention = evaluate.load(str(evaluate_module_path("freq_unlearn_retention")))
    retention.compute(**paired.as_columns(), n_boot=1000, seed=0)

The inputs are one row per item (fact) and run: its stratum, count and the per-item scores of
the BEFORE and AFTER lm-eval runs (``pair_runs`` builds them from ``--log_samples`` output).
Give several runs (different ``run`` labels, e.g. seeds) to get t-intervals over runs.
"""

from __future__ import annotations

from freq_unlearn.tasks.metrics import GEN_METRICS, PROB_METRICS

CITATION = """\
@inproceedings{krishnan2025notall,
  title     = {Not All Data Are Unlearned Equally},
  author    = {Krishnan, Aravind and Reddy, Siva and Mosbach, Marius},
  booktitle = {Conference on Language Modeling (COLM)},
  year      = {2025},
  url       = {https://arxiv.org/abs/2504.05058}
}
"""

INPUTS_DESCRIPTION = """\
Args (one list entry per item and run):
    fact_id, stratum ('low'|'medium'|'high'|...), count (pre-training count), run (label),
    <metric>_before / <metric>_after for metric in rougeL_recall, contains, logprob,
    logprob_per_token, mc_acc, tf_acc (NaN where a view was not evaluated).
Keyword args: n_boot (1000), seed (0), confidence (0.95).
Returns: {name: {value, ci_low, ci_high, n, ci}}; names carry '/<stratum>' where per stratum.
"""


def features():
    import datasets

    spec = {
        "fact_id": datasets.Value("string"),
        "stratum": datasets.Value("string"),
        "count": datasets.Value("int64"),
        "run": datasets.Value("string"),
    }
    for metric in GEN_METRICS + PROB_METRICS:
        spec[f"{metric}_before"] = datasets.Value("float64")
        spec[f"{metric}_after"] = datasets.Value("float64")
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
