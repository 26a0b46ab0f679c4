"""Start-up hook that lets lm-eval 0.4.13 find the tasks of installed packages.

lm-eval 0.4.13 indexes only its own ``lm_eval/tasks/`` and ``--include_path``. The upstream
proposal (EleutherAI/lm-evaluation-harness PR #4015) is an ``lm_eval.tasks`` entry-point
group whose value is the package holding the YAMLs; this package declares it. Until lm-eval
reads that group itself, the ``freq_unlearn_lm_eval.pth`` file that the wheel installs calls
:func:`install` at interpreter start-up. It costs one import of this small module: the real
work happens only when (and if) ``lm_eval.tasks.manager`` is imported, where
``TaskManager.__init__`` is wrapped to add the entry-point folders in front of any
``--include_path`` (so a user's own folder still wins over a packaged task of the same name).

Python 3.15 (PEP 829) runs ``<name>.start`` entry points instead of a matching ``.pth`` file's
import lines, and from 3.18 ignores those lines: the wheel ships ``freq_unlearn_lm_eval.start``
naming :func:`start` beside the ``.pth``, so exactly one of the two runs on any Python.

An lm-eval whose layout this hook does not know (no ``lm_eval.tasks.manager`` module, as in
0.4.10/0.4.11, or a ``TaskManager`` without ``include_path``) gets one line on stderr naming the
way that always works, ``--include_path "$(freq-unlearn tasks-path)"``.

Switch it off with ``FREQ_UNLEARN_LM_EVAL_HOOK=0``; ``FREQ_UNLEARN_PAPER_TASKS=1`` also
registers the paper's Hub-backed tasks. Only the standard library is imported here.
"""

from __future__ import annotations

import os
import sys

# Start-up runs only install(); everything heavier is imported when lm-eval is.

ENTRY_POINT_GROUP = "lm_eval.tasks"
TARGET_MODULE = "lm_eval.tasks.manager"
TASKS_PACKAGE = "lm_eval.tasks"
SWITCH_ENV = "FREQ_UNLEARN_LM_EVAL_HOOK"
UNKNOWN_LAYOUT = (
    "freq_unlearn: this lm-eval has no {what}, so the freq_unlearn_* tasks are not registered "
    'automatically; pass --include_path "$(freq-unlearn tasks-path)" to lm_eval'
)
PAPER_ENV = "FREQ_UNLEARN_PAPER_TASKS"
_PATCHED = "_freq_unlearn_plugin_paths"


def plugin_task_paths() -> list[str]:
    """Folders of every installed ``lm_eval.tasks`` entry point (deduplicated, in order)."""
    import importlib.util
    from importlib.metadata import entry_points
    from pathlib import Path

    paths: list[str] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            spec = importlib.util.find_spec(ep.value)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            if location not in paths and Path(location).is_dir():
                paths.append(location)
    if os.environ.get(PAPER_ENV) == "1":
        paper = str(Path(__file__).resolve().parent / "paper")
        if paper not in paths:
            paths.append(paper)
    return paths


def _reads_entry_points_itself(module) -> bool:
    """A later lm-eval that implements the entry-point group needs no help."""
    from pathlib import Path

    try:
        source = Path(module.__file__).read_text(encoding="utf-8")
    except (OSError, TypeError):
        return False
    return "entry_points" in source and any(f"{q}{ENTRY_POINT_GROUP}{q}" in source for q in "\"'")


def patch_task_manager(module) -> None:
    import functools
    import inspect
    from pathlib import Path

    manager = getattr(module, "TaskManager", None)
    if manager is None or getattr(manager.__init__, _PATCHED, False) or _reads_entry_points_itself(module):
        return
    original = manager.__init__
    signature = inspect.signature(original)
    if "include_path" not in signature.parameters:
        print(UNKNOWN_LAYOUT.format(what="TaskManager(include_path=...)"), file=sys.stderr)
        return

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        if bound.arguments.get("include_defaults", True):
            given = bound.arguments.get("include_path")
            given = [] if given is None else list(given) if isinstance(given, (list, tuple)) else [given]
            given_str = {str(Path(p)) for p in given}
            extra = [p for p in plugin_task_paths() if p not in given_str]
            bound.arguments["include_path"] = (extra + given) or None
        original(*bound.args, **bound.kwargs)

    setattr(__init__, _PATCHED, True)
    manager.__init__ = __init__


class _PatchingLoader:  # the importlib Loader protocol
    def __init__(self, wrapped):
        self.wrapped = wrapped

    def __getattr__(self, name):  # get_source, get_resource_reader, ...: the real loader's
        return getattr(self.wrapped, name)

    def create_module(self, spec):
        return self.wrapped.create_module(spec)

    def exec_module(self, module):
        self.wrapped.exec_module(module)
        try:
            if module.__name__ == TARGET_MODULE:
                patch_task_manager(module)
            else:
                _check_layout(module)
        except Exception as err:  # never break lm-eval itself
            print(f"freq_unlearn: lm-eval task hook skipped ({err})", file=sys.stderr)


def _check_layout(tasks_package) -> None:
    """After ``lm_eval.tasks`` is imported: say so when it has no ``manager`` module to patch."""
    import importlib.util

    if importlib.util.find_spec(TARGET_MODULE) is None:
        print(UNKNOWN_LAYOUT.format(what=f"{TARGET_MODULE} module"), file=sys.stderr)


class _Finder:  # the importlib MetaPathFinder protocol
    def find_spec(self, fullname, path, target=None):
        if fullname not in (TARGET_MODULE, TASKS_PACKAGE):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def start() -> None:
    """The PEP 829 entry point (``freq_unlearn_lm_eval.start``); honours the same switch as the .pth."""
    if os.environ.get(SWITCH_ENV, "1") != "0":
        install()


def install() -> None:
    """Patch now if lm-eval is already imported, else when it is."""
    if TARGET_MODULE in sys.modules:
        patch_task_manager(sys.modules[TARGET_MODULE])
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
