"""Helpers shared by the frequency_index tests (imported by module name: tests have no packages)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def write_jsonl_gz(path: Path, lines: list) -> Path:
    """Write documents (dicts) or raw byte lines to a .jsonl.gz file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        for line in lines:
            f.write(line if isinstance(line, bytes) else json.dumps(line).encode() + b"\n")
    return path
