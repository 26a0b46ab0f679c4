"""Shared test set-up: offline by default, and session-wide tiny artefacts built once.

The tiny world / model / benchmark are built on first use and cached under
``.pytest_cache/freq_unlearn`` (keyed by the code that makes them), guarded by a file lock
so that pytest-xdist workers build each only once.
"""

from __future__ import annotations

import os

# Set before anything imports huggingface_hub: its constants are read once at import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
