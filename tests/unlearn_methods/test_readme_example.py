"""The README's worked example of adding a method runs as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

import freq_unlearn.unlearn_methods as pkg
from freq_unlearn.unlearn_methods import unlearn
from freq_unlearn.unlearn_methods.registry import METHODS, Method

README = Path(pkg.__file__).with_name("README.md")


def test_worked_example_adds_a_working_method(qa_model, qa_benchmark, tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    source = next(b for b in blocks if "class GradDiffKLTrainer" in b)
    module = types.ModuleType("freq_unlearn.unlearn_methods.graddiff_kl")
    module.__package__ = "freq_unlearn.unlearn_methods"
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(source, str(README), "exec"), module.__dict__)  # noqa: S102 - our own documentation

    import torch

    logits = torch.randn(2, 3, 5)
    assert module.retain_kl(logits, logits.clone(), torch.ones(2, 3)).item() == pytest.approx(0.0, abs=1e-6)

    monkeypatch.setitem(METHODS, "graddiff_kl", Method(module.GradDiffKLConfig, module.GradDiffKLTrainer))
    record = unlearn(model=str(qa_model), benchmark=str(qa_benchmark), forget="high", method="graddiff_kl",
                     out=tmp_path / "kl", max_steps=4, learning_rate=1e-3, disable_tqdm=True)  # fmt: skip
    assert record.status == "completed" and record.method == "graddiff_kl"
    assert record.steps[0].retain_loss == pytest.approx(0.0, abs=1e-5)  # model == reference at step 1
    assert record.evaluations[-1].forget["answer_prob"] < record.evaluations[0].forget["answer_prob"]
