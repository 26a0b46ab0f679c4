"""freq-unlearn retention, as an `evaluate` module (load it by local path).

Per view and stratum: the fraction of facts known before unlearning that are still known after (+ ratio of means of ROUGE-L recall and p).
Definitions: freq_unlearn.tasks.metrics; inputs: freq_unlearn.tasks.evaluate_support.
"""

import evaluate

from freq_unlearn.tasks import evaluate_support, metrics


class FreqUnlearnRetention(evaluate.Metric):
    def _info(self):
        return evaluate_support.info(__doc__)

    def _compute(self, n_boot=1000, seed=0, confidence=0.95, **columns):
        return metrics.retention(columns, n_boot=n_boot, seed=seed, confidence=confidence)
