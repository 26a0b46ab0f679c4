from __future__ import annotations

import os
import shutil
from pathlib import Path

from lb_helpers import fake_result

from freq_unlearn.leaderboard.export import export
from freq_unlearn.leaderboard.ranking import COLUMNS

XSS = "<img src=x onerror=alert(1)>"


def results():
    return [
        fake_result("GradDiff", "aaaa1111", 0.42, gen_high=0.4),
        fake_result(XSS, "bbbb2222", 0.10, gen_high=0.8),
        fake_result("NPO", "cccc3333", 0.25, gen_high=0.6, seeds=3),
    ]


def test_export_writes_escaped_html_and_plots(tmp_path):
    files = export(results(), tmp_path, {"benchmark": "bench", "base_model": "tiny"})
    html = files["index"].read_text()
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    for name in ("forgetting_by_stratum", "retention_vs_count", "prob_vs_gen"):
        assert files[f"{name}.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in files[f"{name}.svg"].read_bytes()[:2000]
    assert "| GradDiff |" in files["markdown"].read_text()


def test_export_page_in_a_real_browser(tmp_path, browser):
    files = export(results(), tmp_path, {"benchmark": "bench", "base_model": "tiny"})
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(files["index"].as_uri())
    rows = page.locator("#board tbody tr")
    assert rows.count() == 3
    assert page.locator("#shown").inner_text() == "3 of 3 rows"  # the script ran (CSP allowed it)
    # ranked by headline, the XSS name shown as text, no image element made from it
    methods = page.locator("#board tbody tr td:nth-child(2)").all_inner_texts()
    assert methods == ["GradDiff", "NPO", XSS]
    assert page.locator("#board img").count() == 0
    # search filters rows
    page.fill("#search", "npo")
    assert page.locator("#board tbody tr:visible").count() == 1
    assert page.locator("#shown").inner_text() == "1 of 3 rows"
    page.fill("#search", "onerror")
    assert page.locator("#board tbody tr:visible td:nth-child(2)").all_inner_texts() == [XSS]
    page.fill("#search", "")
    # sorting by a numeric column, both ways
    page.click("#board th:text-is('Freq gap')")
    assert page.locator("#board tbody tr td:nth-child(2)").all_inner_texts() == [XSS, "NPO", "GradDiff"]
    page.click("#board th:text-is('Freq gap')")
    assert page.locator("#board tbody tr td:nth-child(2)").all_inner_texts() == ["GradDiff", "NPO", XSS]
    # compact columns by default, every column behind the toggle
    assert not page.locator("#board th:text-is('Erased high')").is_visible()
    assert page.locator("#board th:text-is('Robustness')").is_visible()
    page.check("#all-columns")
    assert page.locator("#board th:text-is('Erased high')").is_visible()
    assert page.locator("#board tbody tr td:visible").count() == 3 * len(COLUMNS)
    assert page.locator(".plots img").count() == 3
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    shot = tmp_path / "export.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("FREQ_UNLEARN_SCREENSHOTS"):
        Path(os.environ["FREQ_UNLEARN_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(os.environ["FREQ_UNLEARN_SCREENSHOTS"]) / "export_unit.png")
    page.wait_for_timeout(200)
    assert dialogs == [] and errors == []
    page.close()
