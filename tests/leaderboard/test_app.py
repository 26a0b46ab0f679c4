from __future__ import annotations

import json
import socket

from conftest import fake_result

from freq_unlearn.leaderboard.app import build_app, launch

XSS = "<img src=x onerror=alert(1)>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Gradio 6 draws the body as a virtual list of div rows, one child per cell.
ROWS = "#lb-table .virtual-row"
METHODS_JS = f"Array.from(document.querySelectorAll('{ROWS}')).map(r => r.children[1].innerText.trim())"


def method_cells(page) -> list[str]:
    return page.evaluate(METHODS_JS)


def wait_methods(page, expected: list[str]) -> None:
    literal = json.dumps(json.dumps(expected, separators=(",", ":")))  # a JS string of compact JSON
    page.wait_for_function(f"JSON.stringify({METHODS_JS}) === {literal}", timeout=15_000)


def test_gradio_page_in_a_real_browser(tmp_path, browser):
    results = [
        fake_result("GradDiff", "aaaa1111", 0.42, gen_high=0.4),
        fake_result(XSS, "bbbb2222", 0.10, gen_high=0.8),
        fake_result("NPO", "cccc3333", 0.25),
    ]
    port = free_port()
    demo = launch(build_app(results, {"benchmark": "bench", "base_model": "tiny"}, tmp_path / "plots"),
                  port=port, block=False)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector(ROWS, timeout=30_000)
        wait_methods(page, ["GradDiff", "NPO", XSS])  # ranked, the name as text
        assert page.locator("#lb-table img").count() == 0
        # the server-side search box
        page.fill("#lb-search textarea, #lb-search input", "npo")
        wait_methods(page, ["NPO"])
        page.fill("#lb-search textarea, #lb-search input", "onerror")
        wait_methods(page, [XSS])
        page.fill("#lb-search textarea, #lb-search input", "")
        wait_methods(page, ["GradDiff", "NPO", XSS])
        # sorting through a column's menu (Gradio 6: the header's "⋮" button)
        header = page.locator("#lb-table th[title='Gen ret high']")
        header.hover()
        header.locator("button.cell-menu-button").click()
        page.get_by_role("menuitem", name="Sort descending").click()
        wait_methods(page, [XSS, "NPO", "GradDiff"])  # 0.8, 0.5, 0.4
        header.hover()
        header.locator("button.cell-menu-button").click()
        page.get_by_role("menuitem", name="Sort ascending").click()
        wait_methods(page, ["GradDiff", "NPO", XSS])
        # Gradio's own filter box
        page.fill("#lb-table input.search-input", "Grad")
        wait_methods(page, ["GradDiff"])
        assert method_cells(page) == ["GradDiff"]
        for name in ("retention_by_stratum", "retention_vs_count", "prob_vs_gen"):
            page.wait_for_selector(f"#lb-plot-{name} img", timeout=15_000)
        page.screenshot(path=str(tmp_path / "gradio.png"), full_page=True)
        assert dialogs == []
        page.close()
    finally:
        demo.close()
