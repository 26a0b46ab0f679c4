"""The start-up hook in-process: it puts entry-point folders before a user's include_path."""

from __future__ import annotations

from freq_unlearn.tasks import DEFAULT_TASKS_DIR, PAPER_TASKS_DIR
from freq_unlearn.tasks import _lm_eval_hook as hook


def test_plugin_paths_from_entry_point(monkeypatch):
    monkeypatch.delenv(hook.PAPER_ENV, raising=False)
    assert hook.plugin_task_paths() == [str(DEFAULT_TASKS_DIR)]
    monkeypatch.setenv(hook.PAPER_ENV, "1")
    assert hook.plugin_task_paths() == [str(DEFAULT_TASKS_DIR), str(PAPER_TASKS_DIR)]


def test_wrapped_task_manager_keeps_user_paths_last(tmp_path, monkeypatch):
    import types

    seen = {}

    class FakeManager:  # same signature as lm-eval 0.4.13's TaskManager.__init__
        def __init__(self, verbosity=None, include_path=None, include_defaults=True, metadata=None):
            seen.update(include_path=include_path, include_defaults=include_defaults)

    module = types.SimpleNamespace(TaskManager=FakeManager, __file__=hook.__file__.replace("_lm_eval_hook", "contract"))
    hook.patch_task_manager(module)
    FakeManager(include_path=str(tmp_path))
    assert seen["include_path"] == [str(DEFAULT_TASKS_DIR), str(tmp_path)]
    FakeManager(None, [str(DEFAULT_TASKS_DIR)])  # given explicitly: not added twice
    assert seen["include_path"] == [str(DEFAULT_TASKS_DIR)]
    FakeManager(include_path=str(tmp_path), include_defaults=False)  # "only my folders" is respected
    assert seen["include_path"] == str(tmp_path)
    hook.patch_task_manager(module)  # idempotent
    FakeManager()
    assert seen["include_path"] == [str(DEFAULT_TASKS_DIR)]


def test_real_task_manager_is_wrapped_in_this_environment():
    import lm_eval.tasks.manager as manager

    assert getattr(manager.TaskManager.__init__, "_freq_unlearn_plugin_paths", False)
