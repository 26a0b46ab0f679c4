"""freq_unlearn_forgetting, as an `evaluate` module (load it by local path).

Per probe, stratum and measure: mean forgetting (before - after) of every item.
Definitions: freq_unlearn.tasks.summary; inputs: freq_unlearn.tasks.evaluate_support.
"""

import evaluate

from freq_unlearn.tasks import evaluate_support


class FreqUnlearnForgetting(evaluate.Metric):
    def _info(self):
        return evaluate_support.info(__doc__)

    def _compute(self, n_resamples=999, seed=0, **columns):
        return evaluate_support.compute(columns, ("forgetting",), n_resamples=n_resamples, seed=seed)
