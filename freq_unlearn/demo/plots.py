"""The demo report's figures (PNG, matplotlib's Agg backend): one function per figure."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from freq_unlearn.core.schema import STRATA

STRATUM_COLORS = {"low": "#4C72B0", "medium": "#DD8452", "high": "#55A868"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _value(entry: dict[str, Any] | None, key: str = "value") -> float:
    if not entry or entry.get(key) is None:
        return math.nan
    return float(entry[key])


def net_forgetting_by_stratum(strata_rows: list[dict[str, Any]], methods: tuple[str, ...], probes: tuple[str, ...],
                              path: Path) -> Path:
    """Bars: net forgetting of the gold log-probability per method and stratum, one panel per probe."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(probes), figsize=(5.2 * len(probes), 3.6), squeeze=False)
    width = 0.8 / len(STRATA)
    for ax, probe in zip(axes[0], probes):
        for j, stratum in enumerate(STRATA):
            rows = {r["method"]: r["net"] for r in strata_rows if r["probe"] == probe and r["stratum"] == stratum}
            values = np.array([_value(rows.get(m)) for m in methods])
            low = np.array([_value(rows.get(m), "low") for m in methods])
            high = np.array([_value(rows.get(m), "high") for m in methods])
            err = np.nan_to_num(np.vstack([values - low, high - values]), nan=0.0).clip(min=0)
            x = np.arange(len(methods)) + (j - 1) * width
            ax.bar(x, values, width, yerr=err, capsize=2, color=STRATUM_COLORS[stratum], label=f"forget_{stratum}")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks(np.arange(len(methods)), methods)
        ax.set_title(f"{probe.upper()} probe")
        ax.set_ylabel("net forgetting of log p(gold)\n(targeted - untargeted control)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("What each run forgot of the stratum it targeted, beyond general damage (95% intervals over models)",
                  fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def net_forgetting_vs_count(outcomes: Any, methods: tuple[str, ...], path: Path) -> Path:
    """Per method: mean net forgetting (QA probe, log-probability) per pre-training count, per model."""
    from freq_unlearn.tasks.pairing import targeted_net

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    for method in methods:
        net = targeted_net(outcomes[(outcomes["method"] == method) & (outcomes["probe"] == "qa")], "logprob")
        means = net.groupby("count")["net"].mean()
        ax.plot(means.index, means.to_numpy(), marker="o", label=method)
    ax.set_xscale("log")
    ax.set_xlabel("pre-training count of the fact (log scale)")
    ax.set_ylabel("net forgetting of log p(gold), QA")
    ax.axhline(0, color="grey", lw=0.8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def equal_utility(rows: list[dict[str, Any]], methods: tuple[str, ...], path: Path) -> Path:
    """Targeted forgetting of log p(gold) per stratum at each level of retain-accuracy loss."""
    plt = _plt()
    rows = [r for r in rows if r["measure"] == "logprob"]
    levels = sorted({r["level"] for r in rows})
    fig, axes = plt.subplots(1, max(len(levels), 1), figsize=(5 * max(len(levels), 1), 3.4), squeeze=False)
    width = 0.8 / len(STRATA)
    for ax, level in zip(axes[0], levels):
        by_method = {r["method"]: r for r in rows if r["level"] == level}
        for j, stratum in enumerate(STRATA):
            values = np.array([_value(by_method.get(m, {}).get(stratum)) for m in methods])
            x = np.arange(len(methods)) + (j - 1) * width
            ax.bar(x, np.nan_to_num(values), width, color=STRATUM_COLORS[stratum], label=f"forget_{stratum}")
            for xi, v in zip(x, values):
                if not math.isfinite(v):
                    ax.text(xi, 0, "n/r", ha="center", va="bottom", fontsize=6, rotation=90)
        ax.set_xticks(np.arange(len(methods)), methods)
        ax.set_title(f"retain accuracy down {level:.0%}", fontsize=9)
        ax.set_ylabel("forgetting of log p(gold)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("At equal utility cost (n/r: the level was not reached)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
