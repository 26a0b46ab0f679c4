"""The distribution installs the four parts under `freq_unlearn` only, editable or not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import freq_unlearn

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("frequency_index", "tasks", "unlearn_methods", "leaderboard")


def test_parts_import_under_the_namespace() -> None:
    import importlib

    for part in PARTS:
        mod = importlib.import_module(f"freq_unlearn.{part}")
        assert Path(mod.__file__).resolve().parent == ROOT / part


def test_non_editable_install_has_no_generic_top_level_names(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    top = {p.name for p in target.iterdir() if not p.name.endswith((".dist-info", ".pth", ".start"))}
    assert top - {"bin", "__pycache__"} == {"freq_unlearn"}, top
    for part in PARTS:
        assert (target / "freq_unlearn" / part / "__init__.py").is_file()
    code = "import freq_unlearn.tasks, freq_unlearn.leaderboard, sys; print(freq_unlearn.tasks.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(target), "PATH": "/usr/bin"},
                         capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert out.startswith(str(target))
    # Every subpackage folder of the source tree is in the wheel.
    for init in ROOT.glob("*/**/__init__.py"):
        rel = init.relative_to(ROOT)
        if rel.parts[0] in PARTS:
            assert (target / "freq_unlearn" / rel).is_file(), rel


def test_importing_the_package_does_not_import_torch() -> None:
    code = "import sys, freq_unlearn.cli; freq_unlearn.cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", "`freq-unlearn --help` must stay quick"
    assert freq_unlearn.__version__
