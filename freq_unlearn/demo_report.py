"""The demo's analysis: the paper's two findings, tested on the run's own numbers.

Finding 1 (frequency): for each method, unlearning the high-count stratum leaves more of its known
facts than unlearning the low-count stratum (retention of known facts, per view; the frequency gap
= retention(high) - retention(low); Spearman of log(count) vs per-item retention; Fisher's exact
test of high vs low with Cohen's h as effect size). Compared at equal steps and, through the
in-run forget/retain curves, at equal utility.

Finding 2 (evaluation): the probability view and the generation view disagree about what was
forgotten (misalignment = retention_prob - retention_gen; disagreement = share of items known in
both views before on which exactly one view says forgotten after), more so as models grow.

The metric definitions are `freq_unlearn.tasks.metrics` (one place); this module only groups runs,
applies the decision rules stated in the report, and draws the plots.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from freq_unlearn.core.fsutil import atomic_write_text

if TYPE_CHECKING:
    from freq_unlearn.demo import Demo

STRATA = ("low", "medium", "high")
VIEWS = ("gen", "prob")
VIEW_NAMES = {"gen": "generation (exact-contains)", "prob": "probability (multiple choice)"}
COLORS = {"low": "#55A868", "medium": "#DD8452", "high": "#C44E52"}


def _records(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["records"]


def _fmt(est: dict[str, Any] | None, pct: bool = True) -> str:
    if not est or est.get("value") is None or (isinstance(est["value"], float) and math.isnan(est["value"])):
        return "n/a"
    f = (lambda v: f"{100 * v:.0f}%") if pct else (lambda v: f"{v:+.2f}")
    lo, hi = est.get("ci_low"), est.get("ci_high")
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return f(est["value"])
    return f"{f(est['value'])} [{f(lo)}, {f(hi)}]"


def _cohens_h(p1: float, p2: float) -> float:
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


class Analysis:
    """Per (size, method): the paired BEFORE/AFTER columns of its runs and their aggregates."""

    def __init__(self, demo: "Demo") -> None:
        from freq_unlearn.tasks import metrics as m

        self.demo, self.m = demo, m
        p = demo.preset
        self.sizes = list(p.sizes)
        self.base = {size: _records(demo.eval_file(size)) for size in self.sizes}
        self.params = {size: json.loads((demo.model_dir(size) / "pretrain_record.json").read_text())["parameters"]
                       for size in self.sizes}
        self.methods = {size: list(p.methods if size == p.main_size else p.sweep_methods) for size in self.sizes}
        self.columns: dict[tuple[str, str], dict[str, list]] = {}
        self.utility: dict[tuple[str, str], dict[str, Any]] = {}
        self._reports: dict[tuple[str, str], dict[str, Any]] = {}
        self.per_run: list[dict[str, Any]] = []
        for size in self.sizes:
            for method in self.methods[size]:
                self._collect(size, method)

    def _collect(self, size: str, method: str) -> None:
        m, demo = self.m, self.demo
        forget_runs, retain_runs = [], []
        for stratum in STRATA:
            for seed in demo.preset.seeds:
                after = _records(demo.eval_file(size, method, stratum, seed))
                paired = m.pair_runs(self.base[size], after, run=str(seed))
                cols = {k: np.asarray(v) for k, v in paired.as_columns().items()}
                on_target = cols["stratum"] == stratum
                forget_runs.append({k: v[on_target].tolist() for k, v in cols.items()})
                retain = {k: v[cols["stratum"] == "retain"].tolist() for k, v in cols.items()}
                retain_runs.append(retain)
                single = m.unlearning_report({k: v[on_target] for k, v in cols.items()}, n_boot=0)
                util = m.retention(retain, n_boot=0)
                self.per_run.append({
                    "size": size, "method": method, "stratum": stratum, "seed": seed,
                    "retention_gen": single[f"retention_gen/{stratum}"]["value"],
                    "retention_prob": single[f"retention_prob/{stratum}"]["value"],
                    "misalignment": single[f"misalignment/{stratum}"]["value"],
                    "disagreement": single[f"disagreement/{stratum}"]["value"],
                    "retain_retention_gen": util["retention_gen/retain"]["value"],
                })
        self.columns[(size, method)] = {k: sum((r[k] for r in forget_runs), []) for k in forget_runs[0]}
        self.utility[(size, method)] = {k: sum((r[k] for r in retain_runs), []) for k in retain_runs[0]}

    def report(self, size: str, method: str) -> dict[str, Any]:
        """The aggregates of one (size, method), computed once: they bootstrap every statistic."""
        key = (size, method)
        if key not in self._reports:
            self._reports[key] = self.m.unlearning_report(self.columns[key], n_boot=500, seed=0)
        return self._reports[key]

    def fisher(self, size: str, method: str, view: str) -> dict[str, float]:
        """High vs low: per-item still-known among items known before, pooled over seeds."""
        from scipy import stats

        cols = {k: np.asarray(v) for k, v in self.columns[(size, method)].items()}
        metric = self.m.VIEWS[view]
        known = np.nan_to_num(cols[f"{metric}_before"].astype(float)) >= 1
        still = np.nan_to_num(cols[f"{metric}_after"].astype(float)) >= 1
        table, props = [], []
        for stratum in ("high", "low"):
            mask = known & (cols["stratum"] == stratum)
            k, n = int(still[mask].sum()), int(mask.sum())
            table.append([k, n - k])
            props.append(k / n if n else math.nan)
        if any(sum(row) == 0 for row in table):
            return {"p_value": math.nan, "cohens_h": math.nan, "n_high": sum(table[0]), "n_low": sum(table[1])}
        p_value = float(stats.fisher_exact(table).pvalue)
        return {"p_value": p_value, "cohens_h": _cohens_h(props[0], props[1]),
                "n_high": sum(table[0]), "n_low": sum(table[1])}


def verdict(est: dict[str, Any], positive_means: str = "reproduced") -> str:
    """The decision rule, fixed in advance: the 95% interval decides."""
    lo, hi, v = est.get("ci_low"), est.get("ci_high"), est.get("value")
    if v is None or math.isnan(v) or lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return "inconclusive"
    if lo > 0:
        return positive_means
    if hi < 0:
        return "not reproduced (opposite direction)"
    return "inconclusive"


def tradeoff_curves(demo: "Demo", size: str, method: str) -> dict[str, list[tuple[int, float, float]]]:
    """Per stratum: (step, retain exact-contains, forget exact-contains) from the run records."""
    curves: dict[str, list[tuple[int, float, float]]] = {}
    for stratum in STRATA:
        points: dict[int, list[tuple[float, float]]] = {}
        for seed in demo.preset.seeds:
            rec = json.loads((demo.run_dir(size, method, stratum, seed) / "run_record.json").read_text())
            for e in rec["evaluations"]:
                if "exact_contains" in e.get("forget", {}) and "exact_contains" in e.get("retain", {}):
                    points.setdefault(e["step"], []).append((e["retain"]["exact_contains"], e["forget"]["exact_contains"]))
        curves[stratum] = [(step, float(np.mean([r for r, _ in v])), float(np.mean([f for _, f in v])))
                           for step, v in sorted(points.items())]
    return curves


def forget_at_equal_utility(curves: dict[str, list[tuple[int, float, float]]]) -> dict[str, float]:
    """Forget accuracy (relative to its start) of each stratum, interpolated at the retain accuracy
    that every stratum's curve reaches: the highest final retain accuracy among the strata."""
    usable = {s: c for s, c in curves.items() if len(c) >= 2}
    if len(usable) < 2:
        return {}
    level = max(c[-1][1] for c in usable.values())
    out = {}
    for s, c in usable.items():
        retain = np.array([r for _, r, _ in c])
        forget = np.array([f for _, _, f in c])
        if forget[0] <= 0:
            continue
        # retain accuracy falls along the run; interpolate forget accuracy where it crosses `level`
        order = np.argsort(retain)
        out[s] = float(np.interp(level, retain[order], forget[order]) / forget[0])
    return {"retain_level": level, **out}


# ---------------------------------------------------------------------- plots

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_retention(analysis: Analysis, size: str, path: Path) -> None:
    plt = _plt()
    methods = analysis.methods[size]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    width = 0.8 / len(STRATA)
    for ax, view in zip(axes, VIEWS):
        for j, stratum in enumerate(STRATA):
            vals, errs = [], [[], []]
            for method in methods:
                est = analysis.report(size, method)[f"retention_{view}/{stratum}"]
                v = est["value"]
                vals.append(v)
                lo, hi = est["ci_low"], est["ci_high"]
                errs[0].append(0 if math.isnan(lo) else max(0.0, v - lo))
                errs[1].append(0 if math.isnan(hi) else max(0.0, hi - v))
            x = np.arange(len(methods)) + (j - 1) * width
            ax.bar(x, vals, width, yerr=errs, capsize=2, label=f"forget_{stratum}", color=COLORS[stratum])
        ax.set_xticks(np.arange(len(methods)), methods)
        ax.set_title(f"{VIEW_NAMES[view]} view")
        ax.set_ylim(0, 1.05)
    axes[0].set_ylabel("retention of known facts\n(after / before unlearning)")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"Forget retention per stratum, model {size} ({analysis.params[size]:,} parameters); lower = more forgotten")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_retention_vs_count(analysis: Analysis, size: str, path: Path) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, view in zip(axes, VIEWS):
        for method in analysis.methods[size]:
            cols = {k: np.asarray(v) for k, v in analysis.columns[(size, method)].items()}
            metric = analysis.m.VIEWS[view]
            known = np.nan_to_num(cols[f"{metric}_before"].astype(float)) >= 1
            xs, ys = [], []
            for c in sorted(set(cols["count"][known].tolist())):
                mask = known & (cols["count"] == c)
                xs.append(c)
                ys.append(float((np.nan_to_num(cols[f"{metric}_after"][mask].astype(float)) >= 1).mean()))
            ax.plot(xs, ys, marker="o", label=method)
        ax.set_xscale("log")
        ax.set_xlabel("pre-training count of the fact (log scale)")
        ax.set_title(f"{VIEW_NAMES[view]} view")
    axes[0].set_ylabel("retention of known facts")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_views_by_size(analysis: Analysis, path: Path) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    runs = analysis.per_run
    for stratum in STRATA:
        for ax, key in zip(axes, ("disagreement", "misalignment")):
            xs, ys = [], []
            for size in analysis.sizes:
                vals = [r[key] for r in runs if r["size"] == size and r["stratum"] == stratum
                        and r["method"] in analysis.demo.preset.sweep_methods and not math.isnan(r[key])]
                if vals:
                    xs.append(analysis.params[size])
                    ys.append(float(np.mean(vals)))
            ax.plot(xs, ys, marker="o", color=COLORS[stratum], label=f"forget_{stratum}")
    for ax, title in zip(axes, ("disagreement (share of items the two views judge differently)",
                                "misalignment (retention prob - retention gen)")):
        ax.set_xscale("log")
        ax.set_xlabel("model parameters")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_prob_vs_gen(analysis: Analysis, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    markers = dict(zip(analysis.sizes, "os^Dv"))
    for r in analysis.per_run:
        ax.scatter(r["retention_gen"], r["retention_prob"], marker=markers[r["size"]], color=COLORS[r["stratum"]],
                   alpha=0.6, s=18)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("retention, generation view")
    ax.set_ylabel("retention, probability view")
    ax.set_title("Each point: one run (colour: stratum; marker: size)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_tradeoff(demo: "Demo", analysis: Analysis, size: str, path: Path) -> None:
    plt = _plt()
    methods = analysis.methods[size]
    cols = min(4, len(methods))
    rows = math.ceil(len(methods) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False)
    for ax, method in zip(axes.flat, methods):
        curves = tradeoff_curves(demo, size, method)  # reads the run records once per method
        for stratum in STRATA:
            c = curves[stratum]
            if c:
                ax.plot([r for _, r, _ in c], [f for _, _, f in c], marker=".", color=COLORS[stratum], label=stratum)
        ax.set_title(method, fontsize=9)
        ax.invert_xaxis()
        ax.set_xlabel("retain accuracy", fontsize=8)
        ax.set_ylabel("forget accuracy", fontsize=8)
    for ax in list(axes.flat)[len(methods):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Forget vs utility along each run (model {size}); curves to the lower left are better", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------- report

def write_report(demo: "Demo", seconds: float) -> Path:
    out = demo.out
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    a = Analysis(demo)
    p = demo.preset
    main = p.main_size
    L: list[str] = ["# freq-unlearn demo: frequency and unlearning on a synthetic world", ""]
    world = json.loads((demo.world_dir / "world.json").read_text())
    ws = world["summary"]
    check = json.loads((out / "counts" / "check.json").read_text())
    L += [
        f"World `{world['config']['design']}` (seed {world['seed']}): {ws['people']} people, {ws['facts']} facts, "
        f"{ws['documents']} documents; biography copies per person: "
        + ", ".join(f"{g} x{c}" for g, c in _copies(world).items()) + ". "
        f"Counting (`scan` backend) matched the world's true counts on {check['exact']}/{check['facts']} facts.",
        "",
        f"Settings, fixed before any result was seen (`demo_settings.json`): methods {', '.join(p.methods)} on model "
        f"`{main}`; {', '.join(p.sweep_methods)} on every size ({', '.join(p.sizes)}); seeds {list(p.seeds)}; "
        f"unlearning {json.dumps(p.unlearn)}; lm-eval items per split: {p.eval_limit or 'all'}.",
        "",
        "## Pre-trained models", "",
        "| model | parameters | retain | high | medium | low | utility |", "|---|---|---|---|---|---|---|",
    ]
    for size in a.sizes:
        rep = json.loads((demo.model_dir(size) / "knowledge" / "report.json").read_text())
        cells = [f"{rep['by_group'][g]['accuracy']:.0%}" if g in rep["by_group"] else "-"
                 for g in ("retain", "high", "medium", "low", "utility")]
        L.append(f"| {size} | {a.params[size]:,} | " + " | ".join(cells) + " |")
    L += ["", "Greedy QA accuracy before unlearning (hidden QA for every group but retain). "
          "Retention below is measured on the facts each model knew before unlearning.", ""]

    # ---- Finding 1
    L += ["## Finding 1: are more frequent facts harder to unlearn?", "",
          "Retention = share of the facts known before unlearning that are still known after (lower = "
          "more forgotten), after the same number of steps on each stratum. Intervals: 95%, "
          + ("Student-t over seeds." if len(p.seeds) > 1 else "bootstrap over items (one seed).")
          + " Frequency gap = retention(high) - retention(low); the paper's finding predicts a gap > 0. "
          "Rule, fixed in advance: *reproduced* when the gap's 95% interval lies above 0, *not reproduced* "
          "when it lies below 0, *inconclusive* otherwise.", "",
          f"![retention per stratum](plots/retention_{main}.png)", "",
          f"![retention against count](plots/retention_vs_count_{main}.png)", ""]
    verdicts: dict[str, list[str]] = {v: [] for v in VIEWS}
    for size in a.sizes:
        L += [f"### Model `{size}` ({a.params[size]:,} parameters)", "",
              "| method | view | low | medium | high | gap (high-low) | Spearman log(count) | Fisher p | Cohen's h | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        for method in a.methods[size]:
            rep = a.report(size, method)
            for view in VIEWS:
                fisher = a.fisher(size, method, view)
                v = verdict(rep[f"frequency_gap_{view}"])
                if size == main:
                    verdicts[view].append(v)
                L.append(
                    f"| {method} | {view} | " + " | ".join(_fmt(rep[f"retention_{view}/{s}"]) for s in STRATA)
                    + f" | {_fmt(rep[f'frequency_gap_{view}'], pct=False)} | {_fmt(rep[f'spearman_{view}'], pct=False)}"
                    + f" | {fisher['p_value']:.3g} | {fisher['cohens_h']:+.2f} | {v} |")
        L += [""]
    for view in VIEWS:
        counts = {k: verdicts[view].count(k) for k in sorted(set(verdicts[view]))}
        L.append(f"- **{VIEW_NAMES[view]} view, model `{main}`:** " + ", ".join(f"{n} {k}" for k, n in counts.items())
                 + f" (of {len(verdicts[view])} methods).")
    L += ["", "### At equal utility", "",
          "Unlearning one stratum also costs retain accuracy, and not equally for every stratum, so equal steps "
          "are not equal cost. The curves follow each run (in-run metrics on the first "
          f"{p.unlearn.get('metrics_max_items', 'n')} items of the forget and retain splits, every "
          f"{p.unlearn.get('metrics_steps', 'n')} steps); the table gives each stratum's forget accuracy, "
          "relative to its start, at the retain accuracy that all three strata reach.", "",
          f"![trade-off](plots/tradeoff_{main}.png)", "",
          "| method | retain accuracy level | low | medium | high | retain retention at the end (low / medium / high) |",
          "|---|---|---|---|---|---|"]
    for method in a.methods[main]:
        eq = forget_at_equal_utility(tradeoff_curves(demo, main, method))
        ends = []
        for s in STRATA:
            vals = [r["retain_retention_gen"] for r in a.per_run
                    if r["size"] == main and r["method"] == method and r["stratum"] == s]
            ends.append(f"{np.nanmean(vals):.0%}" if vals else "n/a")
        if eq:
            L.append(f"| {method} | {eq['retain_level']:.0%} | " + " | ".join(
                f"{eq[s]:.0%}" if s in eq else "n/a" for s in STRATA) + f" | {' / '.join(ends)} |")
        else:
            L.append(f"| {method} | n/a | n/a | n/a | n/a | {' / '.join(ends)} |")

    # ---- Finding 2
    L += ["", "## Finding 2: do the probability and generation views disagree more in larger models?", "",
          "Misalignment(b) = retention_prob(b) - retention_gen(b) (> 0: the probability view still finds "
          "knowledge that generation calls forgotten). Disagreement(b) = among items known in both views "
          "before, the share on which exactly one view says forgotten after. Methods run on every size: "
          f"{', '.join(p.sweep_methods)}. Rule, fixed in advance: *reproduced* when disagreement grows with "
          "size (largest minus smallest model > 0 with its 95% Welch interval above 0), *not reproduced* when "
          "it shrinks (interval below 0), *inconclusive* otherwise.", "",
          "![views by size](plots/views_by_size.png)", "", "![prob vs gen](plots/prob_vs_gen.png)", "",
          "| model | parameters | stratum | misalignment (mean over runs) | disagreement (mean over runs) | runs |",
          "|---|---|---|---|---|---|"]
    for size in a.sizes:
        for s in STRATA:
            rs = [r for r in a.per_run if r["size"] == size and r["stratum"] == s and r["method"] in p.sweep_methods]
            mis = [r["misalignment"] for r in rs if not math.isnan(r["misalignment"])]
            dis = [r["disagreement"] for r in rs if not math.isnan(r["disagreement"])]
            L.append(f"| {size} | {a.params[size]:,} | {s} | {np.mean(mis):+.2f} | {np.mean(dis):.2f} | {len(rs)} |"
                     if mis and dis else f"| {size} | {a.params[size]:,} | {s} | n/a | n/a | {len(rs)} |")
    L += ["", _finding2(a, p), ""]

    # ---- Leaderboard and stages
    board = out / "leaderboard" / "site" / "leaderboard.md"
    if board.exists():
        L += ["## Leaderboard", "",
              f"Methods unlearning `forget_{p.leaderboard_stratum}` of model `{main}`, scored by the leaderboard "
              "(`leaderboard/site/index.html`):", "", board.read_text(), ""]
    L += ["## Stages", "", "| stage | seconds | reused |", "|---|---|---|"]
    L += [f"| {s['stage']} | {s['seconds']} | {s['reused']} |" for s in demo.log]
    L += ["", f"Wall time of this invocation: {seconds:.0f} s.", ""]

    plot_retention(a, main, plots / f"retention_{main}.png")
    plot_retention_vs_count(a, main, plots / f"retention_vs_count_{main}.png")
    plot_tradeoff(demo, a, main, plots / f"tradeoff_{main}.png")
    plot_views_by_size(a, plots / "views_by_size.png")
    plot_prob_vs_gen(a, plots / "prob_vs_gen.png")
    for size in a.sizes:
        if size != main:
            plot_retention(a, size, plots / f"retention_{size}.png")
    atomic_write_text(out / "results.json", json.dumps(
        {"per_run": a.per_run, "per_method": {f"{s}/{m}": a.report(s, m) for s, m in a.columns}}, indent=1, default=float))
    path = out / "report.md"
    atomic_write_text(path, "\n".join(L))
    return path


def _copies(world: dict[str, Any]) -> dict[str, int]:
    c = world["config"]
    if c["design"] == "paper":
        return {"high": c["high_copies"], "low": 1}
    if c["design"] == "tiered":
        return {"high": c["high_copies"], "medium": c["medium_copies"], "low": 1}
    return {"graded": c["graded_max"]}


def _finding2(a: Analysis, p: Any) -> str:
    from scipy import stats

    small, large = a.sizes[0], a.sizes[-1]
    if small == large:
        return "**Verdict: inconclusive** — one model size only (run the default preset for a size sweep)."
    x = [r["disagreement"] for r in a.per_run if r["size"] == small and r["method"] in p.sweep_methods and not math.isnan(r["disagreement"])]
    y = [r["disagreement"] for r in a.per_run if r["size"] == large and r["method"] in p.sweep_methods and not math.isnan(r["disagreement"])]
    if len(x) < 2 or len(y) < 2:
        return "**Verdict: inconclusive** — too few runs with items known in both views."
    diff = float(np.mean(y) - np.mean(x))
    vx, vy = np.var(x, ddof=1) / len(x), np.var(y, ddof=1) / len(y)
    se = math.sqrt(vx + vy)
    dof = (vx + vy) ** 2 / ((vx ** 2) / (len(x) - 1) + (vy ** 2) / (len(y) - 1)) if se > 0 else 1
    half = float(stats.t.ppf(0.975, dof) * se) if se > 0 else 0.0
    est = {"value": diff, "ci_low": diff - half, "ci_high": diff + half}
    v = verdict(est)
    return (f"**Verdict: {v}** — disagreement {np.mean(y):.2f} on `{large}` ({a.params[large]:,} parameters) vs "
            f"{np.mean(x):.2f} on `{small}` ({a.params[small]:,}): difference {diff:+.2f}, 95% Welch interval "
            f"[{diff - half:+.2f}, {diff + half:+.2f}] over {len(y)} and {len(x)} runs.")
