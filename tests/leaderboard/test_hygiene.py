"""Bad input is one line naming the file and field; free text cannot hide characters or inject
table rows; `export` does not overwrite a site silently; `serve` without gradio says so first
(issue 11: one line, hygiene)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from lb_helpers import fake_result, make_benchmark, make_checkpoint, make_runs, run_record

from freq_unlearn.cli import main as cli
from freq_unlearn.leaderboard.ranking import format_table, rank
from freq_unlearn.leaderboard.store import LocalStore, StoreError
from freq_unlearn.leaderboard.submission import SubmissionError, from_run_records, load_metadata_file
from freq_unlearn.leaderboard.submit import init_store, submit


def metadata(**overrides) -> dict:
    runs = [{"path": "org/model", "seed": 1, "target": t} for t in ("forget_low", "forget_medium", "forget_high")]
    return {"schema": "freq_unlearn.submission/2", "method": "NPO", "base_model": "tiny", "hyperparameters": {},
            "checkpoints": runs, **overrides}


def one_line_error(path: Path, pattern: str) -> None:
    with pytest.raises(SubmissionError, match=pattern) as err:
        load_metadata_file(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("text, pattern", [
    ('{"a": ' * 100_000 + "1" + "}" * 100_000, "nested too deeply"),
    ('{"schema": NaN}', "NaN is not a JSON number"),
    ('{"schema": -Infinity}', "-Infinity is not a JSON number"),
    ('{"method": "ga\\ud800"}', "lone surrogate"),
])
def test_malformed_json_is_one_line(tmp_path: Path, text: str, pattern: str) -> None:
    path = tmp_path / "meta.json"
    path.write_text(text)
    one_line_error(path, pattern)


def test_malformed_store_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "leaderboard.json").write_text('{"schema": ' * 50_000 + "1" + "}" * 50_000)
    with pytest.raises(StoreError, match="leaderboard.json: invalid JSON: nested too deeply"):
        LocalStore(tmp_path).config()


@pytest.mark.parametrize("field, value, pattern", [
    ("method", "ga\u200b", r"field 'method': contains the invisible or control character U\+200B"),
    ("method", "\u202eag", r"U\+202E"),
    ("base_model", "tiny\n| injected | row |", r"field 'base_model': .*U\+000A"),
    ("submitter", "me\x1b[31m", r"field 'submitter': .*U\+001B"),
    ("notes", "x" * 2001, "field 'notes': longer than 2000 characters"),
    ("submitter", "y" * 201, "field 'submitter': longer than 200 characters"),
])
def test_free_text_is_checked(tmp_path: Path, field: str, value: str, pattern: str) -> None:
    path = tmp_path / "meta.json"
    path.write_text(json.dumps(metadata(**{field: value})))
    one_line_error(path, pattern)


def test_run_record_text_is_checked(tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "run_record.json").write_text(json.dumps(run_record(method="ga\u2066")))
    with pytest.raises(SubmissionError, match=r"field 'method': .*U\+2066"):
        from_run_records([ckpt])


def test_targets_must_be_forget_splits_of_the_benchmark(tmp_path: Path) -> None:
    base = make_checkpoint(tmp_path / "base")
    store = LocalStore(tmp_path / "store")
    init_store(store, str(make_benchmark(tmp_path / "bench", splits=("forget_low", "forget_high", "retain"))), str(base))
    runs = make_runs(tmp_path / "runs", base_model=str(base))
    with pytest.raises(SubmissionError, match="target 'forget_medium' is not a forget split of benchmark .*forget_high, forget_low"):
        submit(store, from_run_records(runs), progress=lambda _: None)
    assert not (tmp_path / "store" / "requests").exists()


def test_markdown_table_escapes_markup_and_cannot_gain_rows() -> None:
    result = fake_result("a | b\n| evil | row |", "id1", 0.4)
    result["submission_id"] = "<b>x</b>*y*"
    table = format_table(rank([result]))
    lines = table.splitlines()
    assert len(lines) == 3, "header, rule and exactly one row"
    assert lines[2].count(" | ") == lines[0].count(" | "), "no extra cells"
    assert "&lt;b&gt;x&lt;/b&gt;\\*y\\*" in lines[2] and "<b>" not in table


def test_export_refuses_an_existing_site_without_force(tmp_path: Path, capsys) -> None:
    from freq_unlearn.leaderboard.export import export

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("old site")
    results = [fake_result("GA", "id1", 0.4)]
    with pytest.raises(Exception, match="already exists and is not empty; pass --force") as err:
        export(results, site, {"benchmark": "b", "base_model": "m"})
    assert "\n" not in str(err.value)
    assert (site / "index.html").read_text() == "old site"
    export(results, site, {"benchmark": "b", "base_model": "m"}, force=True)
    assert "GA" in (site / "index.html").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left"


def test_serve_without_gradio_is_one_line_before_any_output(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "gradio", None)  # as if the extra were not installed
    assert cli(["leaderboard", "serve", "--store", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "freq-unlearn[leaderboard]" in err
