"""The Gradio page (``freq-unlearn leaderboard serve``): a thin shell over ``ranking`` and ``plots``.

The table is a ``gr.Dataframe`` (built-in filter box, the first two columns pinned, sort
and filter by any column from its header's menu) plus a server-side search box and a
forget-split filter that call ``ranking.filter_rows``. Method names are plain ``str`` cells, never Markdown or HTML, so
Gradio renders them as text.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from freq_unlearn.leaderboard import plots
from freq_unlearn.leaderboard.ranking import COLUMNS, filter_rows, rank
from freq_unlearn.leaderboard.store import Store

INTRO = """# freq-unlearn leaderboard
Unlearning methods ranked by the **headline score**: the forgetting of the least-forgotten
frequency stratum (a fact counts as forgotten only when neither the generation view nor the
probability view still recovers it), scaled down when utility falls more than 10% below the
base model's. Retention is measured on the facts the base model knew before unlearning.
Sort or filter by any column from its ⋮ menu; the search box and the split filter narrow the table.
"""


def _frame(rows: Sequence[Mapping[str, Any]]):
    import pandas as pd

    return pd.DataFrame([[r.get(c.name) for c in COLUMNS] for r in rows], columns=[c.name for c in COLUMNS])


def _splits(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return ["all"] + sorted({str(r.get("Forget split", "")) for r in rows})


def _gradio() -> Any:
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read at import: no phoning home
    import gradio as gr

    return gr


def build_app(results: Sequence[Mapping[str, Any]], config: Mapping[str, Any], plot_dir: Path | None = None) -> Any:
    gr = _gradio()

    rows = rank(results)
    plot_dir = plot_dir or Path(tempfile.mkdtemp(prefix="freq_unlearn_plots_"))
    plot_files = plots.all_plots(results, plot_dir)

    def select(query: str, split: str):
        chosen = filter_rows(rows, query or "")
        if split and split != "all":
            chosen = [r for r in chosen if r.get("Forget split") == split]
        return _frame(chosen)

    with gr.Blocks(title="freq-unlearn leaderboard") as demo:
        gr.Markdown(INTRO)
        gr.Markdown(
            f"Benchmark `{_safe_code(config.get('benchmark', '?'))}`, "
            f"base model `{_safe_code(config.get('base_model', '?'))}`, {len(rows)} submission(s)."
        )
        with gr.Row():
            search = gr.Textbox(label="Search method, split or id", elem_id="lb-search", scale=3)
            split = gr.Dropdown(_splits(rows), value="all", label="Forget split", elem_id="lb-split", scale=1)
        table = gr.Dataframe(
            value=_frame(rows),
            headers=[c.name for c in COLUMNS],
            datatype=["number" if c.numeric else "str" for c in COLUMNS],
            interactive=False,
            show_search="filter",
            pinned_columns=2,
            wrap=False,
            max_height=520,
            elem_id="lb-table",
            label="Ranking",
        )
        search.change(select, [search, split], table)
        split.change(select, [search, split], table)
        gr.Markdown("## Plots")
        for name in plots.PLOT_NAMES:
            png = next(p for p in plot_files[name] if p.suffix == ".png")
            gr.Image(str(png), label=name.replace("_", " "), show_label=True, interactive=False,
                     elem_id=f"lb-plot-{name}", height=420)
    return demo


def _safe_code(text: Any) -> str:
    """Config values go into Markdown inline code: drop backticks and angle brackets."""
    return str(text).replace("`", "'").replace("<", "‹").replace(">", "›")


def launch(demo: Any, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> Any:
    """Launch without reaching out: system fonts (no Google Fonts), no analytics, no share link."""
    gr = _gradio()
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=not block, quiet=True,
                share=False, theme=theme, footer_links=[], show_error=False)
    return demo


def serve(store: Store, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> Any:
    return launch(build_app(store.results(), store.config()), host, port, block)
