"""Two methods unlearned from the tiny pre-trained model with `freq-unlearn unlearn`, submitted
as is (run records), evaluated through the lm-eval tasks, ranked, exported and served, and
checked in a real browser; then every kind of bad input, each leaving the store unchanged.

Screenshots go to $FREQ_UNLEARN_SCREENSHOTS when set (else the test's tmp folder).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from lb_helpers import make_checkpoint
from filelock import FileLock

from freq_unlearn.cli import main as cli

LIMIT = 16  # items per split: the same for the base model and every submission
XSS = "<img src=x onerror=alert(1)>"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "cache" not in p.relative_to(root).parts and p.name != ".lock"
    }


def screenshot_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("FREQ_UNLEARN_SCREENSHOTS", tmp_path / "screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def board(tiny_model, tiny_benchmark, tmp_path_factory):
    """A store with two methods: GA (one seed) and GradDiff (two seeds, one submission).

    Built once per test run: pytest-xdist workers share it through a file lock (the tests
    only read it), instead of each unlearning and evaluating everything again."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "leaderboard_e2e"
    root.mkdir(exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if not (root / ".complete").is_file():
            shutil.rmtree(root)
            root.mkdir()
            _build_board(root, tiny_model, tiny_benchmark)
            (root / ".complete").write_text("ok")
    checkpoints = {m: [root / f"{m}_{b}_seed{s}" for b in STRATA for s in seeds] for m, seeds in RUNS.items()}
    return {"root": root, "store": root / "store", "checkpoints": checkpoints, "model": tiny_model,
            "benchmark": tiny_benchmark}


STRATA = ("low", "medium", "high")
RUNS = {"ga": (1,), "graddiff": (1, 2)}  # method -> seeds, each run on every forget stratum


def _build_board(root: Path, tiny_model: Path, tiny_benchmark: Path) -> None:
    store = root / "store"
    for method, seeds in RUNS.items():
        for b in STRATA:
            for seed in seeds:
                out = root / f"{method}_{b}_seed{seed}"
                code = cli(["unlearn", "--model", str(tiny_model), "--benchmark", str(tiny_benchmark), "--forget", b,
                            "--method", method, "--out", str(out), "--max-steps", "5", "--learning-rate", "1e-3",
                            "--batch-size", "8", "--seed", str(seed)])
                assert code == 0
                assert (out / "run_record.json").is_file()
    assert cli(["leaderboard", "init", "--store", str(store), "--benchmark", str(tiny_benchmark),
                "--base-model", str(tiny_model), "--limit", str(LIMIT)]) == 0
    for method, seeds in RUNS.items():
        runs = [str(root / f"{method}_{b}_seed{s}") for b in STRATA for s in seeds]
        assert cli(["leaderboard", "submit", "--store", str(store), "--n-boot", "100", *runs]) == 0


def test_two_methods_are_ranked(board, capsys):
    code, out, _ = run_cli(capsys, "leaderboard", "list", "--store", str(board["store"]))
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("| ") and "Method" not in line]
    assert len(lines) == 2 and {line.split("|")[2].strip() for line in lines} == {"ga", "graddiff"}
    results = sorted((board["store"] / "results").rglob("*.json"))
    assert len(results) == 2
    for path in results:
        result = json.loads(path.read_text())
        several = result["method"] == "graddiff"
        assert result["schema"] == "freq_unlearn.leaderboard_result/3"
        assert result["benchmark"]["limit"] == LIMIT and result["seeds"] == ([1, 2] if several else [1])
        assert {(r["target"], r["seed"]) for r in result["runs"]} == {(b, s) for b in STRATA for s in result["seeds"]}
        assert result["submission"]["source"] == "run_record"
        # each run keeps the per-step evaluations its run record reports (the per-method view's curves)
        for run in result["runs"]:
            record = json.loads((board["root"] / f"{result['method']}_{run['target']}_seed{run['seed']}" / "run_record.json").read_text())
            assert run["evaluations"] == record["evaluations"]
        metrics = result["metrics"]
        # (frequency_gap needs known low-count facts, which 16 items may not hold: it may be None)
        for name in ("headline", "robustness", "collateral", "utility", "ppl_ratio",
                     *(f"forget_{v}/{b}" for v in ("prob", "gen") for b in STRATA)):
            entry = metrics[name]
            assert entry["value"] is not None and math.isfinite(entry["value"]), name
            if entry["ci_low"] is not None:
                assert entry["ci_low"] <= entry["value"] + 1e-9 and entry["value"] <= entry["ci_high"] + 1e-9, name
            assert entry["n_seeds"] == (2 if several else 1)
        # one seed: people bootstrap; two seeds on every stratum: the seeds are the units (or, when a
        # seed's bootstrap is degenerate, the labelled fallback)
        assert metrics["forget_prob/high"]["interval"] in (
            ("random effects over 2 seeds", "people bootstrap (seeds averaged)") if several else ("people bootstrap (one seed)",))
        assert 0.0 <= metrics["headline"]["value"] <= 1.0
        assert metrics["ppl_before"]["value"] > 1.0 and metrics["ppl_after"]["value"] > 1.0
        assert {it["stratum"] for it in result["items"]} == set(STRATA)
        assert all(it["stratum"] == it["target"] for it in result["items"])
    # the base model was evaluated once and cached for the second submission
    assert len(list((board["store"] / "cache" / "base").glob("*.parquet"))) == 1


def test_duplicate_is_recognised(board, capsys):
    before = snapshot(board["store"])
    code, _, err = run_cli(capsys, "leaderboard", "submit", "--store", str(board["store"]),
                           *map(str, board["checkpoints"]["ga"]))
    assert code == 2 and "duplicate submission" in err and len(err.strip().splitlines()) == 1
    assert snapshot(board["store"]) == before


def variant(board, folder: Path, source: str = "ga", edit_high=None, **record_changes) -> list[str]:
    """Copies of a method's three runs (weights, configs, run records), with changed run records and
    the forget_high copy edited by ``edit_high``."""
    out = []
    for run in board["checkpoints"][source][:: len(RUNS[source])]:  # the first seed of each stratum
        target = folder / run.name
        shutil.copytree(run, target, ignore=shutil.ignore_patterns("checkpoint-*"))
        record = json.loads((target / "run_record.json").read_text())
        (target / "run_record.json").write_text(json.dumps({**record, **record_changes}))
        if edit_high is not None and record["forget_split"] == "forget_high":
            edit_high(target)
        out.append(str(target))
    return out


def _foreign_weights(folder: Path) -> None:
    """Another architecture (and tokenizer) under the same run record."""
    record = (folder / "run_record.json").read_text()
    shutil.rmtree(folder)
    make_checkpoint(folder, run_record=json.loads(record))


def test_bad_inputs_one_line_each_and_store_unchanged(board, capsys, tmp_path, monkeypatch):
    store = str(board["store"])
    before = snapshot(board["store"])
    meta = tmp_path / "meta.json"
    meta.write_text('{"schema": "freq_unlearn.submission/2", "method": "x",\n "base_model": "m", "checkpoints": []}')
    old_meta = tmp_path / "old.json"
    old_meta.write_text(json.dumps({"schema": "freq_unlearn.submission/1", "method": "x", "base_model": "m",
                                    "forget_split": "forget_high", "hyperparameters": {}, "checkpoints": []}))
    missing = tmp_path / "no_such_checkpoint"
    foreign = variant(board, tmp_path / "foreign", edit_high=_foreign_weights, method="foreign", seed=7)
    pickled = variant(board, tmp_path / "pickled", edit_high=lambda f: (f / "model.safetensors").rename(f / "pytorch_model.bin"))
    other_base = variant(board, tmp_path / "other_base", source="graddiff", base_model="gpt2", seed=9)
    hub_meta = tmp_path / "hub.json"
    hub_meta.write_text(json.dumps({
        "schema": "freq_unlearn.submission/2", "method": "hub", "base_model": str(board["model"]),
        "hyperparameters": {}, "checkpoints": [{"path": "someone/unlearned", "seed": 0, "target": f"forget_{b}"}
                                               for b in STRATA]}))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    capsys.readouterr()  # drop the progress output of building the checkpoints above
    cases = [
        (["--metadata", str(meta)], "meta.json: missing field 'hyperparameters'"),
        (["--metadata", str(old_meta)], "'freq_unlearn.submission/1' (one forget split per submission) is no longer accepted"),
        ([str(missing)], "no_such_checkpoint: checkpoint folder not found"),
        (foreign[:2], "no checkpoint targets forget_high"),
        (foreign, "not an unlearned copy"),
        (pickled, "pickle-based weights (pytorch_model.bin)"),
        (other_base, "declares base model 'gpt2'"),
        (["--metadata", str(hub_meta)], "someone/unlearned: not a local folder, and the Hub is unreachable offline"),
    ]
    for argv, expected in cases:
        code, _, err = run_cli(capsys, "leaderboard", "submit", "--store", store, *argv)
        assert code == 2, (argv, err)
        assert expected in err and len(err.strip().splitlines()) == 1, err
    assert snapshot(board["store"]) == before

    # a results file edited by hand: every reader refuses it in one line, and it stays as it was
    tampered_store = tmp_path / "tampered"
    shutil.copytree(board["store"], tampered_store)
    result_file = sorted((tampered_store / "results").rglob("*.json"))[0]
    data = json.loads(result_file.read_text())
    data["metrics"]["headline"]["value"] = 1.0
    result_file.write_text(json.dumps(data, indent=2))
    edited = snapshot(tampered_store)
    for action in (["list"], ["export", "--out", str(tmp_path / "export")], ["serve", "--port", "9"]):
        code, _, err = run_cli(capsys, "leaderboard", *action, "--store", str(tampered_store))
        assert code == 2 and "checksum mismatch" in err and len(err.strip().splitlines()) == 1, err
    assert snapshot(tampered_store) == edited
    assert not (tmp_path / "export" / "index.html").exists()


def _with_xss_row(board, tmp_path) -> Path:
    """A copy of the store plus a third, properly sealed result whose method name is markup."""
    from freq_unlearn.leaderboard.store import LocalStore

    root = tmp_path / "xss_store"
    shutil.copytree(board["store"], root, ignore=shutil.ignore_patterns("cache"))
    store = LocalStore(root)
    result = json.loads(sorted((root / "results").rglob("*.json"))[0].read_text())
    result.update(method=XSS, submission_id="0123456789abcdef")
    store.add_request(result["submission_id"], XSS, result["submission"])
    store.put_result(result)
    return root


def test_export_and_page_in_a_real_browser(board, tmp_path, browser):
    store = _with_xss_row(board, tmp_path)
    shots = screenshot_dir(tmp_path)
    out = tmp_path / "site"
    assert cli(["leaderboard", "export", "--store", str(store), "--out", str(out)]) == 0
    for name in ("forgetting_by_stratum", "retention_vs_count", "prob_vs_gen"):
        assert (out / f"{name}.png").stat().st_size > 1000 and (out / f"{name}.svg").is_file()

    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((out / "index.html").as_uri())
    assert page.locator("#board tbody tr").count() == 3
    assert set(page.locator("#board tbody tr td:nth-child(2)").all_inner_texts()) == {"ga", "graddiff", XSS}
    page.fill("#search", "graddiff")
    assert page.locator("#board tbody tr:visible td:nth-child(2)").all_inner_texts() == ["graddiff"]
    page.fill("#search", "")
    page.screenshot(path=str(shots / "leaderboard_export.png"), full_page=True)
    # the per-method view: a click on a method shows its bars, its table and its reported curves
    page.locator("#board tbody tr td:nth-child(2)", has_text="graddiff").click()
    view = page.locator(".method-view:visible")
    assert view.count() == 1 and view.locator("h3").inner_text() == "graddiff"
    assert view.locator("img").first.get_attribute("alt") == "Per-stratum forgetting of graddiff"
    assert view.locator("table.strata-table tbody tr").count() == 4
    has_curves = any(r["evaluations"] for r in json.loads(next(
        p for p in (store / "results").rglob("*.json") if json.loads(p.read_text())["method"] == "graddiff").read_text())["runs"])
    assert view.locator("figure.curves-plot").count() == int(has_curves)
    page.locator("#board tbody tr td:nth-child(2)", has_text="onerror").click()
    assert page.locator(".method-view:visible h3").inner_text() == XSS
    page.close()

    # `freq-unlearn leaderboard serve`, as a user starts it
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "freq_unlearn.leaderboard", "serve", "--store", str(store), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.time() < deadline, "the server did not come up"
                time.sleep(0.5)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#lb-table .virtual-row", timeout=30_000)
        methods_js = "Array.from(document.querySelectorAll('#lb-table .virtual-row')).map(r => r.children[1].innerText.trim())"
        page.wait_for_function(f"{methods_js}.length === 3", timeout=15_000)
        assert set(page.evaluate(methods_js)) == {"ga", "graddiff", XSS}
        page.fill("#lb-search textarea, #lb-search input", "onerror")
        page.wait_for_function(f"{methods_js}.length === 1", timeout=15_000)
        assert page.evaluate(methods_js) == [XSS]
        page.fill("#lb-search textarea, #lb-search input", "")
        page.wait_for_function(f"{methods_js}.length === 3", timeout=15_000)
        page.wait_for_selector("#lb-plot-prob_vs_gen img", timeout=15_000)
        page.screenshot(path=str(shots / "leaderboard_gradio.png"), full_page=True)
        # any column sorts from its header menu (Gradio 6: the "⋮" button): GradDiff has 2 seeds
        header = page.locator("#lb-table th[title='Seeds']")
        for order, position in (("Sort descending", 0), ("Sort ascending", 2)):
            header.hover()
            header.locator("button.cell-menu-button").click()
            page.get_by_role("menuitem", name=order).click()
            page.wait_for_function(f"{methods_js}[{position}] === 'graddiff'", timeout=15_000)
        # Gradio's own filter box
        page.fill("#lb-table input.search-input", "graddiff")
        page.wait_for_function(f"JSON.stringify({methods_js}) === '[\"graddiff\"]'", timeout=15_000)
        # compact columns by default; the toggle shows every column
        assert page.locator("#lb-table th[title='Erased high']").count() == 0
        page.check("#lb-all-columns input[type=checkbox]")
        page.wait_for_selector("#lb-table th[title='Erased high']", timeout=15_000)
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert dialogs == []
