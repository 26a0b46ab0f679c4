"""freq_unlearn.leaderboard: submissions -> evaluation through the suite's lm-eval tasks ->
results store -> ranking, Gradio page, static export. See README.md in this folder.

Importing the package is light; the modules import torch, lm_eval and gradio where they need
them. The entry points: ``submission.load_submission``, ``submit.init_store`` /
``submit.submit``, ``store.open_store``, ``ranking.rank``, ``export.export``,
``app.build_app`` / ``app.serve``, and the CLI ``freq-unlearn leaderboard ...``; for callers that
evaluate models themselves (the demo), ``score_submission`` and ``build_board`` below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def score_submission(base: Any, runs: Mapping[tuple[str, int], Any], n_resamples: int = 999, seed: int = 0) -> dict[str, Any]:
    """Score one submission under the leaderboard protocol (``protocol.score_submission``).

    ``base``: the base model's per-item records; ``runs``: ``(target stratum, seed) -> records`` of the
    unlearned models, with every stratum of ``("low", "medium", "high")`` targeted at least once. Records are
    ``freq_unlearn.tasks.evaluation.evaluate`` frames over ``protocol.EVAL_SPLITS``. Returns
    ``{"metrics": {name: {"value", "ci_low", "ci_high", "interval", ...}}, "items": [...], "runs": [...]}``.
    """
    from freq_unlearn.leaderboard.protocol import score_submission as score

    return score(base, runs, n_resamples=n_resamples, seed=seed)


def build_board(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Ranked table rows (``ranking.rank``) from result objects: a stored result, or
    ``{"method": name, **score_submission(...)}``."""
    from freq_unlearn.leaderboard.ranking import rank

    return rank(results)
