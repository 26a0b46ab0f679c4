"""freq-unlearn: a frequency-stratified unlearning benchmark for LLMs.

The four parts are importable as ``freq_unlearn.frequency_index``, ``freq_unlearn.tasks``,
``freq_unlearn.unlearn_methods`` and ``freq_unlearn.leaderboard``. This module stays light:
importing it must not pull in torch.
"""

__version__ = "0.1.0"
