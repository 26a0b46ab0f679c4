"""Static export: one self-contained ``index.html`` (table + plots inlined) plus the plots as
PNG and SVG files and the rows as ``leaderboard.json`` / ``leaderboard.md``.

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
from freq_unlearn.leaderboard.ranking import COLUMNS, INTRO, Column, format_table, rank
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


def render_html(rows: Sequence[Mapping[str, Any]], images: Mapping[str, bytes], title: str, config: Mapping[str, Any]) -> str:
    esc = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    head = "".join(
        f'<th class="{("" if c.numeric else "text") + ("" if c.compact else " extra")}" data-numeric="{int(c.numeric)}"'
        f' title="{esc(c.help)}">{esc(c.name)}</th>'
        for c in COLUMNS
    )
    body = []
    for r in rows:
        searchable = " ".join(str(r.get(c.name, "")) for c in COLUMNS if not c.numeric).lower()
        cells = "".join(_cell(c, r.get(c.name)) for c in COLUMNS)
        body.append(f'<tr data-search="{esc(searchable)}">{cells}</tr>')
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
        atomic_write_text(tmp / "index.html", render_html(rows, images, title, config))
        atomic_write_text(tmp / "leaderboard.json", json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        atomic_write_text(tmp / "leaderboard.md", format_table(rows) + "\n")
        names = {f"{name}.{p.suffix[1:]}": p.name for name, paths in plot_files.items() for p in paths}
    out = {"index": out_dir / "index.html", "json": out_dir / "leaderboard.json", "markdown": out_dir / "leaderboard.md"}
    out.update({key: out_dir / name for key, name in names.items()})
    return out
