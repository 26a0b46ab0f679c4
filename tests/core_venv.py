"""A fresh virtual env that holds freq-unlearn's core install and nothing else.

``pip install .`` on a clean machine downloads the core dependencies; the tests cannot afford
that, so the env is assembled from the packages already installed here: the closure of the
project's core requirements (no extras) is computed from the installed distributions' metadata,
and exactly the files those distributions installed are linked into the new env's
site-packages. A module that only an extra provides (gradio, ray, playwright, pytest, and what
they pull in, such as orjson via gradio) is then missing, as on a clean core install.
freq-unlearn itself is installed by a real ``pip install --no-deps`` of a copy of the checkout.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", ".pytest_cache", "build", "*.egg-info", "__pycache__", "runs", "out", "*.so")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def core_closure() -> dict[str, md.Distribution]:
    """Installed distributions reachable from the project's core requirements (markers evaluated, no extras)."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    installed = {_canonical(d.metadata["Name"]): d for d in md.distributions()}
    todo, seen = [Requirement(r) for r in project["dependencies"]], {}
    while todo:
        req = todo.pop()
        name = _canonical(req.name)
        if name in seen or name not in installed:
            continue
        seen[name] = dist = installed[name]
        extras = [""] + sorted(req.extras)  # what this requirement asked of the distribution
        for spec in dist.requires or []:
            sub = Requirement(spec)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)
    return seen


def _link_distribution(dist: md.Distribution, site: Path) -> None:
    root = Path(str(dist.locate_file("")))
    for entry in {Path(f).parts[0] for f in dist.files or []}:
        if entry in ("..", "__pycache__") or entry.endswith(".pth"):
            continue
        source, target = root / entry, site / entry
        if source.exists() and not target.exists():
            target.symlink_to(source)


def make_core_venv(root: Path) -> Path:
    """A venv at ``root/venv`` with the core closure linked in and freq-unlearn installed from a copy."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    for dist in core_closure().values():
        _link_distribution(dist, site)
    # pip and setuptools only to build and install the project (the env's own tools, no download)
    builders = site.parent / "builders"
    builders.mkdir()
    here = Path(sysconfig.get_paths()["purelib"])
    for name in ("pip", "setuptools", "wheel", "_distutils_hack"):
        if (here / name).exists():
            (builders / name).symlink_to(here / name)
    src = root / "src"
    shutil.copytree(REPO, src, ignore=COPY_IGNORE)
    env = {**os.environ, "PYTHONPATH": str(builders), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    str(src)], check=True, capture_output=True, text=True, timeout=600, env=env)
    return root / "venv"


def venv_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FREQ_UNLEARN_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    env["HF_HUB_OFFLINE"] = "1"
    return env
