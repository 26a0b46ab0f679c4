"""freq-unlearn misalignment, as an `evaluate` module (load it by local path).

Per stratum: retention_prob - retention_gen (signed) and the rate at which exactly one view says forgotten.
Definitions: freq_unlearn.tasks.metrics; inputs: freq_unlearn.tasks.evaluate_support.
"""

import evaluate

from freq_unlearn.tasks import evaluate_support, metrics


class FreqUnlearnMisalignment(evaluate.Metric):
    def _info(self):
        return evaluate_support.info(__doc__)

    def _compute(self, n_boot=1000, seed=0, confidence=0.95, **columns):
        return metrics.misalignment(columns, n_boot=n_boot, seed=seed, confidence=confidence)
