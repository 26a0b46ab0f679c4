"""The per-method view (issue 14): one method's per-stratum bars and numbers and the forgetting
curves its run records report, on the static page and the Gradio page; the run records'
per-step evaluations kept in the result on the way through intake."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from lb_helpers import curve, fake_result, make_runs

from freq_unlearn.leaderboard.export import export
from freq_unlearn.leaderboard.ranking import METHOD_TABLE_COLUMNS, curves_note, method_table, run_curves
from freq_unlearn.leaderboard.store import LocalStore, seal
from freq_unlearn.leaderboard.submission import SubmissionError, check_evaluations, run_record_evaluations

XSS = "<img src=x onerror=alert(1)>"
CONFIG = {"benchmark": "bench", "base_model": "tiny"}
NO_CURVES = "No forgetting curves: the run records of this submission hold no per-step evaluations."


def results():
    return [
        fake_result("GradDiff", "aaaa1111", 0.42, gen_high=0.4, evaluations=curve(drop=0.1)),
        fake_result(XSS, "bbbb2222", 0.10, gen_high=0.8, evaluations=curve(drop=0.05)),
        fake_result("NPO", "cccc3333", 0.25, gen_high=0.6, seeds=2, evaluations=None),
    ]


def expected_cells(result) -> list[list[str]]:
    """The per-stratum table as the stored result holds it, formatted as the page shows it."""
    m = result["metrics"]

    def cells(key: str | None) -> list[str]:
        if key is None or key not in m:
            return ["-", ""]
        return [f"{m[key]['value']:.3f}", f"[{m[key]['ci_low']:.3f}, {m[key]['ci_high']:.3f}]"]

    rows = [[f"{b} (targeted)", *cells(f"forget_prob/{b}"), *cells(f"forget_gen/{b}"), *cells(f"erased/{b}")]
            for b in ("low", "medium", "high")]
    rows.append(["collateral (untargeted strata)", *cells("collateral"), *cells(None), *cells(None)])
    return rows


# ---- pure parts --------------------------------------------------------------------------------

def test_method_table_holds_the_stored_scores_and_intervals():
    result = results()[0]
    table = method_table(result)
    assert [r["Stratum"] for r in table] == ["low (targeted)", "medium (targeted)", "high (targeted)",
                                            "collateral (untargeted strata)"]
    shown = [[("-" if r[c] is None else f"{r[c]:.3f}") if not (c == "Stratum" or c.endswith("CI")) else r[c]
              for c in METHOD_TABLE_COLUMNS] for r in table]
    assert shown == expected_cells(result)
    assert table[2]["Erased"] == round(result["metrics"]["erased/high"]["value"], 3)


def test_curves_note_says_why_there_are_no_curves():
    assert curves_note(results()[0]) is None
    assert curves_note(results()[2]) == NO_CURVES
    old = {**fake_result("GA", "d", 0.3), "schema": "freq_unlearn.leaderboard_result/2"}
    assert curves_note(old) == ("No forgetting curves: this result's format (freq_unlearn.leaderboard_result/2) did not"
                                " keep the run records' per-step evaluations.")
    scored_only = fake_result("GA", "e", 0.3)  # e.g. score_submission's output, never stored
    assert curves_note(scored_only) == "No forgetting curves: this result does not hold the run records' per-step evaluations."
    partial = results()[0]
    partial["runs"][1]["evaluations"] = []
    assert curves_note(partial) == "No per-step evaluations in the run records of: medium seed 0."
    assert [r["target"] for r in run_curves(partial)] == ["low", "medium", "high"]


def test_run_record_evaluations_are_checked_and_kept(tmp_path: Path):
    evals = curve()
    runs = make_runs(tmp_path, base_model="base", seeds=(1,), evaluations=evals)
    assert run_record_evaluations(runs[0], "forget_low", 1) == [
        {"step": e["step"], "forget": {k: float(v) for k, v in e["forget"].items()},
         "retain": {k: float(v) for k, v in e["retain"].items()}} for e in evals]
    assert run_record_evaluations(runs[0], "forget_low", 2) is None  # a record of another run
    assert run_record_evaluations(runs[0], "forget_high", 1) is None
    assert run_record_evaluations(tmp_path / "nowhere", "forget_low", 1) is None
    assert check_evaluations("r", None) == [] and check_evaluations("r", [{"step": 0, "forget": {"x": None}}]) == [
        {"step": 0, "forget": {"x": None}, "retain": {}}]
    bad = [
        ({"step": -1}, "evaluations[0].step': must be an integer >= 0"),
        ({"step": 1, "forget": {"answer_prob": "high"}}, "evaluations[0].forget.answer_prob': must be a finite number"),
        ({"step": 1, "forget": {"answer_prob": 10 ** 400}}, "must be a finite number"),
        ({"step": 1, "retain": {"a\u202eb": 0.1}}, "U+202E"),
        ({"step": 1, "loss": 0.3}, "must be an object with step, forget and retain"),
    ]
    for entry, message in bad:
        with pytest.raises(SubmissionError, match=re.escape(message)) as err:
            check_evaluations("run_record.json", [entry])
        assert len(str(err.value).splitlines()) == 1


def test_store_writes_format_3_and_reads_format_2_as_is(tmp_path: Path):
    store = LocalStore(tmp_path)
    store.put_result(results()[0])
    old = seal({**fake_result("GA", "dddd4444", 0.3), "schema": "freq_unlearn.leaderboard_result/2"})
    (tmp_path / "results" / "GA").mkdir(parents=True)
    (tmp_path / "results" / "GA" / "dddd4444.json").write_text(json.dumps(old))
    read = {r["method"]: r for r in store.results()}
    assert read["GradDiff"]["schema"] == "freq_unlearn.leaderboard_result/3"
    assert read["GradDiff"]["runs"][0]["evaluations"] == curve(drop=0.1)
    assert read["GA"] == old and "No forgetting curves: this result's format" in curves_note(read["GA"])


# ---- the static page --------------------------------------------------------------------------

def test_two_submissions_of_one_name_are_told_apart_in_the_chooser(tmp_path: Path):
    from freq_unlearn.leaderboard.plots import method_views
    from freq_unlearn.leaderboard.ranking import rank

    data = [*results(), fake_result("NPO", "eeee5555ffff", 0.05)]
    views = method_views(data, rank(data), tmp_path)
    assert [v.choice for v in views] == ["GradDiff", "NPO (cccc3333)", XSS, "NPO (eeee5555)"]
    assert [v.method for v in views] == ["GradDiff", "NPO", XSS, "NPO"]


def test_export_writes_each_methods_plots(tmp_path: Path):
    files = export(results(), tmp_path, CONFIG)
    for n in (1, 2, 3):
        assert files[f"method_{n}_strata.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in files[f"method_{n}_strata.svg"].read_bytes()[:2000]
    # ranked GradDiff, NPO, XSS: NPO (view 2) has no evaluations, hence no curves file
    assert files["method_1_curves.png"].is_file() and files["method_3_curves.png"].is_file()
    assert "method_2_curves.png" not in files and not (tmp_path / "method_2_curves.png").exists()
    html = files["index"].read_text()
    assert XSS not in html and html.count("&lt;img src=x onerror=alert(1)&gt;") >= 6


def test_method_view_in_a_real_browser(tmp_path: Path, browser):
    data = results()
    files = export(data, tmp_path, CONFIG)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(files["index"].as_uri())
    assert page.locator("#method-select option").all_inner_texts() == ["GradDiff", "NPO", XSS]  # ranked
    views = page.locator(".method-view:visible")

    def current_view() -> dict:
        assert views.count() == 1
        view = views.first
        return {
            "method": view.locator("h3.view-method").inner_text(),
            "alts": [img.get_attribute("alt") for img in view.locator("img").all()],
            "cells": [row.locator("td").all_inner_texts() for row in view.locator("table.strata-table tbody tr").all()],
            "note": view.locator(".no-curves").all_inner_texts(),
            "loaded": view.evaluate("v => Array.from(v.querySelectorAll('img')).every(i => i.complete && i.naturalWidth > 400)"),
        }

    # the top-ranked method is shown first: its bars, its table, its curves
    shown = current_view()
    assert shown["method"] == "GradDiff" and shown["loaded"]
    assert shown["alts"] == ["Per-stratum forgetting of GradDiff",
                             "Forgetting curves of GradDiff, reported by the submitter's run records"]
    assert shown["cells"] == expected_cells(data[0]) and shown["note"] == []
    assert "reported by the submitter's run records" in views.first.locator("figure.curves-plot figcaption").inner_text()
    assert "verifies only the final checkpoints" in views.first.inner_text()

    # choosing another method from the select: a run without evaluations says so in one line
    page.select_option("#method-select", label="NPO")
    shown = current_view()
    assert shown["method"] == "NPO" and shown["alts"] == ["Per-stratum forgetting of NPO"]
    assert shown["note"] == [NO_CURVES] and shown["cells"] == expected_cells(data[2])

    # a click on the XSS method in the table opens its view; its name is text everywhere
    page.locator("#board tbody tr td:nth-child(2)", has_text="onerror").click()
    shown = current_view()
    assert shown["method"] == XSS and shown["loaded"]
    assert shown["alts"] == [f"Per-stratum forgetting of {XSS}",
                             f"Forgetting curves of {XSS}, reported by the submitter's run records"]
    assert shown["cells"] == expected_cells(data[1])
    assert page.locator("#method-select").input_value() == "view-3"
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert page.evaluate("Array.from(document.images).every(i => i.src.startsWith('data:image/png;base64,'))")
    page.wait_for_timeout(200)
    assert dialogs == [] and errors == []
    page.close()


# ---- the Gradio page ---------------------------------------------------------------------------

def test_method_view_on_the_gradio_page(tmp_path: Path, browser):
    from freq_unlearn.leaderboard.app import build_app, launch

    data = results()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo = launch(build_app(data, CONFIG, plot_dir=tmp_path / "plots"), port=port, block=False)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#lb-method-strata img", timeout=30_000)
        assert "Per-stratum forgetting of GradDiff" in page.locator("#lb-method-strata").inner_text()
        assert "Forgetting curves of GradDiff" in page.locator("#lb-method-curves").inner_text()
        table_js = ("Array.from(document.querySelectorAll('#lb-method-table .virtual-row'))"
                    ".map(r => Array.from(r.children).map(c => c.innerText.trim()))")

        def shown_table() -> list[list[str]]:  # Gradio shows 1.8 for 1.800 and "" for a missing value
            page.wait_for_function(f"{table_js}.length === 4", timeout=15_000)
            return [[c if "[" in c or "(" in c else f"{float(c):.3f}" if c else "-" if i % 2 else ""
                     for i, c in enumerate(row)] for row in page.evaluate(table_js)]

        assert shown_table() == expected_cells(data[0])
        for img in ("#lb-method-strata img", "#lb-method-curves img"):  # the PNGs load (lazily: scroll first)
            page.locator(img).scroll_into_view_if_needed()
            page.wait_for_function(f"(i => i && i.complete && i.naturalWidth > 400)(document.querySelector('{img}'))",
                                   timeout=15_000)
        assert page.locator("#lb-method-note").count() == 0 or not page.locator("#lb-method-note").is_visible()

        def choose(method: str) -> None:
            page.locator("#lb-method input").click()
            page.get_by_role("option", name=method, exact=True).click()

        choose("NPO")  # no evaluations: the curves image goes, one line says why
        page.wait_for_function("document.querySelector('#lb-method-strata').innerText.includes('of NPO')", timeout=15_000)
        page.wait_for_selector("#lb-method-note", state="visible", timeout=15_000)
        assert page.locator("#lb-method-note textarea, #lb-method-note input").input_value() == NO_CURVES
        assert page.locator("#lb-method-curves img").count() == 0
        page.wait_for_function(f"JSON.stringify({table_js}[2]).includes('0.4')", timeout=15_000)  # NPO: erased/high 0.4
        assert shown_table() == expected_cells(data[2])
        choose(XSS)
        page.wait_for_function("document.querySelector('#lb-method-strata').innerText.includes('onerror')", timeout=15_000)
        assert f"Per-stratum forgetting of {XSS}" in page.locator("#lb-method-strata").inner_text()
        page.wait_for_selector("#lb-method-curves img", timeout=15_000)
        assert f"Forgetting curves of {XSS}" in page.locator("#lb-method-curves").inner_text()
        assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
        page.wait_for_function(f"JSON.stringify({table_js}[2]).includes('0.2')", timeout=15_000)  # erased/high 0.2
        assert shown_table() == expected_cells(data[1])
        page.wait_for_timeout(300)
        assert dialogs == []
        page.close()
    finally:
        demo.close()
