"""freq_unlearn.leaderboard: submissions -> evaluation through the suite's lm-eval tasks ->
results store -> ranking, Gradio page, static export. See README.md in this folder.

Importing the package is light; the modules import torch, lm_eval and gradio where they need
them. The entry points: ``submission.load_submission``, ``submit.init_store`` /
``submit.submit``, ``store.open_store``, ``ranking.rank``, ``export.export``,
``app.build_app`` / ``app.serve``, and the CLI ``freq-unlearn leaderboard ...``.
"""
