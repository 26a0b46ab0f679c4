"""Plots for the page and the static export (matplotlib, Agg backend, PNG + SVG).

* ``forgetting_by_stratum``: per method, targeted forgetting of each stratum net of the untargeted
  control, in each view, with the 95% interval as error bars;
* ``retention_vs_count``: per method, per-item retention against log10(count) on the targeted
  stratum (facts grouped into count bins; the share of known facts still known per bin);
* ``prob_vs_gen``: probability-view against generation-view net forgetting per method and
  stratum: the two views disagreeing;
* per method (``method_views``): its per-stratum bars (both views, erased share, collateral cost) and
  its forgetting curves as its run records report them (per-step forget/retain evaluations).

A method has the same colour in every plot (``color``: its position in the results).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freq_unlearn.leaderboard.ranking import curve_metric, curves_note, method_table, ranked_order, run_curves

STRATA = ("low", "medium", "high")
VIEWS = (("gen", "generation"), ("prob", "probability"))
PLOT_NAMES = ("forgetting_by_stratum", "retention_vs_count", "prob_vs_gen")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def label(method: str, max_chars: int = 40) -> str:
    """Method names are user text: keep matplotlib from reading them as mathtext."""
    text = method if len(method) <= max_chars else method[: max_chars - 1] + "…"
    return text.replace("$", r"\$")


def _metric(result: Mapping[str, Any], name: str) -> tuple[float, float, float] | None:
    entry = result.get("metrics", {}).get(name)
    if not isinstance(entry, Mapping) or not isinstance(entry.get("value"), (int, float)):
        return None
    mean = float(entry["value"])
    low = entry.get("ci_low") if isinstance(entry.get("ci_low"), (int, float)) else mean
    high = entry.get("ci_high") if isinstance(entry.get("ci_high"), (int, float)) else mean
    if not all(math.isfinite(x) for x in (mean, low, high)):
        return None
    return mean, float(low), float(high)


def _legend(fig: Any, *axes: Any) -> None:
    """One legend for the figure, outside the axes (it would hide bars and points)."""
    handles, labels = {}, []
    for ax in axes:
        for h, text in zip(*ax.get_legend_handles_labels()):
            if text not in handles:
                handles[text] = h
                labels.append(text)
    if labels:
        fig.legend([handles[t] for t in labels], labels, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))


def _save(fig: Any, out_dir: Path, name: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "svg"):
        path = out_dir / f"{name}.{ext}"
        tmp = out_dir / f".{name}.tmp.{ext}"
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format=ext, metadata={"Date": None} if ext == "svg" else None)
        tmp.replace(path)
        paths.append(path)
    _plt().close(fig)
    return paths


def color(i: int) -> str:
    """A method's colour, the same in every plot (the board's and its per-method view): its position
    in the results the page was built from."""
    return f"C{i % 10}"


# each panel's label follows its view (the generation view is scored by ROUGE-L recall)
Y_LABELS = {"gen": "ROUGE-L recall forgetting, net of control", "prob": "gold log p forgetting, net of control (nats)"}


def forgetting_by_stratum(results: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    width = 0.8 / max(1, len(results))
    for ax, (view, view_name) in zip(axes, VIEWS):
        for i, result in enumerate(results):
            xs, ys, errs = [], [], [[], []]
            for j, b in enumerate(STRATA):
                m = _metric(result, f"forget_{view}/{b}")
                if m is None:
                    continue
                xs.append(j - 0.4 + width * (i + 0.5))
                ys.append(m[0])
                errs[0].append(max(0.0, m[0] - m[1]))
                errs[1].append(max(0.0, m[2] - m[0]))
            ax.bar(xs, ys, width=width, yerr=errs, capsize=3, color=color(i), label=label(str(result.get("method", "?"))))
        ax.set_xticks(range(len(STRATA)), [f"{b}\n(targeted)" for b in STRATA])
        ax.set_title(f"{view_name} view")
        ax.set_ylabel(Y_LABELS[view])
        ax.axhline(0, color="grey", lw=0.8)
        ax.grid(axis="y", alpha=0.3)
    _legend(fig, axes[0])
    fig.suptitle("Targeted forgetting per frequency stratum, net of the untargeted control (95% interval)")
    return _save(fig, out_dir, "forgetting_by_stratum")


def _binned_retention(items: Sequence[Mapping[str, Any]], view: str, n_bins: int = 6) -> tuple[list[float], list[float]]:
    known = [it for it in items if it.get(f"known_{view}") and isinstance(it.get("count"), (int, float)) and it["count"] > 0]
    if not known:
        return [], []
    logs = sorted(math.log10(it["count"]) for it in known)
    lo, hi = logs[0], logs[-1]
    if hi - lo < 1e-9:
        edges = [lo - 0.5, hi + 0.5]
    else:
        edges = [lo + (hi - lo) * k / n_bins for k in range(n_bins + 1)]
        edges[-1] += 1e-9
    xs, ys = [], []
    for a, b in zip(edges, edges[1:]):
        members = [it for it in known if a <= math.log10(it["count"]) < b]
        if members:
            xs.append(sum(math.log10(it["count"]) for it in members) / len(members))
            ys.append(sum(1.0 for it in members if it.get(f"kept_{view}")) / len(members))
    return xs, ys


def retention_vs_count(results: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, (view, view_name) in zip(axes, VIEWS):
        for i, result in enumerate(results):
            xs, ys = _binned_retention(result.get("items", []), view)
            if xs:
                ax.plot(xs, ys, marker="o", color=color(i), label=label(str(result.get("method", "?"))))
        ax.set_xlabel("log10(pre-training count)")
        ax.set_title(f"{view_name} view")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("retention of known facts")
    _legend(fig, *axes)
    fig.suptitle("Retention of known facts against pre-training count, targeted stratum (all seeds, binned)")
    return _save(fig, out_dir, "retention_vs_count")


def prob_vs_gen(results: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.6))
    markers = {"low": "o", "medium": "s", "high": "^"}
    for i, result in enumerate(results):
        labelled = False
        for b in STRATA:
            gen, prob = _metric(result, f"forget_gen/{b}"), _metric(result, f"forget_prob/{b}")
            if gen is None or prob is None:
                continue
            ax.scatter([gen[0]], [prob[0]], color=color(i), marker=markers[b], s=50,
                       label=None if labelled else label(str(result.get("method", "?"))))
            labelled = True
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("generation view: ROUGE-L recall forgetting (net)")
    ax.set_ylabel("probability view: gold log p forgetting (net, nats)")
    ax.set_title("Probability vs generation view\n(o low, ■ medium, ▲ high count)", fontsize=10)
    ax.grid(alpha=0.3)
    _legend(fig, ax)
    return _save(fig, out_dir, "prob_vs_gen")


def _bar(ax: Any, x: float, m: tuple[float, float, float] | None, colour: str, **kwargs: Any) -> None:
    if m is not None:
        ax.bar([x], [m[0]], width=0.6, yerr=[[max(0.0, m[0] - m[1])], [max(0.0, m[2] - m[0])]], capsize=4,
               color=colour, **kwargs)


# the per-method view: one panel per score (their units differ), strata on the x axis
STRATA_PANELS = (("forget_prob", "gold log p forgetting (nats)"), ("forget_gen", "ROUGE-L recall forgetting"),
                 ("erased", "erased share of known facts"))


def method_strata(result: Mapping[str, Any], index: int, out_dir: Path, name: str) -> list[Path]:
    """One method's per-stratum bars: net targeted forgetting in both views and the erased share (95%
    intervals as error bars); the log p panel adds the collateral cost (hatched), same unit."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(STRATA_PANELS), figsize=(11, 3.6))
    for ax, (prefix, ylabel) in zip(axes, STRATA_PANELS):
        for j, b in enumerate(STRATA):
            _bar(ax, j, _metric(result, f"{prefix}/{b}"), color(index))
        ticks = [f"{b}\n(targeted)" for b in STRATA]
        if prefix == "forget_prob":
            _bar(ax, len(STRATA), _metric(result, "collateral"), "white", edgecolor=color(index), hatch="//")
            ticks.append("collateral\n(untargeted)")
        ax.set_xticks(range(len(ticks)), ticks, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.axhline(0, color="grey", lw=0.8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{label(str(result.get('method', '?')))}: forgetting per targeted stratum, net of the untargeted"
                 " control (95% interval)", fontsize=10)
    fig.tight_layout()
    return _save(fig, out_dir, name)


def method_curves(result: Mapping[str, Any], index: int, out_dir: Path, name: str) -> list[Path] | None:
    """One method's forgetting curves as its run records report them: per targeted stratum, forget
    (solid) and retain (dashed) over steps, one line per seed; None when no run has evaluations."""
    runs = [r for r in run_curves(result) if r["evaluations"]]
    if not runs:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(STRATA), figsize=(11, 3.4), sharey=False)
    markers = "osD^vx+*"
    for ax, b in zip(axes, STRATA):
        mine = [r for r in runs if r["target"] == b]
        metrics = sorted({m for r in mine if (m := curve_metric(r["evaluations"]))})
        for k, r in enumerate(mine):
            metric = curve_metric(r["evaluations"])
            for part, style in (("forget", "-"), ("retain", "--")):
                pts = [(e["step"], e[part][metric]) for e in r["evaluations"]
                       if isinstance((e.get(part) or {}).get(metric), (int, float))]
                if pts:
                    ax.plot(*zip(*pts), style, marker=markers[k % len(markers)], ms=4, color=color(index),
                            alpha=1.0 if part == "forget" else 0.6, label=f"{part}, seed {r['seed']}")
        ax.set_title(f"{b} targeted" + ("" if mine else " (no evaluations)"), fontsize=9)
        ax.set_xlabel("step", fontsize=9)
        ax.set_ylabel(label(", ".join(metrics)) or "-", fontsize=9)
        ax.grid(alpha=0.3)
        if mine:
            ax.legend(fontsize=7)
    fig.suptitle(f"{label(str(result.get('method', '?')))}: forgetting curves as reported by the submitter's run records"
                 " (not verified: the leaderboard evaluates final checkpoints)", fontsize=10)
    fig.tight_layout()
    return _save(fig, out_dir, name)


@dataclass
class MethodView:
    """What the per-method view (static page and Gradio) shows of one result."""

    view_id: str  # "view-<n>", n its position in the ranking
    method: str
    submission_id: str
    table: list[dict[str, Any]]  # ranking.method_table
    strata: Path  # PNG (an SVG sits next to it)
    curves: Path | None  # PNG, None when no run has per-step evaluations
    note: str | None  # ranking.curves_note
    choice: str = ""  # the name in the method chooser: the method, plus its id when two share a name

    def __post_init__(self) -> None:
        self.choice = self.choice or self.method


def method_views(results: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]], out_dir: Path) -> list[MethodView]:
    """One view per result in ranked order (``rows`` from ``ranking.rank``), its plots written into
    ``out_dir`` as ``method_<n>_strata`` / ``method_<n>_curves`` (n: its position in the ranking), in
    the colour the board's plots give it (its position in ``results``)."""
    views = []
    for n, i in enumerate(ranked_order(results, rows), start=1):
        r = results[i]
        strata = method_strata(r, i, out_dir, f"method_{n}_strata")[0]
        curves = method_curves(r, i, out_dir, f"method_{n}_curves")
        views.append(MethodView(f"view-{n}", str(r.get("method", "")), str(r.get("submission_id", "")), method_table(r),
                                strata, curves[0] if curves else None, curves_note(r)))
    names = [v.method for v in views]
    for v in views:
        if names.count(v.method) > 1:
            v.choice = f"{v.method} ({v.submission_id[:8]})"
    return views


def all_plots(results: Sequence[Mapping[str, Any]], out_dir: Path) -> dict[str, list[Path]]:
    return {
        "forgetting_by_stratum": forgetting_by_stratum(results, out_dir),
        "retention_vs_count": retention_vs_count(results, out_dir),
        "prob_vs_gen": prob_vs_gen(results, out_dir),
    }
