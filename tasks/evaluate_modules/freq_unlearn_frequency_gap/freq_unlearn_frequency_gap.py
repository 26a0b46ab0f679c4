"""freq-unlearn frequency_gap, as an `evaluate` module (load it by local path).

Per view: retention(high) - retention(low), and the Spearman correlation of log(count) with per-item retention.
Definitions: freq_unlearn.tasks.metrics; inputs: freq_unlearn.tasks.evaluate_support.
"""

import evaluate

from freq_unlearn.tasks import evaluate_support, metrics


class FreqUnlearnFrequencyGap(evaluate.Metric):
    def _info(self):
        return evaluate_support.info(__doc__)

    def _compute(self, n_boot=1000, seed=0, confidence=0.95, **columns):
        return metrics.frequency_gap(columns, n_boot=n_boot, seed=seed, confidence=confidence)
