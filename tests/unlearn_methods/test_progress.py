"""`unlearn(progress=False)`: no progress bars and no loss dicts on the console; warnings stay."""

from __future__ import annotations

import logging
import warnings

from freq_unlearn.unlearn_methods import unlearn

SETTINGS = {"max_steps": 2, "learning_rate": 1e-3, "metrics_max_items": 4, "save_steps": 1}


def test_progress_false_prints_no_bars_and_no_loss_dicts(qa_model, qa_benchmark, tmp_path, capfd):
    from transformers.utils import logging as tf_logging

    unlearn(model=str(qa_model), benchmark=str(qa_benchmark), forget="high", method="graddiff", out=tmp_path / "loud", **SETTINGS)
    loud = "".join(capfd.readouterr())
    assert "'loss':" in loud and "it/s]" in loud  # what the default shows: the Trainer's bar and loss dicts

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = unlearn(model=str(qa_model), benchmark=str(qa_benchmark), forget="high", method="graddiff",
                         out=tmp_path / "quiet", progress=False, **SETTINGS)  # fmt: skip
        warnings.warn("still visible")
    quiet = "".join(capfd.readouterr())
    assert record.status == "completed" and [s.step for s in record.steps] == [1, 2]  # losses still recorded
    assert "'loss'" not in quiet and "grad_norm" not in quiet
    assert "it/s]" not in quiet and "%|" not in quiet  # no tqdm bar of any library
    assert any("still visible" in str(w.message) for w in caught)
    assert tf_logging.is_progress_bar_enabled()  # restored for the caller
    assert logging.getLogger("transformers").getEffectiveLevel() <= logging.WARNING  # warnings not silenced
