"""The dependency rules (pyproject's [tool.importlinter] contracts) hold for the installed layout.

The four parts live in top-level folders that install as `freq_unlearn.<part>` (pyproject's
package-dir); grimp walks folders, so the test assembles the installed tree first, as a wheel does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def installed_tree(dest: Path) -> Path:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package, folder in sorted(config["package-dir"].items()):
        shutil.copytree(ROOT / folder, dest / package.replace(".", "/"), dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "data", "default", "paper", "templates"))
    return dest


# An editable install maps freq_unlearn to this checkout through a meta-path finder that wins over
# PYTHONPATH: drop it so grimp reads the assembled tree.
LINT = (
    "import sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in type(f).__module__]\n"
    "from importlinter.cli import lint_imports_command\n"
    "sys.argv = ['lint-imports', sys.argv[1], '--no-cache']\n"
    "lint_imports_command()\n"
)


def lint(tree: Path) -> subprocess.CompletedProcess:
    # The lm-eval start-up hook would import freq_unlearn from this checkout before the script runs.
    env = {**os.environ, "PYTHONPATH": str(tree), "FREQ_UNLEARN_LM_EVAL_HOOK": "0"}
    return subprocess.run([sys.executable, "-c", LINT, str(ROOT / "pyproject.toml")], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept(tmp_path):
    out = lint(installed_tree(tmp_path / "tree"))
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "3 kept, 0 broken" in out.stdout


def test_a_broken_rule_is_reported(tmp_path):
    """The check can fail: a kernel module importing a part breaks the layers contract."""
    tree = installed_tree(tmp_path / "tree")
    (tree / "freq_unlearn" / "core" / "bad.py").write_text("import freq_unlearn.leaderboard.ranking\n")
    out = lint(tree)
    assert out.returncode != 0 and "freq_unlearn.core.bad -> freq_unlearn.leaderboard.ranking" in out.stdout
