"""Plots for the page and the static export (matplotlib, Agg backend, PNG + SVG).

* ``forgetting_by_stratum``: per method, targeted forgetting of each stratum net of the untargeted
  control, in each view, with the 95% interval as error bars;
* ``retention_vs_count``: per method, per-item retention against log10(count) on the targeted
  stratum (facts grouped into count bins; the share of known facts still known per bin);
* ``prob_vs_gen``: probability-view against generation-view net forgetting per method and
  stratum: the two views disagreeing.

A method has the same colour in every plot (``color``: its position in the results).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
    """A method's colour, the same in every plot: its position in the ranked results."""
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


def all_plots(results: Sequence[Mapping[str, Any]], out_dir: Path) -> dict[str, list[Path]]:
    return {
        "forgetting_by_stratum": forgetting_by_stratum(results, out_dir),
        "retention_vs_count": retention_vs_count(results, out_dir),
        "prob_vs_gen": prob_vs_gen(results, out_dir),
    }
