"""The lm-eval tasks registered on install (the ``lm_eval.tasks`` entry point names this package)."""
