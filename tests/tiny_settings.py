"""Settings of the session fixtures tiny_world / tiny_model (tests import them by this unique
name: `from conftest import` is ambiguous when several folders have a conftest)."""

# A world small enough to pre-train in about a minute, with every group present (= `demo --quick`).
TINY_WORLD = dict(design="tiered", people_per_tier=16, n_retain=32, n_utility=16, n_cities=20, n_heldout=32, seed=0)
TINY_PRETRAIN = dict(size="tiny", seed=0)  # the preset as the quick demo uses it
