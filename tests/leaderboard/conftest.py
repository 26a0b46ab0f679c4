"""The leaderboard tests' fixtures live in lb_helpers.py: test modules import its helpers by a
unique name (`from conftest import ...` is ambiguous: every test folder has a conftest)."""

from lb_helpers import browser, checkpoint_factory  # noqa: F401  (fixtures)
