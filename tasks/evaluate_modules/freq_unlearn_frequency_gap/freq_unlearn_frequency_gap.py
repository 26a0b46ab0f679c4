"""freq_unlearn_frequency_gap, as an `evaluate` module (load it by local path).

Per probe and measure: the slope of forgetting on log(count), adjusted for the value before unlearning and the relation.
Definitions: freq_unlearn.tasks.summary; inputs: freq_unlearn.tasks.evaluate_support.
"""

import evaluate

from freq_unlearn.tasks import evaluate_support


class FreqUnlearnFrequencyGap(evaluate.Metric):
    def _info(self):
        return evaluate_support.info(__doc__)

    def _compute(self, n_resamples=999, seed=0, **columns):
        return evaluate_support.compute(columns, ("slope",), n_resamples=n_resamples, seed=seed)
