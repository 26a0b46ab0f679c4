"""freq_unlearn_retention, as an `evaluate` module (load it by local path).

Per probe and stratum: retention of the items known above the guessing floor, in each view, misalignment and disagreement.
Definitions: freq_unlearn.tasks.summary; inputs: freq_unlearn.tasks.evaluate_support.
"""

import evaluate

from freq_unlearn.tasks import evaluate_support


class FreqUnlearnRetention(evaluate.Metric):
    def _info(self):
        return evaluate_support.info(__doc__)

    def _compute(self, n_resamples=999, seed=0, **columns):
        return evaluate_support.compute(columns, ("retention",), n_resamples=n_resamples, seed=seed)
