"""Static export: one self-contained ``index.html`` (table + plots inlined) plus the plots as
PNG and SVG files and the rows as ``leaderboard.json`` / ``leaderboard.md``. Its per-method view
(a select, or a click on a method in the table) shows one section per submission: per-stratum
bars and numbers, and the forgetting curves its run records report (``plots.method_views``).

Every value from a submission is HTML-escaped on the way in, and a Content-Security-Policy
allows only this page's own script (by hash) and ``data:`` images: even a name that slipped
through escaping could not run code. The table's search, split filter and column sorting
are a few lines of vanilla JavaScript; sorting reads a ``data-v`` attribute so numbers sort
as numbers.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from freq_unlearn.leaderboard import plots
from freq_unlearn.leaderboard.ranking import (
    COLUMNS, CURVES_SOURCE, INTRO, METHOD_TABLE_COLUMNS, Column, format_table, rank,
)
from freq_unlearn.core.errors import UserError
from freq_unlearn.core.fsutil import atomic_write_text, prepare_output_dir

SCRIPT = """
(function () {
  const table = document.getElementById("board");
  const body = table.tBodies[0];
  const search = document.getElementById("search");
  const toggle = document.getElementById("all-columns");
  const counter = document.getElementById("shown");
  function apply() {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    for (const tr of body.rows) {
      const text = tr.dataset.search;
      const ok = !q || text.includes(q);
      tr.hidden = !ok;
      if (ok) shown += 1;
    }
    counter.textContent = shown + " of " + body.rows.length + " rows";
  }
  function sortBy(th) {
    const idx = th.cellIndex;
    const numeric = th.dataset.numeric === "1";
    const desc = th.getAttribute("aria-sort") !== "descending";
    for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const va = a.cells[idx].dataset.v, vb = b.cells[idx].dataset.v;
      if (va === "" && vb === "") return 0;
      if (va === "") return 1;
      if (vb === "") return -1;
      let c = numeric ? parseFloat(va) - parseFloat(vb) : va.localeCompare(vb);
      return desc ? -c : c;
    });
    for (const r of rows) body.appendChild(r);
  }
  for (const th of table.tHead.rows[0].cells) {
    th.addEventListener("click", function () { sortBy(th); });
  }
  // the per-method view: the select, or a click on a row's method, shows that method's section
  const picker = document.getElementById("method-select");
  function showView(id) {
    for (const v of document.querySelectorAll(".method-view")) v.hidden = v.id !== id;
    picker.value = id;
  }
  if (picker) {
    picker.addEventListener("change", function () { showView(picker.value); });
    for (const tr of body.rows) {
      tr.cells[1].addEventListener("click", function () {
        showView(tr.dataset.view);
        document.getElementById("method-view").scrollIntoView();
      });
    }
    showView(picker.value);
  }
  search.addEventListener("input", apply);
  toggle.addEventListener("change", function () { table.classList.toggle("all", toggle.checked); });
  apply();
})();
"""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; white-space: nowrap; }
td.text, th.text { text-align: left; }
th { background: #f1f1f1; cursor: pointer; position: sticky; top: 0; }
th[aria-sort=descending]::after { content: " \\25BC"; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
tr:nth-child(even) td { background: #fafafa; }
.controls { margin: 0.8rem 0; display: flex; gap: 1rem; align-items: center; }
.plots img { max-width: 100%; border: 1px solid #ddd; margin: 0.5rem 0; }
.note { color: #555; font-size: 13px; max-width: 60rem; }
table:not(.all) .extra { display: none; }
#board td:nth-child(2) { cursor: pointer; text-decoration: underline dotted; }
.method-view img { max-width: 100%; border: 1px solid #ddd; }
.method-view th { cursor: default; position: static; }
"""


def _cell(col: Column, value: Any) -> str:
    extra = "" if col.compact else " extra"
    if value is None:
        return f'<td class="{extra.strip()}" data-v="">-</td>'
    if col.numeric and isinstance(value, (int, float)):
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        return f'<td class="{extra.strip()}" data-v="{value!r}">{shown}</td>'
    text = html.escape(str(value), quote=True)
    return f'<td class="text{extra}" data-v="{text.lower()}">{text}</td>'


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _png(data: bytes) -> str:
    return f"data:image/png;base64,{base64.b64encode(data).decode()}"


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else esc(value)


def render_view(v: plots.MethodView) -> str:
    name = esc(v.method)
    head = "".join(f"<th>{esc(c)}</th>" for c in METHOD_TABLE_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{_number(r.get(c))}</td>" for c in METHOD_TABLE_COLUMNS) + "</tr>" for r in v.table)
    stem, data = v.strata.stem, v.strata.read_bytes()
    parts = [
        f'<section class="method-view" id="{v.view_id}" data-method="{name}">',
        f'<h3 class="view-method">{name}</h3><p class="note">submission <code>{esc(v.submission_id)}</code></p>',
        f'<figure class="strata-plot"><img alt="Per-stratum forgetting of {name}" src="{_png(data)}">'
        f'<figcaption>Per-stratum forgetting of {name}: net targeted forgetting in both views and the erased share, with'
        f' 95% intervals; hatched: collateral cost (<a href="{stem}.svg">SVG</a>, <a href="{stem}.png">PNG</a>)</figcaption></figure>',
        f'<table class="strata-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>',
        f'<h4>Forgetting curves</h4><p class="note">{esc(CURVES_SOURCE)}</p>',
    ]
    if v.curves is not None:
        stem, data = v.curves.stem, v.curves.read_bytes()
        parts.append(f'<figure class="curves-plot"><img alt="Forgetting curves of {name}, reported by the submitter\'s run records"'
                     f' src="{_png(data)}"><figcaption>Forgetting curves of {name} (reported by the submitter\'s run records;'
                     f' <a href="{stem}.svg">SVG</a>, <a href="{stem}.png">PNG</a>)</figcaption></figure>')
    if v.note:
        parts.append(f'<p class="no-curves">{esc(v.note)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def render_html(rows: Sequence[Mapping[str, Any]], images: Mapping[str, bytes], title: str, config: Mapping[str, Any],
                views: Sequence[plots.MethodView] = ()) -> str:
    head = "".join(
        f'<th class="{("" if c.numeric else "text") + ("" if c.compact else " extra")}" data-numeric="{int(c.numeric)}"'
        f' title="{esc(c.help)}">{esc(c.name)}</th>'
        for c in COLUMNS
    )
    body = []
    view_of = {id(r): v.view_id for r, v in zip(rows, views)}
    for r in rows:
        searchable = " ".join(str(r.get(c.name, "")) for c in COLUMNS if not c.numeric).lower()
        cells = "".join(_cell(c, r.get(c.name)) for c in COLUMNS)
        body.append(f'<tr data-search="{esc(searchable)}" data-view="{view_of.get(id(r), "")}">{cells}</tr>')
    options = "".join(f'<option value="{v.view_id}">{esc(v.choice)}</option>' for v in views)
    method_section = (
        '<h2 id="method-view">Per-method view</h2><div class="controls"><label for="method-select">Method</label>'
        f' <select id="method-select">{options}</select><span class="note">or click a method in the table</span></div>'
        + "\n".join(render_view(v) for v in views)
    ) if views else ""
    figures = "".join(
        f'<figure><img alt="{esc(name)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'
        f'<figcaption>{esc(name)} (<a href="{esc(name)}.svg">SVG</a>, <a href="{esc(name)}.png">PNG</a>)</figcaption></figure>'
        for name, data in images.items()
    )
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'"
    bench = esc(config.get("benchmark", "?"))
    base = esc(config.get("base_model", "?"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{esc(title)}</h1>
<p class="note">Benchmark <code>{bench}</code>, base model <code>{base}</code>. {esc(INTRO)} Click a column to sort.</p>
<div class="controls"><input id="search" type="search" placeholder="search method or id" aria-label="search">
<label><input id="all-columns" type="checkbox"> all columns</label><span id="shown"></span></div>
<table id="board"><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
<h2>Plots</h2><div class="plots">{figures}</div>
{method_section}
<script>{SCRIPT}</script>
</body></html>
"""


def export(results: Sequence[Mapping[str, Any]], out_dir: Path, config: Mapping[str, Any],
           title: str = "freq-unlearn leaderboard", force: bool = False) -> dict[str, Path]:
    """Write index.html, leaderboard.json/.md and the plots into ``out_dir``; returns the paths.

    The site is built in a temporary sibling folder and renamed into place, so a failure leaves
    the old site as it was; an existing non-empty ``out_dir`` is replaced only with ``force``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not force:
        raise UserError(f"export: {out_dir} already exists and is not empty; pass --force to replace it")
    rows = rank(results)
    with prepare_output_dir(out_dir, overwrite=True) as tmp:
        plot_files = plots.all_plots(results, tmp)
        images = {name: next(p for p in paths if p.suffix == ".png").read_bytes() for name, paths in plot_files.items()}
        views = plots.method_views(results, rows, tmp)
        for v in views:  # the per-method plots are files too (the page inlines their PNGs)
            for png in filter(None, (v.strata, v.curves)):
                plot_files[png.stem] = [png, png.with_suffix(".svg")]
        atomic_write_text(tmp / "index.html", render_html(rows, images, title, config, views))
        atomic_write_text(tmp / "leaderboard.json", json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        atomic_write_text(tmp / "leaderboard.md", format_table(rows) + "\n")
        names = {f"{name}.{p.suffix[1:]}": p.name for name, paths in plot_files.items() for p in paths}
    out = {"index": out_dir / "index.html", "json": out_dir / "leaderboard.json", "markdown": out_dir / "leaderboard.md"}
    out.update({key: out_dir / name for key, name in names.items()})
    return out
