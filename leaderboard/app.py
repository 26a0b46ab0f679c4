"""The Gradio page (``freq-unlearn leaderboard serve``): a thin shell over ``ranking`` and ``plots``.

The table is a ``gr.Dataframe`` (built-in filter box, the first two columns pinned, sort and
filter by any column from its header's menu) showing the compact columns; an "all columns"
checkbox shows the rest, and a server-side search box calls ``ranking.filter_rows``. Method names
are plain ``str`` cells, never Markdown or HTML, so Gradio renders them as text. The per-method view
(a dropdown) shows one method's per-stratum bars and numbers and the forgetting curves its run
records report (``plots.method_views``, the same as the static page); names appear only in labels,
choices and cells, which Gradio renders as text.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from freq_unlearn.leaderboard import plots
from freq_unlearn.leaderboard.ranking import (
    COLUMNS, COMPACT_COLUMNS, CURVES_SOURCE, INTRO, METHOD_TABLE_COLUMNS, filter_rows, rank,
)
from freq_unlearn.leaderboard.store import Store

PAGE_INTRO = f"""# freq-unlearn leaderboard
{INTRO}
Sort or filter by any column from its ⋮ menu; the search box narrows the table.
"""


def _columns(all_columns: bool) -> list[Any]:
    return [c for c in COLUMNS if all_columns or c.compact]


def _frame(rows: Sequence[Mapping[str, Any]], all_columns: bool = False):
    import pandas as pd

    cols = _columns(all_columns)
    return pd.DataFrame([[r.get(c.name) for c in cols] for r in rows], columns=[c.name for c in cols])


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
    views = plots.method_views(results, rows, plot_dir)

    def select(query: str, all_columns: bool):
        cols = _columns(all_columns)
        return gr.Dataframe(value=_frame(filter_rows(rows, query or ""), all_columns), headers=[c.name for c in cols],
                            datatype=["number" if c.numeric else "str" for c in cols])

    with gr.Blocks(title="freq-unlearn leaderboard") as demo:
        gr.Markdown(PAGE_INTRO)
        gr.Markdown(
            f"Benchmark `{_safe_code(config.get('benchmark', '?'))}`, "
            f"base model `{_safe_code(config.get('base_model', '?'))}`, {len(rows)} submission(s)."
        )
        with gr.Row():
            search = gr.Textbox(label="Search method or id", elem_id="lb-search", scale=3)
            toggle = gr.Checkbox(label="all columns", value=False, elem_id="lb-all-columns", scale=1)
        table = gr.Dataframe(
            value=_frame(rows),
            headers=list(COMPACT_COLUMNS),
            datatype=["number" if c.numeric else "str" for c in _columns(False)],
            interactive=False,
            show_search="filter",
            pinned_columns=2,
            wrap=False,
            max_height=520,
            elem_id="lb-table",
            label="Ranking",
        )
        search.change(select, [search, toggle], table)
        toggle.change(select, [search, toggle], table)
        gr.Markdown("## Plots")
        for name in plots.PLOT_NAMES:
            png = next(p for p in plot_files[name] if p.suffix == ".png")
            gr.Image(str(png), label=name.replace("_", " "), show_label=True, interactive=False,
                     elem_id=f"lb-plot-{name}", height=420)
        if views:
            _method_view(gr, views)
    return demo


def _view_outputs(gr: Any, v: plots.MethodView) -> tuple[Any, ...]:
    """The per-method components' values for one view; the method name only in labels and table
    cells (plain text in Gradio), never in Markdown."""
    return (
        gr.Image(value=str(v.strata), label=f"Per-stratum forgetting of {v.method}"),
        gr.Dataframe(value=_view_frame(v)),
        gr.Image(value=str(v.curves) if v.curves else None, visible=v.curves is not None,
                 label=f"Forgetting curves of {v.method}, reported by the submitter's run records"),
        gr.Textbox(value=v.note or "", visible=bool(v.note)),
    )


def _view_frame(v: plots.MethodView):
    import pandas as pd

    return pd.DataFrame([[r.get(c) for c in METHOD_TABLE_COLUMNS] for r in v.table], columns=list(METHOD_TABLE_COLUMNS))


def _method_view(gr: Any, views: Sequence[plots.MethodView]) -> None:
    """Choose a method: its per-stratum bars and numbers, and the curves its run records report."""
    gr.Markdown("## Per-method view")
    by_id = {v.view_id: v for v in views}
    first = views[0]
    pick = gr.Dropdown(choices=[(v.choice, v.view_id) for v in views], value=first.view_id, label="Method",
                       elem_id="lb-method", interactive=True)
    strata = gr.Image(str(first.strata), label=f"Per-stratum forgetting of {first.method}", show_label=True,
                      interactive=False, elem_id="lb-method-strata", height=360)
    table = gr.Dataframe(value=_view_frame(first), interactive=False, elem_id="lb-method-table",
                         label="Per-stratum scores (95% intervals); collateral: the untargeted strata",
                         datatype=["str" if c == "Stratum" or c.endswith("CI") else "number" for c in METHOD_TABLE_COLUMNS])
    gr.Markdown(f"**Forgetting curves.** {CURVES_SOURCE}")
    curves = gr.Image(str(first.curves) if first.curves else None, visible=first.curves is not None, show_label=True,
                      label=f"Forgetting curves of {first.method}, reported by the submitter's run records",
                      interactive=False, elem_id="lb-method-curves", height=340)
    note = gr.Textbox(first.note or "", visible=bool(first.note), show_label=False, interactive=False,
                      elem_id="lb-method-note", container=False)
    pick.change(lambda view_id: _view_outputs(gr, by_id[view_id]), pick, [strata, table, curves, note])


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
