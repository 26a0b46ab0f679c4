"""Registration without --include_path: the literal headline command in a fresh virtual env.

The venv sees the project's installed dependencies through a path file (no downloads) and gets
freq-unlearn itself by a real `pip install` of a copy of this checkout, so what is tested is
the wheel's start-up hook and entry point, not this checkout's editable install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from freq_unlearn.core import schema

REPO = Path(__file__).resolve().parents[2]
HEADLINE = "lm_eval --tasks 'freq_unlearn_*' --model hf --model_args pretrained={model} --device cpu"


def _fresh_venv(root: Path, editable: bool) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    venv_python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # the project's dependencies (lm-eval, torch, ...) come from the current environment
    Path(purelib, "zz_project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    src = root / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".venv", ".git", ".pytest_cache", "build", "*.egg-info", "__pycache__", "runs", "out"))
    target = ["-e", str(src)] if editable else [str(src)]
    cmd = [str(venv_python), "-m", "pip", "install", "-q", "--no-deps"]
    # Build with the environment's setuptools (no download); if it is too old to build on its
    # own (setuptools < 70.1 without `wheel`), let pip fetch the build backend from PyPI.
    built = subprocess.run(cmd + ["--no-build-isolation"] + target, capture_output=True, text=True, timeout=300)
    if built.returncode != 0:
        subprocess.run(cmd + target, check=True, capture_output=True, text=True, timeout=300)
    # the console script that installing lm-eval into this venv would create
    launcher = root / "venv" / "bin" / "lm_eval"
    launcher.write_text(f"#!{venv_python}\nimport sys\nfrom lm_eval.__main__ import cli_evaluate\nsys.exit(cli_evaluate())\n")
    launcher.chmod(0o755)
    return root / "venv"


def _env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FREQ_UNLEARN_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


@pytest.mark.slow
def test_literal_command_in_fresh_venv(tmp_path, knowing_model):
    venv = _fresh_venv(tmp_path, editable=False)
    site = next((venv / "lib").glob("python*/site-packages"))
    assert (site / "freq_unlearn_lm_eval.pth").is_file(), "the wheel did not install the lm-eval start-up hook"
    assert (site / "freq_unlearn_lm_eval.start").is_file(), "the wheel did not install the PEP 829 .start file"
    out = subprocess.run(HEADLINE.format(model=knowing_model), shell=True, cwd=tmp_path, env=_env(venv),
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("|freq")]
    names = {line.split("|")[1].strip() for line in rows}
    qa = {schema.task_name("synthetic", s, v) for s in schema.BENCHMARK_SPLITS for v in schema.VARIANTS}
    bio = {schema.task_name("synthetic", s, v, "bio") for s in schema.BENCHMARK_SPLITS
           if s not in schema.PARAPHRASED_SPLITS for v in schema.VARIANTS}
    assert names == qa | bio
    for metric in ("contains", "rougeL_recall", "logprob", "logprob_per_token", "mc_margin", "mc_acc"):
        assert re.search(rf"\|\s*{metric}\s*\|", out.stdout), metric
    assert "tf_acc" not in out.stdout  # the synthetic corpus teaches no True/False statements
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import freq_unlearn.tasks as t; print(t.DEFAULT_TASKS_DIR)"],
                           env=_env(venv), capture_output=True, text=True, check=True).stdout
    assert "site-packages" in where  # the wheel's copy (YAMLs and packaged data), not this checkout


@pytest.mark.slow
def test_editable_install_registers_too_and_can_be_switched_off(tmp_path):
    venv = _fresh_venv(tmp_path, editable=True)
    # Indexing all of lm-eval's own tasks takes seconds: check the wrapped constructor and the
    # folders it adds (the full CLI path is covered by the test above).
    code = ("import lm_eval.tasks.manager as m; from freq_unlearn.tasks._lm_eval_hook import plugin_task_paths; "
            "print(getattr(m.TaskManager.__init__, '_freq_unlearn_plugin_paths', False), plugin_task_paths())")
    on = subprocess.run([str(venv / "bin" / "python"), "-c", code], env=_env(venv), capture_output=True, text=True, timeout=300)
    assert on.returncode == 0, on.stderr[-2000:]
    assert on.stdout.startswith("True") and str(tmp_path / "src" / "tasks" / "default") in on.stdout
    off = subprocess.run([str(venv / "bin" / "python"), "-c", code], env={**_env(venv), "FREQ_UNLEARN_LM_EVAL_HOOK": "0"},
                         capture_output=True, text=True, timeout=300)
    assert off.stdout.startswith("False"), off.stderr[-2000:]


def _run(venv: Path, code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], env={**_env(venv), **env},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_pep829_start_file_registers_when_the_pth_line_is_off(tmp_path):
    """What Python 3.15+ does: skip the .pth's import line, resolve the .start entry point and call it.

    On Pythons older than 3.15 site.py does not read .start files, so the test resolves the entry
    point the way PEP 829 specifies (pkgutil.resolve_name, called without arguments) in a process
    where the .pth line has been switched off."""
    venv = _fresh_venv(tmp_path, editable=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    entry = (site / "freq_unlearn_lm_eval.start").read_text().strip()
    code = ("import os, sys, pkgutil; os.environ.pop('FREQ_UNLEARN_LM_EVAL_HOOK'); "
            f"pkgutil.resolve_name({entry!r})(); "
            "import lm_eval.tasks.manager as m; print(getattr(m.TaskManager.__init__, '_freq_unlearn_plugin_paths', False))")
    if sys.version_info >= (3, 15):  # site.py itself runs the .start file
        code = "import lm_eval.tasks.manager as m; print(getattr(m.TaskManager.__init__, '_freq_unlearn_plugin_paths', False))"
        out = _run(venv, code)
    else:
        out = _run(venv, code, FREQ_UNLEARN_LM_EVAL_HOOK="0")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("True"), out.stdout + out.stderr[-2000:]


def test_unknown_lm_eval_layout_is_named_in_one_line(tmp_path):
    """lm-eval 0.4.10/0.4.11 keep TaskManager in lm_eval/tasks/__init__.py (no manager module):
    the hook cannot register the tasks and says what works instead."""
    old = tmp_path / "old_lm_eval" / "lm_eval"
    (old / "tasks").mkdir(parents=True)
    (old / "__init__.py").write_text("")
    (old / "tasks" / "__init__.py").write_text("class TaskManager:\n    def __init__(self, include_path=None): pass\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from freq_unlearn.tasks import _lm_eval_hook as h; "
            "h.install(); import lm_eval.tasks")
    out = subprocess.run([sys.executable, "-c", code, str(old.parent)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "FREQ_UNLEARN_LM_EVAL_HOOK": "0"})
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("freq_unlearn:")]
    assert len(lines) == 1 and '--include_path "$(freq-unlearn tasks-path)"' in lines[0], out.stderr
