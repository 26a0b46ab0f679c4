"""Files written atomically get ordinary modes (0644 / 0755 under umask 022), honouring the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from freq_unlearn.core.fsutil import atomic_write_text, prepare_output_dir


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_is_world_readable_under_umask_022(tmp_path: Path, umask) -> None:
    umask(0o022)
    atomic_write_text(tmp_path / "a.json", "{}\n")
    assert mode(tmp_path / "a.json") == 0o644


def test_atomic_write_honours_a_strict_umask(tmp_path: Path, umask) -> None:
    umask(0o077)
    atomic_write_text(tmp_path / "b.json", "{}\n")
    assert mode(tmp_path / "b.json") == 0o600


def test_prepared_output_folder_honours_umask(tmp_path: Path, umask) -> None:
    umask(0o027)
    with prepare_output_dir(tmp_path / "out") as tmp:
        (tmp / "x").write_text("x")
    assert mode(tmp_path / "out") == 0o750
