"""The sanitized copy that lm-eval loads holds exactly the weights that were checked and hashed
(issue 11, item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lb_helpers import make_checkpoint

from freq_unlearn.leaderboard.checkpoint import CheckpointError, check_folder, content_hash, sanitized_copy


def overwrite_in_place(path: Path) -> None:
    """Change bytes without replacing the file (same inode), as an editor or a re-save can."""
    with path.open("r+b") as fh:
        fh.seek(-8, 2)
        fh.write(b"\x01" * 8)


def test_cached_copy_is_not_changed_by_editing_the_original(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path / "ckpt")
    checked = check_folder(folder)
    copy = sanitized_copy(checked, tmp_path / "cache")
    overwrite_in_place(folder / "model.safetensors")
    assert content_hash(copy) == checked.sha256
    again = sanitized_copy(checked, tmp_path / "cache")  # a later submission of the same hash
    assert content_hash(again) == checked.sha256


def test_change_between_check_and_copy_is_refused(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path / "ckpt")
    checked = check_folder(folder)
    overwrite_in_place(folder / "model.safetensors")
    with pytest.raises(CheckpointError, match="files changed while the submission was being checked"):
        sanitized_copy(checked, tmp_path / "cache")
    assert not [p for p in (tmp_path / "cache").iterdir()], "nothing cached, no temporary folder left"


def test_corrupted_cache_entry_is_rebuilt(tmp_path: Path) -> None:
    folder = make_checkpoint(tmp_path / "ckpt")
    checked = check_folder(folder)
    copy = sanitized_copy(checked, tmp_path / "cache")
    overwrite_in_place(copy / "model.safetensors")
    again = sanitized_copy(checked, tmp_path / "cache")
    assert content_hash(again) == checked.sha256
