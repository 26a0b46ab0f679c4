"""setuptools hook (``[tool.setuptools] cmdclass`` in pyproject.toml): ship the lm-eval .pth file.

The wheel gets ``freq_unlearn_lm_eval.pth`` at its root (site-packages), which runs
``freq_unlearn.tasks._lm_eval_hook.install()`` at start-up, and ``freq_unlearn_lm_eval.start``
(PEP 829), which Python 3.15+ runs instead. Editable installs build no
``build_lib`` tree, so there the file goes straight into the editable wheel's root, which
setuptools takes from ``install.install_lib``. Runs at build time only.
"""

from __future__ import annotations

import os

from setuptools.command.build_py import build_py

PTH_NAME = "freq_unlearn_lm_eval.pth"
# PEP 829 (Python 3.15+): a .start file of the same name replaces the .pth's import lines.
START_NAME = "freq_unlearn_lm_eval.start"
START_LINE = "freq_unlearn.tasks._lm_eval_hook:start\n"
# site executes .pth lines that start with "import"; the env switch keeps it optional.
PTH_LINE = (
    'import os; os.environ.get("FREQ_UNLEARN_LM_EVAL_HOOK", "1") == "0" or '
    '__import__("freq_unlearn.tasks._lm_eval_hook", fromlist=["install"]).install()\n'
)


class BuildPyWithLmEvalHook(build_py):
    def _pth_dir(self) -> str:
        if getattr(self, "editable_mode", False):
            return self.get_finalized_command("install").install_lib
        return self.build_lib

    def run(self) -> None:
        super().run()
        for name, line in ((PTH_NAME, PTH_LINE), (START_NAME, START_LINE)):
            target = os.path.join(self._pth_dir(), name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(line)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            outputs += [os.path.join(self.build_lib, name) for name in (PTH_NAME, START_NAME)]
        return outputs
