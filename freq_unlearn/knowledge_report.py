"""The knowledge report written after pre-training: per group and relation, greedy QA accuracy
and gold-answer probability, as Parquet (per fact), JSON, Markdown and a PNG plot."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from freq_unlearn.core import schema
from freq_unlearn.core.fsutil import atomic_write_text
from freq_unlearn.knowledge import score_facts

GROUP_ORDER = (schema.GROUP_RETAIN, schema.GROUP_HIGH, schema.GROUP_MEDIUM, schema.GROUP_LOW,
               schema.GROUP_GRADED, schema.GROUP_UTILITY)


def _wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (statsmodels)."""
    if n == 0:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return (float(lo), float(hi))


def summarize(scored) -> dict[str, Any]:
    """Accuracy (with a Wilson interval) and mean gold probability per group, per relation,
    and per count for the graded design."""
    def block(df) -> dict[str, Any]:
        k, n = int(df["correct"].sum()), len(df)
        lo, hi = _wilson(k, n)
        return {"n": n, "accuracy": k / n if n else math.nan, "accuracy_ci95": [lo, hi],
                "mean_answer_prob": float(df["answer_prob"].mean()) if n else math.nan}

    groups = [g for g in GROUP_ORDER if g in set(scored["group"])]
    out: dict[str, Any] = {"by_group": {}, "by_group_relation": {}, "by_count": {}}
    for g in groups:
        sub = scored[scored["group"] == g]
        out["by_group"][g] = block(sub)
        out["by_group"][g]["true_count"] = sorted({int(c) for c in sub["true_count"]})
        out["by_group_relation"][g] = {r: block(sub[sub["relation"] == r]) for r in schema.RELATIONS}
    hidden = scored[scored["group"].isin(schema.FORGET_GROUPS)]
    for c in sorted({int(c) for c in hidden["true_count"]}):
        out["by_count"][str(c)] = block(hidden[hidden["true_count"] == c])
    return out


def to_markdown(summary: dict[str, Any], title: str) -> str:
    lines = [f"# {title}", "",
             "Greedy QA accuracy (normalized exact-contains of the gold answer in the continuation, "
             "95% Wilson interval) and mean gold-answer probability. Retain QA pairs are in the "
             "training corpus; all other groups' QA is hidden (answering needs knowledge extracted "
             "from biographies).", "",
             "| group | true count per fact | facts | accuracy | 95% CI | mean p(answer) |",
             "|---|---|---|---|---|---|"]
    for g, b in summary["by_group"].items():
        lo, hi = b["accuracy_ci95"]
        counts = ", ".join(map(str, b["true_count"]))
        lines.append(f"| {g} | {counts} | {b['n']} | {b['accuracy']:.1%} | {lo:.1%}-{hi:.1%} | "
                     f"{b['mean_answer_prob']:.3f} |")
    lines += ["", "## Accuracy per relation", "",
              "| group | " + " | ".join(schema.RELATIONS) + " |",
              "|---|" + "---|" * len(schema.RELATIONS)]
    for g, rels in summary["by_group_relation"].items():
        lines.append(f"| {g} | " + " | ".join(f"{rels[r]['accuracy']:.0%}" for r in schema.RELATIONS) + " |")
    lines += ["", "![accuracy per group](accuracy.png)", ""]
    return "\n".join(lines)


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(summary["by_group"])
    acc = [summary["by_group"][g]["accuracy"] for g in groups]
    # Wilson bounds at 0% or 100% can land a rounding error inside the estimate (matplotlib refuses
    # a negative error bar)
    err = [[max(0.0, a - summary["by_group"][g]["accuracy_ci95"][0]) for g, a in zip(groups, acc)],
           [max(0.0, summary["by_group"][g]["accuracy_ci95"][1] - a) for g, a in zip(groups, acc)]]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(groups, acc, yerr=err, capsize=4, color="#4C72B0")
    ax.set_ylim(0, 1)
    ax.set_ylabel("greedy QA accuracy")
    ax.set_title("What the pre-trained model knows, per group")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_knowledge_report(model, tokenizer, world, out_dir: Path) -> dict[str, Any]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scored = score_facts(model, tokenizer, world.facts())
    scored.to_parquet(out_dir / "facts_scored.parquet", index=False)
    summary = summarize(scored)
    atomic_write_text(out_dir / "report.json", json.dumps(summary, indent=2))
    plot(summary, out_dir / "accuracy.png")
    atomic_write_text(out_dir / "report.md", to_markdown(summary, "Knowledge report"))
    return summary
